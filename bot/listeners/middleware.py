"""The Bolt middleware the listeners share.

- `Share`, a global middleware registered right after `MembersOnly` (bot/membership.py): puts the
  `Services` of bot/app.py in each request's context, so a listener simply takes `services` as
  an argument (Bolt injects whatever the context holds, by name).
- `Once`, a listener middleware: the duplicate-delivery claim, written once. `key_of(body)` names
  the request (the event's id, a command's trigger, a click's message); the first delivery
  claims it (`Services.first_time` -> `storage.claim_event`) and goes on to the listener; Slack's
  retry of it, or a second click, is acknowledged (Slack wants its 200) and goes no further.
  A key of None claims nothing and leaves the request to the listener, as `first_time` does.
  A payload the key cannot be read from is acknowledged, logged and not handled: what the
  listener did when it claimed after its own `ack()` and failed there.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

KeyOf = Callable[[Dict[str, Any]], Optional[str]]


class Share(Middleware):
    """Global middleware: `context["services"]`, for every listener and listener middleware."""

    def __init__(self, services: Any):
        self.services = services

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        req.context["services"] = self.services
        return next()


class Once(Middleware):
    """Listener middleware: the listener runs once per `key_of(body)` (of `kind`: "event",
    "command", "click"); a duplicate is acknowledged and not handled."""

    def __init__(self, key_of: KeyOf, kind: str):
        self.key_of = key_of
        self.kind = kind

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> Optional[BoltResponse]:
        try:
            first = req.context["services"].first_time(self.key_of(req.body), self.kind)
        except Exception:  # a payload without what names it (or a key that is not one): Slack still gets its 200
            log.exception("%s: no claim for this %s; not handled", self.name, self.kind)
            first = False
        if first:
            return next()
        return BoltResponse(status=200, body="")  # the acknowledgement; nothing else happens

    @property
    def name(self) -> str:
        return f"Once({getattr(self.key_of, '__name__', self.key_of)}, {self.kind})"


def event_id(body: Dict[str, Any]) -> Optional[str]:
    """An Events API delivery's id: Slack retries an event with the same one (X-Slack-Retry-Num)."""
    return body.get("event_id")
