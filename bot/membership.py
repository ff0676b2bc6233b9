"""Who may use microbuy: the members of the workspace the app is installed in, and no one else.

Slack delivers to the app what guests, people of other organisations (Slack Connect) and other
bots do, as it delivers what members do. `MembersOnly` is a Bolt global middleware: it runs
after Bolt has checked the signature and before any listener, for every event, command, click
and modal, so no entry point can forget it. It asks Slack who the person is (`users.info`,
scope `users:read`; the answer kept five minutes) and lets through only a member:

- `is_restricted` (a multi-channel guest) or `is_ultra_restricted` (a single-channel guest): refused;
- `team_id` other than the installed workspace's (`auth.test`, which Bolt calls at start-up), or
  `is_stranger`: someone of another workspace or organisation; refused (on Enterprise Grid, a
  member of the installed workspace is accepted whatever their home workspace);
- `is_bot`, `deleted` (deactivated), unknown to Slack: refused, without a word to a bot.

A refused person is told, in their Slack language: a DM answered in the DM, an ephemeral under
a mention or a click, the /buy command's own answer, the modal replaced by the message, the Home
tab showing it. Nothing reaches Rasa, the database or the approvals.

If Slack does not answer, a person known to be a member in the last hour stays one; anyone else
is refused ("cannot check who you are right now") and the log says why: an unknown person never
gets through.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .language import from_locale
from .texts import language_of, plain, t

log = logging.getLogger(__name__)

FRESH_S = 300  # Slack's answer about a person is used this long, then asked again
STALE_S = 3600  # while Slack does not answer, a member known this recently stays a member
# Seconds (an int: slack_sdk's WebClient takes its timeout as one). users.info runs before the acknowledgement,
# which Slack wants within 3 s.
LOOKUP_TIMEOUT_S = 2
MEMO_SIZE = 10_000
NOT_PEOPLE = ("user_not_found", "user_not_visible")  # Slack's definite "no such person for you"


@dataclass(frozen=True)
class Verdict:
    member: bool
    why: str  # for the log
    language: str = "en"  # of the refusal: the person's Slack locale
    checked: bool = True  # False: Slack could not be asked
    bot: bool = False  # never answered (no conversation between two bots)


def verdict_of(user: Mapping[str, Any], installed_team: Optional[str]) -> Verdict:
    """A member of `installed_team`, or why not, from Slack's user object."""
    language = language_of(from_locale(user.get("locale")))
    team = user.get("team_id")
    teams = (user.get("enterprise_user") or {}).get("teams") or ()
    if user.get("is_bot"):
        return Verdict(False, "a bot", language, bot=True)
    if user.get("deleted"):
        return Verdict(False, "deactivated", language)
    if user.get("is_ultra_restricted"):
        return Verdict(False, "a single-channel guest", language)
    if user.get("is_restricted"):
        return Verdict(False, "a guest", language)
    if user.get("is_stranger"):
        return Verdict(False, f"of another workspace ({team})", language)
    if not installed_team or (team != installed_team and installed_team not in teams):
        return Verdict(False, f"of another workspace ({team}, not {installed_team})", language)
    return Verdict(True, "a member", language)


class Membership:
    """`users.info` behind a memo of Slack's answers: `check(user, installed_team)` -> Verdict.

    One answer serves the language too: each one this asks is told to `heard` (bot/language.py),
    and one the language lookup asked is handed in with `remember`, so Slack is asked once."""

    def __init__(self, lookup: Callable[[str], Mapping[str, Any]], clock: Callable[[], float] = time.monotonic,
                 heard: Optional[Callable[[str, Any], None]] = None):
        self._lookup = lookup
        self._clock = clock
        self._heard = heard
        self._lock = threading.Lock()
        # user -> (Slack's user object, or None for "no such person"; when it was asked)
        self._memo: "OrderedDict[str, Tuple[Optional[Mapping[str, Any]], float]]" = OrderedDict()

    @classmethod
    def asking(cls, client: WebClient, clock: Callable[[], float] = time.monotonic,
               heard: Optional[Callable[[str, Any], None]] = None) -> "Membership":
        """Asking Slack through its own client: no retries after a 429 (the person waits for the
        acknowledgement meanwhile) and a short timeout."""
        quick = WebClient(token=client.token, base_url=client.base_url, timeout=LOOKUP_TIMEOUT_S)
        return cls(lambda user: quick.users_info(user=user, include_locale=True)["user"], clock, heard)

    def remember(self, user: str, answer: Mapping[str, Any]) -> None:
        """Slack's user object, asked for another reason: used as if asked here."""
        self._keep(user, answer, self._clock())

    def check(self, user: str, installed_team: Optional[str]) -> Verdict:
        now = self._clock()
        with self._lock:
            known = self._memo.get(user)
        if known and now - known[1] < FRESH_S:
            return _verdict(known[0], installed_team)
        try:
            answer: Optional[Mapping[str, Any]] = self._lookup(user)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error not in NOT_PEOPLE:
                return self._unanswered(user, installed_team, known, now, f"users.info: {error or exc}")
            answer = None
        except Exception as exc:  # noqa: BLE001 - Slack unreachable, a timeout: who they are is unknown
            return self._unanswered(user, installed_team, known, now, f"users.info: {exc.__class__.__name__}: {exc}")
        self._keep(user, answer, now)
        if answer is not None and self._heard is not None:
            self._heard(user, answer.get("locale"))
        return _verdict(answer, installed_team)

    def _keep(self, user: str, answer: Optional[Mapping[str, Any]], at: float) -> None:
        with self._lock:
            self._memo[user] = (answer, at)
            self._memo.move_to_end(user)
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)

    def _unanswered(self, user: str, installed_team: Optional[str], known, now: float, problem: str) -> Verdict:
        if known and now - known[1] < STALE_S and _verdict(known[0], installed_team).member:
            log.warning("could not ask Slack who %s is (%s); a member %.0f s ago, so still one", user, problem,
                        now - known[1])
            return _verdict(known[0], installed_team)
        log.warning("could not ask Slack who %s is (%s); refused, since an unknown person never gets through",
                    user, problem)
        return Verdict(False, f"not checked ({problem})", checked=False)


def _verdict(answer: Optional[Mapping[str, Any]], installed_team: Optional[str]) -> Verdict:
    return Verdict(False, "unknown to Slack") if answer is None else verdict_of(answer, installed_team)


class MembersOnly(Middleware):
    """The Bolt global middleware: members through, everyone else refused and told."""

    def __init__(self, membership: Membership):
        self.membership = membership
        # Telling someone they are refused is a Slack call; it never holds up the acknowledgement.
        self._tell = ThreadPoolExecutor(max_workers=2, thread_name_prefix="refusal")

    @classmethod
    def for_client(cls, client: WebClient, heard: Optional[Callable[[str, Any], None]] = None) -> "MembersOnly":
        return cls(Membership.asking(client, heard=heard))

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        context = req.context
        user = context.user_id
        authorized = context.authorize_result
        installed = authorized.team_id if authorized is not None else None
        if not user or (authorized is not None and user == authorized.bot_user_id):
            return next()  # no person acted (the app's own edits, app_uninstalled, ...)
        if context.team_id and installed and context.team_id != installed:
            verdict = Verdict(False, f"delivered for another workspace ({context.team_id})")
        else:
            verdict = self.membership.check(user, installed)
        if verdict.member:
            return next()
        body = req.body or {}
        kind = _kind(body)
        log.warning("refused %s from %s: %s", kind, user, verdict.why)
        if verdict.bot:
            return BoltResponse(status=200, body="")
        text_id = "membership.refused" if verdict.checked else "membership.unchecked"
        if kind == "command":  # the command's answer, shown to that person only
            return BoltResponse(status=200, body={"response_type": "ephemeral",
                                                  "text": t(text_id, verdict.language)})
        if kind == "view_submission":  # the modal becomes the message, with only a Close button
            return BoltResponse(status=200, body={"response_action": "update",
                                                  "view": refusal_modal(text_id, verdict.language)})
        if not req.headers.get("x-slack-retry-num"):  # a retried event: told the first time
            self._tell.submit(self._tell_person, context.client, body, kind, user, text_id, verdict.language)
        return BoltResponse(status=200, body="")

    @staticmethod
    def _tell_person(client: WebClient, body: Dict[str, Any], kind: str, user: str, text_id: str,
                     language: str) -> None:
        text = t(text_id, language)
        try:
            if kind == "message":  # their DM with the app: answered there
                client.chat_postMessage(channel=body["event"]["channel"], text=text)
            elif kind == "app_mention":
                client.chat_postEphemeral(channel=body["event"]["channel"], user=user, text=text)
            elif kind == "app_home_opened":
                client.views_publish(user_id=user, view=refusal_home(text_id, language))
            elif kind == "block_actions":
                channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
                if channel:
                    client.chat_postEphemeral(channel=channel, user=user, text=text)
                else:  # a button in a modal or on the Home tab
                    client.chat_postMessage(channel=user, text=text)
        except SlackApiError as exc:
            log.info("could not tell %s they were refused: %s", user, exc.response.get("error"))
        except Exception:  # a background courtesy; the refusal stands either way
            log.exception("could not tell %s they were refused", user)


def _kind(body: Mapping[str, Any]) -> str:
    """What the person did: "message" (in the app's DM), "app_mention", "app_home_opened", "command",
    "block_actions", "view_submission", ...; "" for what calls for no answer."""
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        if event.get("type") == "message":
            return "message" if event.get("channel_type") == "im" and not event.get("subtype") else ""
        if event.get("type") == "app_home_opened":
            return "app_home_opened" if event.get("tab") == "home" else ""
        return str(event.get("type") or "")
    if "command" in body:
        return "command"
    return str(body.get("type") or "")


def refusal_modal(text_id: str, language: str) -> Dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "microbuy"},
            "close": {"type": "plain_text", "text": plain("membership.close", language)},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": t(text_id, language)}}]}


def refusal_home(text_id: str, language: str) -> Dict[str, Any]:
    return {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": t(text_id, language)}}]}
