"""The language each person is served in (English or French, as the pack allows).

    languages = Languages(sessions, policy)
    language = languages.of(user_id, client)          # "en" or "fr"
    languages.choose(user_id, "fr", "app_home")         # the person's own choice, from then on

In order, the first that gives one of the pack's `languages`:

1. **The person's own choice**, stored (`storage.set_language`, source `conversation` when they
   said so in the conversation, `app_home` when they picked it on the Home tab). Slack's locale
   never overrides it.
2. **Slack's locale** (`users.info` with `include_locale`): `fr-*` is French, `en-*` English. It is
   recorded with source `slack_locale`, so Slack is asked once per person; while the person has
   made no choice it is asked again at most once a day (a changed Slack locale is then followed).
   A locale the pack has no language for (`es-ES`, or `fr-CA` in an English-only pack) is not
   recorded and falls through to the next rule.
3. **The policy's `people.<id>.language`.**
4. **The pack's `default_language`.**

The stored row is read on every call (one primary-key read), so a choice made in any process
takes effect on the person's next message; only Slack's answer is kept in memory (per person,
a day; five minutes after a failed call), which is what keeps Slack from being asked per message.

Callers inside a write transaction on SQLite pass `record=False` and the policy they hold:
recording, or a policy reload's listeners, would open a transaction of their own and wait for
theirs.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import timedelta
from typing import Callable, Optional, Tuple

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy
from storage.types import utcnow

log = logging.getLogger(__name__)

CHOSEN = ("conversation", "app_home")  # the person's own choices, never overridden
SLACK_LOCALE = "slack_locale"
RECHECK_S = 24 * 3600  # ask Slack again about a person with no choice of their own at most daily
FAILED_RETRY_S = 300  # after users.info failed
MEMO_SIZE = 10_000


def from_locale(locale: object) -> Optional[str]:
    """"fr-CA" -> "fr", "en_US" -> "en"; None for anything that is not a locale."""
    if not isinstance(locale, str) or not locale.strip():
        return None
    code = locale.strip().replace("_", "-").split("-")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


class Languages:
    def __init__(self, sessions: sessionmaker, policy: Callable[[], LoadedPolicy],
                 clock: Callable[[], float] = time.monotonic):
        self.sessions = sessions
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        # user -> (the language Slack's locale gave, or None; when to ask Slack again)
        self._slack: "OrderedDict[str, Tuple[Optional[str], float]]" = OrderedDict()
        # Told each user object asked here (the membership check, bot/membership.py, uses it too).
        self.on_slack_user: Optional[Callable[[str, dict], None]] = None

    def of(self, user_id: Optional[str], client: Optional[WebClient] = None, record: bool = True,
           policy: Optional[LoadedPolicy] = None) -> str:
        """The language to write to `user_id` in. Without a client Slack is not asked. `policy`: the
        rules the caller already holds (asking the policy in force may reload it, and its
        listeners write to the database)."""
        policy = policy or self.policy()
        pack = policy.rules.pack
        if not user_id:
            return pack.default_language
        stored, source, recent = self._stored(user_id)
        if stored in pack.languages and source in CHOSEN:
            return stored
        slack = self._from_slack(user_id, client, recent and source == SLACK_LOCALE)
        if slack in pack.languages:
            if record and (stored, source) != (slack, SLACK_LOCALE):
                self._record(user_id, slack, SLACK_LOCALE)
            return slack
        if stored in pack.languages:
            return stored  # what Slack said before (it cannot be asked now)
        person = policy.rules.people.get(user_id)
        if person is not None and person.language in pack.languages:
            return person.language
        return pack.default_language

    def choose(self, user_id: str, language: str, source: str) -> bool:
        """Record the person's own choice (source "conversation" or "app_home"); False if the pack
        has no such language or the database refused."""
        if language not in self.policy().rules.pack.languages:
            log.warning("%s chose %r, which the policy pack does not offer", user_id, language)
            return False
        return self._record(user_id, language, source)

    def heard_from_slack(self, user_id: str, locale: object) -> None:
        """Slack's locale for a person from a users.info asked for another reason (the membership
        check, bot/membership.py): kept as if asked here, so Slack is asked once for both."""
        with self._lock:
            self._slack[user_id] = (from_locale(locale), self._clock() + RECHECK_S)
            self._slack.move_to_end(user_id)
            while len(self._slack) > MEMO_SIZE:
                self._slack.popitem(last=False)

    # -- the pieces -------------------------------------------------------------------------------

    def _stored(self, user_id: str) -> Tuple[Optional[str], Optional[str], bool]:
        """(language, source, recorded within RECHECK_S) of the stored preference."""
        try:
            with self.sessions() as session:
                # A read: on SQLite it must not take the write lock (callers may hold it).
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
                row = session.get(storage.UserPreference, user_id)
                if row is None:
                    return None, None, False
                updated = row.updated_at
                recent = updated is not None and utcnow() - updated < timedelta(seconds=RECHECK_S)
                return row.language, row.source, recent
        except SQLAlchemyError:
            log.exception("the language of %s could not be read; using Slack's locale or the policy", user_id)
            return None, None, False

    def _record(self, user_id: str, language: str, source: str) -> bool:
        try:
            with self.sessions.begin() as session:
                storage.set_language(session, user_id, language, source)
            return True
        except (SQLAlchemyError, ValueError):
            log.exception("the language of %s (%s, from %s) was not recorded", user_id, language, source)
            return False

    def _from_slack(self, user_id: str, client: Optional[WebClient], recorded_recently: bool) -> Optional[str]:
        """The language of the person's Slack locale: from memory while it is fresh, else asked."""
        now = self._clock()
        with self._lock:
            known = self._slack.get(user_id)
            if known is not None and now < known[1]:
                self._slack.move_to_end(user_id)
                return known[0]
        if client is None or recorded_recently:
            return None  # the stored slack_locale row stands for it
        language, retry_s = None, FAILED_RETRY_S
        try:
            answer = client.users_info(user=user_id, include_locale=True)
            language, retry_s = from_locale((answer.get("user") or {}).get("locale")), RECHECK_S
            if self.on_slack_user is not None and answer.get("user"):
                self.on_slack_user(user_id, answer["user"])
        except SlackApiError as exc:  # a missing scope (users:read), an unknown user: the next rules decide
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
        except Exception as exc:  # noqa: BLE001 - Slack not answering: the same
            log.warning("users.info for %s failed: %s", user_id, type(exc).__name__)
        with self._lock:
            self._slack[user_id] = (language, now + retry_s)
            self._slack.move_to_end(user_id)
            while len(self._slack) > MEMO_SIZE:
                self._slack.popitem(last=False)
        return language
