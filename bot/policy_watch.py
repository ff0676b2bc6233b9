"""Policy edits while the bot runs: each new version audited, each refused edit reported to admins.

    watch = PolicyWatch(sessions, in_force, client)   # before the first in_force() call
    start_policy_thread(in_force, interval_s=10)      # notices an edit even when nobody talks

`policies.PolicyInForce` swaps in a valid edit and keeps the old rules on a broken one; it tells
its listeners once per edit. Here, in the bot process:

- A new version in force: stored (`storage.record_policy_version`) and audited `policy.in_force`
  with its version hash and the one it replaced, then announced in the pack's `admin_channel`.
  Requests waiting for a decision that the new rules judge differently (outcome, route or total,
  by `microbuy.policy_diff`) are flagged to their approvers by DM and listed for the admins.
- A refused edit: audited `policy.refused` with the check's report, and the report posted to the
  admin channel of the rules still in force.

Several processes may watch one file (two bots, the action server): each outcome is claimed with
`storage.claim_event` under a key made of the file's stamp (path, mtime, size), the same in every
process, so it is audited and announced once. A Slack failure is logged; the audit stands.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from datetime import datetime, timezone
from typing import Callable, List, Mapping, Optional

from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

import storage
from microbuy.policy_diff import diff_policy
from policies import LoadedPolicy, PolicyInForce

from .mrkdwn import escape, truncate

log = logging.getLogger(__name__)

ACTOR = "microbuy"
POLL_ENV = "MICROBUY_POLICY_POLL_S"
DEFAULT_POLL_S = 10.0
REPORT_CHARS = 2500  # the report in one section block (3,000 characters at most)


def stamp_key(kind: str, stamp: Optional[tuple]) -> str:
    path, mtime_ns, size = stamp or ("?", 0, 0)
    digest = hashlib.sha256(f"{path}|{mtime_ns}|{size}".encode()).hexdigest()[:24]
    return f"{kind}:{digest}"


class PolicyWatch:
    def __init__(self, sessions: sessionmaker, in_force: PolicyInForce, client: WebClient):
        self.sessions, self.client = sessions, client
        in_force.listen(on_change=self.changed, on_refused=self.refused)

    def changed(self, old: Optional[LoadedPolicy], new: LoadedPolicy, stamp: Optional[tuple]) -> None:
        with self.sessions.begin() as session:
            storage.record_policy_version(session, version=new.version, name=new.file, content=new.content)
            if not storage.claim_event(session, stamp_key("policy.in_force", stamp), "policy"):
                return  # another process recorded this edit
            storage.append_audit(session, actor=ACTOR, action="policy.in_force", data={
                "file": new.file, "version": new.version, "previous": old.version if old else None,
                "sha256": hashlib.sha256(new.content.encode("utf-8")).hexdigest()})
        if old is None:
            return  # start-up: nothing changed for anyone
        lines = [f":white_check_mark: Policy *{escape(new.short_version)}* is now in force "
                 f"(was {escape(old.short_version)}), from `{escape(os.path.basename(new.file))}`."]
        try:
            lines += self.flag_pending(old, new)
        except Exception:  # the new rules are in force whatever happens here
            log.exception("could not check the pending requests against policy %s", new.short_version)
            lines.append("I could not check the pending requests against it; see the bot's log.")
        self._post(new, "\n".join(lines))

    def flag_pending(self, old: LoadedPolicy, new: LoadedPolicy) -> List[str]:
        """Tell the approvers of each request waiting for a decision that the new rules judge
        differently (outcome, route or total), once per request and version; lines for the admins."""
        with self.sessions() as session:
            waiting = session.execute(
                select(func.min(storage.PurchaseRequest.submitted_at))
                .where(storage.PurchaseRequest.status == storage.Status.SUBMITTED.value)).scalar_one()
            if waiting is None:
                return []
            since = waiting.astimezone(timezone.utc).date() if waiting.tzinfo else waiting.date()
            diff = diff_policy(session, old, new, since, datetime.now(timezone.utc).date())
            changes = [c for c in diff.changes if c.status == storage.Status.SUBMITTED.value]
            deciders = {}
            for change in changes:
                req = storage.get_request(session, change.request_id)
                route = req.route or []
                step = route[req.approval_step] if 0 <= req.approval_step < len(route) else {}
                deciders[change.request_id] = [p for p in storage.step_deciders(step) if p != req.requester]
        lines = []
        for change in changes:
            what = _what_changed(change)
            lines.append(f"• {escape(change.reference)} (waiting for a decision): {what}")
            with self.sessions.begin() as session:
                if not storage.claim_event(session, f"policy.flag:{new.version[:32]}:{change.request_id}", "policy"):
                    continue
                storage.append_audit(session, actor=ACTOR, action="policy.flagged", request_id=change.request_id,
                                     data={"version": new.version, "changed": list(change.changed),
                                           "to": deciders[change.request_id]})
                for person in deciders[change.request_id]:
                    self._dm(person, f"Heads-up on {escape(change.reference)}, waiting for your decision: the "
                                     f"policy changed (version {escape(new.short_version)}) and now judges it "
                                     f"differently: {what}. It was submitted under the old rules; decide with "
                                     "that in mind (Request changes lets the requester revise it).")
        if lines:
            lines.insert(0, f"{len(lines)} request(s) waiting for a decision are judged differently now; "
                            "their approvers were told:")
        return lines

    def _dm(self, person: str, text: str) -> None:
        try:
            channel = self.client.conversations_open(users=person)["channel"]["id"]
            self.client.chat_postMessage(channel=channel, text=text, unfurl_links=False, unfurl_media=False)
        except Exception:
            log.exception("could not tell %s about a policy change", person)

    def refused(self, path, report: str, in_force: LoadedPolicy, stamp: Optional[tuple]) -> None:
        with self.sessions.begin() as session:
            if not storage.claim_event(session, stamp_key("policy.refused", stamp), "policy"):
                return
            storage.append_audit(session, actor=ACTOR, action="policy.refused", data={
                "file": str(path), "kept_version": in_force.version, "report": report})
        body = truncate(escape(report), REPORT_CHARS).replace("```", "'''")
        self._post(in_force, f":warning: The edit of `{escape(os.path.basename(str(path)))}` was refused; "
                             f"the rules in force stay (version {escape(in_force.short_version)}). "
                             f"Fix it and save again; `microbuy policy check` shows the same:\n```{body}```")

    def _post(self, policy: LoadedPolicy, text: str) -> None:
        channel = policy.rules.pack.admin_channel
        if not channel:
            return
        try:
            self.client.chat_postMessage(channel=channel, text=text, unfurl_links=False, unfurl_media=False)
        except Exception:  # the audit stands; the log says what the admins missed
            log.exception("could not tell %s about the policy", channel)


def _what_changed(change) -> str:
    before, after = change.before, change.after
    parts = []
    if "outcome" in change.changed:
        parts.append(f"{_OUTCOME.get(before.outcome, before.outcome)} → {_OUTCOME.get(after.outcome, after.outcome)}")
    if "total" in change.changed and before.total is not None and after.total is not None:
        parts.append(f"total {before.total:.2f} → {after.total:.2f}")
    if "route" in change.changed:
        parts.append("approval route " + " → ".join(
            ", ".join(level for level, _ in route) or "none" for route in (before.route, after.route)))
    text = "; ".join(parts)
    if change.why:
        text += f" ({change.why[0]})"
    return escape(truncate(text, 600))


_OUTCOME = {"approval_required": "goes to approval", "blocked": "blocked", "refused": "refused"}


def poll_interval_from_env(env: Mapping[str, str] = os.environ) -> float:
    """MICROBUY_POLICY_POLL_S: seconds between looks at the policy file (default 10); 0 turns it off."""
    raw = (env.get(POLL_ENV) or "").strip()
    if not raw:
        return DEFAULT_POLL_S
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{POLL_ENV} must be a number of seconds (0 turns it off), not {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"{POLL_ENV} must be 0 or more seconds, not {raw!r}")
    return value


def start_policy_thread(in_force: Callable[[], LoadedPolicy], interval_s: float,
                        stop: Optional[threading.Event] = None) -> threading.Thread:
    """Look at the policy file every `interval_s` seconds, so an edit is taken (or refused, and
    the admins told) even while nobody is using the bot."""
    stop = stop or threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                in_force()
            except SQLAlchemyError:
                log.exception("policy watch: database error; trying again in %s s", interval_s)
            except Exception:
                log.exception("policy watch failed; trying again in %s s", interval_s)

    thread = threading.Thread(target=loop, name="microbuy-policy-watch", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
