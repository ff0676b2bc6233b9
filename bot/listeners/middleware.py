"""The Bolt middleware the listeners share.

- `Share`, a global middleware registered right after `MembersOnly` (bot/membership.py): puts the
  `Services` of bot/app.py in each request's context, so a listener simply takes `services` as
  an argument (Bolt injects whatever the context holds, by name).
- `Language`, a global middleware registered right after `Share`: puts the acting person's language
  in the context as `language`, a `LazyLanguage`: a listener takes `language` as an argument and
  calls `language()` for "en" or "fr". Looked up on the first call only, in the listener's thread,
  so nothing of it holds up Slack's acknowledgement (below), and a listener that writes nothing to
  the person pays nothing.
- `once`, around a listener: the duplicate-delivery claim, written once. `key_of(body)` names
  the request (the event's id, a command's trigger, a click's message); after Slack is
  acknowledged, the first delivery claims it (`Services.first_time` -> `storage.claim_event`) and
  goes on to the listener; Slack's retry of it, or a second click, goes no further.
"""
from __future__ import annotations

import inspect
import logging
from typing import Any, Callable, Dict, Optional

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from ..texts import FALLBACK

log = logging.getLogger(__name__)

KeyOf = Callable[[Dict[str, Any]], Optional[str]]


class Share(Middleware):
    """Global middleware: `context["services"]`, for every listener and listener middleware."""

    def __init__(self, services: Any):
        self.services = services

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        req.context["services"] = self.services
        return next()


class LazyLanguage:
    """The language of the person who acted (Bolt's `context.user_id`), found on the first call:
    `services.languages.of(user, client)` (bot/language.py), their stored choice or the Slack locale
    that `MembersOnly` already asked `users.info` for, so Slack is not asked again. Without a
    person (some events), the pack's default language. It never fails the request: a lookup that
    raises (the database down) is logged and the pack's default used.

    Only the actor's: a message to anyone else (an approver, the requester told of a decision)
    asks `languages.of` for that person. A language chosen during the request (the conversation's
    "en français svp", the Home tab's buttons) is recorded by the code that hears it, which goes on
    in the new language itself (bot/conversation.py, `_switch`; listeners/events.py)."""

    __slots__ = ("_services", "_user", "_client", "_value")

    def __init__(self, services: Any, user: Optional[str], client: Any):
        self._services, self._user, self._client = services, user, client
        self._value: Optional[str] = None

    def __call__(self) -> str:
        if self._value is None:
            self._value = self._find()
        return self._value

    def _find(self) -> str:
        if self._user:
            try:
                return self._services.languages.of(self._user, self._client)
            except Exception:  # never fail the request for a language: the pack's default
                log.exception("the language of %s could not be found; the pack's default instead", self._user)
        return self._default()

    def _default(self) -> str:
        try:
            return self._services.policy().rules.pack.default_language
        except Exception:  # no policy to ask: the bot's own fallback
            log.exception("no policy for the default language; %s instead", FALLBACK)
            return FALLBACK


class Language(Middleware):
    """Global middleware, after `Share`: `context["language"]`, a `LazyLanguage` of the person who
    acted. Lazy on purpose: Bolt middleware runs before Slack is acknowledged, and the lookup is a
    primary-key read (about 0.8 ms on SQLite, bench/README.md), or, at worst, a policy reload's
    listeners, the first record of a Slack locale, or a database that does not answer. Called in
    the listener's thread, it costs what the listeners' own lookups cost before."""

    def __init__(self, services: Any):
        self.services = services

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        context = req.context
        context["language"] = LazyLanguage(self.services, context.user_id, context.client)
        return next()


def once(key_of: KeyOf, kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The duplicate-delivery claim, written once, around a listener: Slack is acknowledged first
    (Bolt acknowledges an event before its listener runs; a click or a command is acknowledged
    here), then `key_of(body)` is claimed (`Services.first_time` -> `storage.claim_event`) in the
    listener's thread, and only the first delivery reaches the listener. A key of None claims
    nothing and leaves the request to the listener, as `first_time` does; a payload the key cannot
    be read from is logged and not handled.

    Not Bolt middleware on purpose: middleware runs before Bolt answers Slack, so the claim's
    database write would delay every acknowledgement, and the stand-in's deliveries queue behind
    it (bench/README.md, "Issue 15: the figures, and what the claim's place costs")."""

    def wrap(listener: Callable[..., Any]) -> Callable[..., Any]:
        wanted = inspect.getfullargspec(listener).args
        names = list(dict.fromkeys([*wanted, "ack", "body", "services"]))

        def claimed(**kwargs: Any) -> None:
            kwargs["ack"]()  # a second ack() by the listener changes nothing: Slack has its answer
            try:
                first = kwargs["services"].first_time(key_of(kwargs["body"]), kind)
            except Exception:  # a payload without what names it (or a key that is not one)
                log.exception("%s: no claim for this %s; not handled", listener.__name__, kind)
                return
            if first:
                listener(**{name: kwargs[name] for name in wanted})

        # Bolt hands a listener the arguments its signature names: these, whatever the listener's own.
        claimed.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names])
        claimed.__name__ = listener.__name__
        claimed.__doc__ = listener.__doc__
        claimed.claim = (key_of, kind)  # type: ignore[attr-defined]  # what it claims, for the tests
        return claimed

    return wrap


def event_id(body: Dict[str, Any]) -> Optional[str]:
    """An Events API delivery's id: Slack retries an event with the same one (X-Slack-Retry-Num)."""
    return body.get("event_id")
