"""Policy edits while the bot runs: each new version audited, each refused edit reported to admins.

    watch = PolicyWatch(sessions, in_force, client)   # before the first in_force() call
    start_policy_thread(in_force, interval_s=10)      # notices an edit even when nobody talks

`policies.PolicyInForce` swaps in a valid edit and keeps the old rules on a broken one; it tells
its listeners once per edit. Here, in the bot process:

- A new version in force: stored (`storage.record_policy_version`) and audited `policy.in_force`
  with its version hash and the one it replaced, then announced in the pack's `admin_channel`.
  Requests waiting for a decision that the new rules judge differently (outcome, route or total,
  by `workflow.policy_diff`) are flagged to their approvers by DM and listed for the admins.
- A refused edit: audited `policy.refused` with the check's report, and the report posted to the
  admin channel of the rules still in force.

Recording, auditing and finding the requests concerned, once across every process that watches
the file, is workflow/policy_change.py's; this module words and sends what follows. A Slack
failure is logged; the audit stands.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable, List, Mapping, Optional

from slack_sdk import WebClient
from sqlalchemy.orm import sessionmaker

from policies import LoadedPolicy, PolicyInForce
from settings import Settings
from workflow import policy_change

from .background import every
from .language import Languages
from .mrkdwn import escape, truncate
from .texts import TEXTS, Raw, plain, t

log = logging.getLogger(__name__)

POLL_ENV = "MICROBUY_POLICY_POLL_S"
REPORT_CHARS = 2500  # the report in one section block (3,000 characters at most)


class PolicyWatch:
    """The admin channel is written to in the pack's default language; each approver's heads-up
    in their own."""

    def __init__(self, sessions: sessionmaker, in_force: PolicyInForce, client: WebClient,
                 languages: Optional[Languages] = None):
        self.sessions, self.client = sessions, client
        self.languages = languages or Languages(sessions, in_force)
        in_force.listen(on_change=self.changed, on_refused=self.refused)

    def changed(self, old: Optional[LoadedPolicy], new: LoadedPolicy, stamp: Optional[tuple]) -> None:
        if not policy_change.record_in_force(self.sessions, old, new, stamp):
            return  # another process recorded this edit
        if old is None:
            return  # start-up: nothing changed for anyone
        admins = new.rules.pack.default_language
        lines = [t("policy.in_force", admins, version=new.short_version, previous=old.short_version,
                   file=os.path.basename(new.file))]
        try:
            lines += self.flag_pending(old, new)
        except Exception:  # the new rules are in force whatever happens here
            log.exception("could not check the pending requests against policy %s", new.short_version)
            lines.append(t("policy.not_checked", admins))
        self._post(new, "\n".join(lines))

    def flag_pending(self, old: LoadedPolicy, new: LoadedPolicy) -> List[Raw]:
        """Tell the approvers of each request waiting for a decision that the new rules judge
        differently (outcome, route or total), once per request and version; lines for the admins."""
        flags = policy_change.waiting_changes(self.sessions, old, new)
        admins = new.rules.pack.default_language
        lines = []
        for flag in flags:
            change = flag.change
            lines.append(t("policy.flag_line", admins, reference=change.reference,
                           what=_what_changed(change, admins)))
            # Read before the claim's transaction: a language lookup must not wait on its lock.
            readers = {person: self.languages.of(person, self.client, policy=new) for person in flag.deciders}
            if not policy_change.claim_flag(self.sessions, new, flag):
                continue
            # After the commit: a slow Slack (429 waits) must not hold the audit head decisions need.
            for person, language in readers.items():
                self._dm(person, t("policy.heads_up", language, reference=change.reference,
                                   version=new.short_version, what=_what_changed(change, language)))
        if lines:
            lines.insert(0, t("policy.flagged", admins, count=len(lines)))
        return lines

    def _dm(self, person: str, text: str) -> None:
        try:
            channel = self.client.conversations_open(users=person)["channel"]["id"]
            self.client.chat_postMessage(channel=channel, text=text, unfurl_links=False, unfurl_media=False)
        except Exception:
            log.exception("could not tell %s about a policy change", person)

    def refused(self, path, report: str, in_force: LoadedPolicy, stamp: Optional[tuple]) -> None:
        if not policy_change.record_refused(self.sessions, path, report, in_force, stamp):
            return
        body = truncate(escape(report), REPORT_CHARS).replace("```", "'''")
        self._post(in_force, t("policy.refused", in_force.rules.pack.default_language,
                               file=os.path.basename(str(path)), version=in_force.short_version, report=Raw(body)))

    def _post(self, policy: LoadedPolicy, text: str) -> None:
        channel = policy.rules.pack.admin_channel
        if not channel:
            return
        try:
            self.client.chat_postMessage(channel=channel, text=text, unfurl_links=False, unfurl_media=False)
        except Exception:  # the audit stands; the log says what the admins missed
            log.exception("could not tell %s about the policy", channel)


def _what_changed(change, language: str) -> Raw:
    """What the new rules judge differently, in `language` (the finding quoted is in the
    language the comparison was judged in)."""
    before, after = change.before, change.after
    parts = []
    if "outcome" in change.changed:
        parts.append(f"{_outcome(before.outcome, language)} → {_outcome(after.outcome, language)}")
    if "total" in change.changed and before.total is not None and after.total is not None:
        parts.append(plain("policy.total", language, before=f"{before.total:.2f}", after=f"{after.total:.2f}"))
    if "route" in change.changed:
        parts.append(plain("policy.route", language, routes=" → ".join(
            ", ".join(level for level, _ in route) or plain("policy.no_route", language)
            for route in (before.route, after.route))))
    text = "; ".join(parts)
    if change.why:
        text += f" ({change.why[0]})"
    return Raw(escape(truncate(text, 600)))


def _outcome(outcome: str, language: str) -> str:
    key = f"policy.outcome.{outcome}"
    return plain(key, language) if key in TEXTS else outcome


def poll_interval_from_env(env: Optional[Mapping[str, str]] = None) -> float:
    """MICROBUY_POLICY_POLL_S: seconds between looks at the policy file (default 10); 0 turns it off.
    A wrong value is a SettingsError, a ValueError naming the variable."""
    return Settings.read(POLL_ENV, env)


def start_policy_thread(in_force: Callable[[], LoadedPolicy], interval_s: float,
                        stop: Optional[threading.Event] = None) -> threading.Thread:
    """Look at the policy file every `interval_s` seconds, so an edit is taken (or refused, and
    the admins told) even while nobody is using the bot."""

    def look() -> None:
        in_force()

    return every(interval_s, look, name="microbuy-policy-watch", stop=stop)
