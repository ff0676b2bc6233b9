"""A new policy in force, or an edit refused, while the product runs: recorded and audited once
across every process that watches the file, and the requests waiting for a decision that the new
rules judge differently, with the people to tell.

`policies.PolicyInForce` swaps in a valid edit and keeps the old rules on a broken one; it tells
its listeners once per edit and process. Several processes may watch one file (two bots, the
action server): each outcome is claimed with `storage.claim_event` under a key made of the file's
stamp (path, mtime, size), the same in every process. bot/policy_watch.py words and sends what
follows.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timezone
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy

from .clock import today, zone
from .policy_diff import Change, diff_policy

ACTOR = "microbuy"


def stamp_key(kind: str, stamp: Optional[tuple]) -> str:
    path, mtime_ns, size = stamp or ("?", 0, 0)
    digest = hashlib.sha256(f"{path}|{mtime_ns}|{size}".encode()).hexdigest()[:24]
    return f"{kind}:{digest}"


def record_in_force(sessions: sessionmaker, old: Optional[LoadedPolicy], new: LoadedPolicy,
                    stamp: Optional[tuple]) -> bool:
    """Store the new version and audit `policy.in_force`; False when another process did."""
    with sessions.begin() as session:
        storage.record_policy_version(session, version=new.version, name=new.file, content=new.content)
        if not storage.claim_event(session, stamp_key("policy.in_force", stamp), "policy"):
            return False
        storage.append_audit(session, actor=ACTOR, action="policy.in_force", data={
            "file": new.file, "version": new.version, "previous": old.version if old else None,
            "sha256": hashlib.sha256(new.content.encode("utf-8")).hexdigest()})
    return True


def record_refused(sessions: sessionmaker, path: object, report: str, in_force: LoadedPolicy,
                   stamp: Optional[tuple]) -> bool:
    """Audit `policy.refused` with the check's report; False when another process did."""
    with sessions.begin() as session:
        if not storage.claim_event(session, stamp_key("policy.refused", stamp), "policy"):
            return False
        storage.append_audit(session, actor=ACTOR, action="policy.refused", data={
            "file": str(path), "kept_version": in_force.version, "report": report})
    return True


@dataclass(frozen=True)
class Flag:
    """A request waiting for a decision that the new rules judge differently, and who decides it."""

    change: Change
    deciders: List[str]


def waiting_changes(sessions: sessionmaker, old: LoadedPolicy, new: LoadedPolicy) -> List[Flag]:
    """The requests waiting for a decision whose outcome, route or total the new rules change."""
    with sessions() as session:
        waiting = session.execute(
            select(func.min(storage.PurchaseRequest.submitted_at))
            .where(storage.PurchaseRequest.status == storage.Status.SUBMITTED.value)).scalar_one()
        if waiting is None:
            return []
        # Days in the pack's time zone, as diff_policy counts them.
        since = (waiting if waiting.tzinfo else waiting.replace(tzinfo=timezone.utc)).astimezone(zone(new)).date()
        until = today(new)
        diff = diff_policy(session, old, new, min(since, until), until)
        flags = []
        for change in diff.changes:
            if change.status != storage.Status.SUBMITTED.value:
                continue
            req = storage.get_request(session, change.request_id)
            route = req.route or []
            step = route[req.approval_step] if 0 <= req.approval_step < len(route) else {}
            flags.append(Flag(change, [p for p in storage.step_deciders(step) if p != req.requester]))
    return flags


def claim_flag(sessions: sessionmaker, new: LoadedPolicy, flag: Flag) -> bool:
    """Audit `policy.flagged` for one request and version, once across processes; False when
    another process (or an earlier run) told its people already."""
    with sessions.begin() as session:
        if not storage.claim_event(session, f"policy.flag:{new.version[:32]}:{flag.change.request_id}", "policy"):
            return False
        storage.append_audit(session, actor=ACTOR, action="policy.flagged", request_id=flag.change.request_id,
                             data={"version": new.version, "changed": list(flag.change.changed),
                                   "to": flag.deciders})
    return True
