"""Reminders and escalation for decisions that wait (policy `approval.reminders`).

    reminders = Reminders(sessions, policy, app.client)
    reminders.run_once(now=datetime.now(timezone.utc))   # what it did, one line each
    start_reminder_thread(reminders, interval_s=300)       # python -m bot does this

For each request waiting for approval (status "submitted"), the current step started at the
latest decision of the current revision when `approval_step` > 0, else at `submitted_at`.

- Waited `remind_after_hours` or more: each approver and delegate of the current step gets a DM,
  once per (request, revision, step).
- Waited `escalate_after_hours` or more: once per (request, revision, step), the approvers of the
  escalation level get a DM saying who the request waits for and asking them to follow up, and
  the requester is told to whom it was escalated (or that there is nobody higher to tell).

**Escalation hands the decision up as well.** The escalation level is `escalates_to` of the
current step's level, its people resolved as routing does (the cost centre's own approvers for
that level, else the department-wide ones), leaving out the requester and the step's own
approvers and delegates; a level with nobody left passes further up the chain. Those people are
added to the step with `storage.escalate_step` (audited `decision.escalated`): from then on they
may decide it with the buttons on the approval post, in the step approvers' place (credited as
acting on their behalf, like a delegate); the step's own approvers keep their buttons too.

Once only: each action is claimed with `storage.claim_event` ("remind:{id}:{revision}:{step}",
"escalate:{id}:{revision}:{step}") in one short transaction with its audit entry ("reminder.sent",
"reminder.escalated", "reminder.not_escalated") and the escalation itself, taking the request's
row lock before the audit head's, as every state change does. The DMs are sent after that commit,
so no lock is held while Slack answers (or asks to wait after a 429): approvers' decisions go on
meanwhile, and a second bot sees the claim and leaves the action alone. If Slack still refuses
(after slack_sdk's own retries), a second short transaction releases the claim and audits
"reminder.failed" with the error, so the next run does it again; an escalation stays done (it is a
state change) and the next run tells the same people again (from the failed row). People already
reached before the failure may get the DM twice; all DM channels are opened first, so an unknown
user fails before anything is posted. (A bot killed between the commit and the DMs loses that one
action, audited as done.) A new revision or the next step starts a new clock and new keys.
Requests not waiting for a decision are never reminded. Already-claimed actions are filtered out
in a read-only pass, so a write transaction is only opened for work that is due.
"""
from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy, format_money

from .approvals import level_name
from .language import Languages
from .mrkdwn import escape, truncate
from .texts import Raw, mentions, plain, t

log = logging.getLogger(__name__)

ACTOR = "microbuy"
REMIND, ESCALATE = "remind", "escalate"
KIND = {REMIND: "reminder", ESCALATE: "escalation"}
TITLE_CHARS = 100
ERROR_CHARS = 300  # of Slack's error, in the reminder.failed audit row
INTERVAL_ENV = "MICROBUY_REMINDER_INTERVAL_S"
DEFAULT_INTERVAL_S = 300


def event_key(what: str, request_id: int, revision: int, step: int) -> str:
    return f"{what}:{request_id}:{revision}:{step}"


@dataclass(frozen=True)
class _Due:
    what: str  # REMIND or ESCALATE
    request_id: int
    revision: int
    step: int
    waited_hours: int

    @property
    def key(self) -> str:
        return event_key(self.what, self.request_id, self.revision, self.step)


class SlackFailed(Exception):
    """A DM could not be sent; the action's claim was released (retried next run) unless `retried`
    is False."""

    def __init__(self, message: str, retried: bool = True):
        super().__init__(message)
        self.retried = retried


class Reminders:
    def __init__(self, sessions: sessionmaker, policy: Union[LoadedPolicy, Callable[[], LoadedPolicy]],
                 client: WebClient, refresh_post: Optional[Callable[[WebClient, int], Any]] = None,
                 languages: Optional[Languages] = None):
        self.sessions = sessions
        # Redraws a request's approval post (Approvals.refresh_post): after an escalation it names
        # the people who may now decide.
        self.refresh_post = refresh_post
        # The policy in force (app.PolicyInForce) or a fixed one.
        self.policy: Callable[[], LoadedPolicy] = policy if callable(policy) else (lambda: policy)
        self.client = client
        # Each DM in its recipient's language.
        self.languages = languages or Languages(sessions, self.policy)

    def _language(self, person: str, policy: LoadedPolicy) -> str:
        # Asked after the action's claim committed; read only (record=False): a run writes nothing
        # but its claims and audit rows.
        return self.languages.of(person, self.client, record=False, policy=policy)

    # -- one pass ---------------------------------------------------------------------------------

    def run_once(self, now: datetime) -> List[str]:
        """Send what is due at `now` (UTC if naive); one line per thing done or failed."""
        now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        policy = self.policy()
        done: List[str] = []
        for due in self._due(now, policy):
            try:
                done.append(self._act(due, policy))
            except SlackFailed as exc:
                line = (f"failed: {due.what} MB-{due.request_id:06d} (revision {due.revision}, step {due.step}): {exc}"
                        + ("; retried next run" if exc.retried else ""))
                log.error("%s", line)
                done.append(line)
            except storage.StaleDecision:
                continue  # decided or edited while this run was acting: the next run sees the new state
            except SQLAlchemyError:
                log.exception("%s of request %s not done; retried next run", due.what, due.request_id)
                done.append(f"failed: {due.what} MB-{due.request_id:06d}: database error; retried next run")
        return [line for line in done if line]

    def _refresh(self, request_id: int) -> None:
        assert self.refresh_post is not None  # called only when there is one
        try:
            self.refresh_post(self.client, request_id)
        except Exception:  # the escalation is done and audited; only the post's redraw is missed
            log.exception("could not redraw the approval post of request %s", request_id)

    def _due(self, now: datetime, policy: LoadedPolicy) -> List[_Due]:
        """What is due and not yet claimed, read without taking SQLite's write lock."""
        settings = policy.rules.approval.reminders
        remind_after = timedelta(hours=settings.remind_after_hours)
        escalate_after = timedelta(hours=settings.escalate_after_hours)
        found: List[_Due] = []
        with self.sessions() as session:
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            waiting = session.execute(
                select(storage.PurchaseRequest.id, storage.PurchaseRequest.revision,
                       storage.PurchaseRequest.approval_step, storage.PurchaseRequest.submitted_at)
                .where(storage.PurchaseRequest.status == storage.Status.SUBMITTED.value)
                .order_by(storage.PurchaseRequest.id)
            ).all()
            if not waiting:
                return []
            # The latest decision of each request's current revision: when its current step began.
            last = dict(session.execute(
                select(storage.Decision.request_id, func.max(storage.Decision.decided_at))
                .join(storage.PurchaseRequest, (storage.PurchaseRequest.id == storage.Decision.request_id)
                      & (storage.PurchaseRequest.revision == storage.Decision.revision))
                .where(storage.PurchaseRequest.status == storage.Status.SUBMITTED.value)
                .group_by(storage.Decision.request_id)
            ).all())
            for request_id, revision, step, submitted_at in waiting:
                started = last.get(request_id) if step else submitted_at
                started = started or submitted_at
                if started is None:
                    continue
                if started.tzinfo is None:
                    started = started.replace(tzinfo=timezone.utc)
                waited = now - started
                hours = int(waited.total_seconds() // 3600)
                if waited >= remind_after:
                    found.append(_Due(REMIND, request_id, revision, step, hours))
                if waited >= escalate_after:
                    found.append(_Due(ESCALATE, request_id, revision, step, hours))
            if found:
                claimed = set(session.execute(
                    select(storage.ProcessedEvent.event_id)
                    .where(storage.ProcessedEvent.event_id.in_([d.key for d in found]))
                ).scalars())
                found = [d for d in found if d.key not in claimed]
        return found

    def _act(self, due: _Due, policy: LoadedPolicy) -> str:
        """Claim and audit one action in a short transaction, then send its DMs after commit, so no
        lock is held while Slack answers (its 429 waits included). SlackFailed after the claim was
        released and the failure audited."""
        claimed = self._claim(due, policy)
        if claimed is None:
            return ""
        if claimed.escalated and self.refresh_post:
            self._refresh(due.request_id)  # before the DMs: they point to the post's buttons
        try:
            self._send(claimed.texts, policy)
        except SlackFailed as exc:
            try:
                self._release(due, claimed, str(exc))
            except SQLAlchemyError:
                log.exception("%s of request %s failed and its claim could not be released", due.what,
                              due.request_id)
                raise SlackFailed(f"{exc}; the claim could not be released (database error)", retried=False) from exc
            raise
        return claimed.line

    def _claim(self, due: _Due, policy: LoadedPolicy) -> Optional["_Claimed"]:
        """The action claimed and audited (and the step escalated) in one transaction; None when it
        is no longer due or another runner has it. Locks in the order every state change takes
        them: the request's row first, then the audit log's head (storage.append_audit)."""
        with self.sessions.begin() as session:
            req = storage.get_request(session, due.request_id, for_update=True)
            if (req.status != storage.Status.SUBMITTED.value or req.revision != due.revision
                    or req.approval_step != due.step or not 0 <= due.step < len(req.route or [])):
                return None  # decided or edited since it was read: the next run sees the new state
            if not storage.claim_event(session, due.key, KIND[due.what]):
                return None  # another runner did it
            step = req.route[due.step]
            about = _About(req, step, due, policy)
            if due.what == REMIND:
                people = _unique([*(step.get("approvers") or []), *(step.get("delegates") or [])],
                                 leave_out=[req.requester])
                storage.append_audit(session, actor=ACTOR, action="reminder.sent", request_id=req.id,
                                     data={**about.data, "to": people})
                return _Claimed(about, {person: about.reminder for person in people}, {"to": people},
                                f"reminded {req.reference} (revision {due.revision}, step {due.step}): "
                                f"{', '.join(people)}")

            level, people, again = _escalation_of(session, policy, req, step, due)
            if not people:
                storage.append_audit(session, actor=ACTOR, action="reminder.not_escalated", request_id=req.id,
                                     data={**about.data, "why": "no higher level with anyone to tell"})
                return _Claimed(about, {req.requester: about.nobody_higher}, {"to": [req.requester]},
                                f"not escalated {req.reference} (revision {due.revision}, step {due.step}): "
                                f"nobody higher; told {req.requester}")
            assert level is not None  # people to tell are at a level
            storage.append_audit(session, actor=ACTOR, action="reminder.escalated", request_id=req.id,
                                 data={**about.data, "to_level": level, "to": people,
                                       **({"again": True} if again else {})})
            if not again:
                storage.escalate_step(session, req.id, revision=due.revision, step=due.step, level=level,
                                      people=people, actor=ACTOR)
            texts: Dict[str, Callable[[str], str]] = {
                person: functools.partial(about.escalation, level) for person in people}
            texts[req.requester] = functools.partial(about.escalated, level, people)
            return _Claimed(about, texts, {"to_level": level, "to": people},
                            f"escalated {req.reference} (revision {due.revision}, step {due.step}) to {level}: "
                            f"{', '.join(people)}; told {req.requester}", escalated=not again)

    def _release(self, due: _Due, claimed: "_Claimed", error: str) -> None:
        """Slack refused an action's DMs after its claim committed: release the claim, so the next
        run does it again, and audit why (`reminder.failed`), in one short transaction."""
        with self.sessions.begin() as session:
            storage.release_event(session, due.key)
            storage.append_audit(session, actor=ACTOR, action="reminder.failed", request_id=due.request_id,
                                 data={**claimed.about.data, "what": KIND[due.what], **claimed.told,
                                       "error": error[:ERROR_CHARS]})

    def _send(self, texts: Mapping[str, Callable[[str], str]], policy: LoadedPolicy) -> None:
        """DM each person in their language; every DM channel is opened before anything is posted."""
        try:
            messages = {person: text(self._language(person, policy)) for person, text in texts.items()}
            channels = {person: self.client.conversations_open(users=person)["channel"]["id"]
                        for person in messages}
            for person, text in messages.items():
                self.client.chat_postMessage(channel=channels[person], text=text,
                                             unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            raise SlackFailed(str(exc.response.get("error") or exc)) from exc
        except Exception as exc:  # the connection to Slack failing
            raise SlackFailed(repr(exc)) from exc


@dataclass(frozen=True)
class _Claimed:
    """An action whose claim and audit row are committed: the DMs still to send (each person's
    text in a given language), whom it was to tell (for `reminder.failed`), and the line to report."""
    about: "_About"
    texts: Dict[str, Callable[[str], str]]
    told: Dict[str, Any]
    line: str
    escalated: bool = False  # the step was escalated now: its approval post is redrawn


def _escalation_of(session: Any, policy: LoadedPolicy, req: Any, step: Dict[str, Any],
                   due: _Due) -> Tuple[Optional[str], List[str], bool]:
    """(level, people, again): whom the step escalates to. `again` when an earlier run escalated it
    already and Slack refused the DMs (its `reminder.failed` row names them): the step keeps its
    escalation, and the same people are told."""
    rows = session.execute(
        select(storage.AuditEntry)
        .where(storage.AuditEntry.request_id == req.id, storage.AuditEntry.action == "reminder.failed")
        .order_by(storage.AuditEntry.id.desc())
    ).scalars()
    may_decide = (step.get("escalated_to") or {}).get("people") or []
    for row in rows:
        data = row.payload
        if (isinstance(data, dict) and data.get("what") == KIND[ESCALATE] and data.get("revision") == due.revision
                and data.get("step") == due.step and data.get("to_level")):
            # Only those the step still counts (the policy in force may have moved some on).
            people = [p for p in data.get("to") or [] if p in may_decide]
            if people:
                return data["to_level"], people, True
            break
    level, people = escalation(policy, req, step)
    return level, people, False


class _About:
    """The words about one waiting request, in each reader's language: every value a requester
    typed is escaped (bot.texts.t)."""

    def __init__(self, req: Any, step: Dict[str, Any], due: _Due, policy: LoadedPolicy):
        self.req, self.step, self.due, self.policy = req, step, due, policy
        rules = policy.rules
        title = req.title or req.description or req.supplier
        self.title = truncate(" ".join(str(title).split()), TITLE_CHARS) if title else None
        centre = rules.approval.cost_centres.get(req.cost_centre)
        self.channel_id = centre.channel if centre is not None else ""
        self.hours = due.waited_hours
        self.data = {"reference": req.reference, "revision": due.revision, "step": due.step,
                     "level": step.get("level"), "waited_hours": due.waited_hours}

    def level_name(self, level_id: Optional[str], language: str) -> str:
        fallback = self.step.get("name") if level_id == self.step.get("level") else None
        return level_name(self.policy, level_id, language, fallback)

    def channel(self, language: str) -> Raw:
        channel = self.channel_id
        if channel.startswith("#"):
            return Raw(escape(channel))
        return Raw(f"<#{channel}>") if channel else t("reminders.the_channel", language)

    def waiting_for(self, language: str) -> Raw:
        return mentions(self.step.get("approvers") or [], language) or t("reminders.the_approver", language)

    def what(self, language: str) -> Raw:
        title = self.title if self.title else plain("reminders.no_title", language)
        return t("reminders.what", language, reference=self.req.reference, title=title,
                 total=_money(self.req, self.policy, language))

    def reminder(self, language: str) -> str:
        return t("reminders.reminder", language, what=self.what(language), hours=self.hours,
                 channel=self.channel(language), level=self.level_name(self.step.get("level"), language),
                 number=self.due.step + 1, count=len(self.req.route))

    def escalation(self, level: str, language: str) -> str:
        return t("reminders.escalation", language, what=self.what(language), hours=self.hours,
                 waiting_for=self.waiting_for(language), level=self.level_name(self.step.get("level"), language),
                 channel=self.channel(language), to_level=self.level_name(level, language))

    def escalated(self, level: str, people: Sequence[str], language: str) -> str:
        return t("reminders.escalated", language, what=self.what(language), hours=self.hours,
                 waiting_for=self.waiting_for(language), people=mentions(people, language),
                 level=self.level_name(level, language))

    def nobody_higher(self, language: str) -> str:
        return t("reminders.nobody_higher", language, what=self.what(language), hours=self.hours,
                 waiting_for=self.waiting_for(language))


def escalation(policy: LoadedPolicy, req: Any, step: Dict[str, Any]) -> Tuple[Optional[str], List[str]]:
    """The level above the step's and its people for the request's cost centre (the cost centre's
    own approvers for that level, else the department-wide ones, as routing.approvers_at), without
    the requester or the step's own people; a level with nobody left passes further up."""
    approval = policy.rules.approval
    centre = approval.cost_centres.get(req.cost_centre)
    leave_out = [req.requester, *storage.step_deciders(step)]
    current = step.get("level")
    seen = {current}
    level = approval.levels[current].escalates_to if current in approval.levels else None
    while level and level not in seen:
        seen.add(level)
        own = centre.approvers.get(level) if centre is not None else None
        people = _unique(own or approval.approvers.get(level) or (), leave_out=leave_out)
        if people:
            return level, people
        level = approval.levels[level].escalates_to if level in approval.levels else None
    return None, []


def _unique(people: Sequence[str], leave_out: Sequence[str] = ()) -> List[str]:
    return [p for p in dict.fromkeys(people) if p and p not in leave_out]


def _money(req: Any, policy: LoadedPolicy, language: str) -> str:
    """The request's total as the reader writes money (plain text; escaped where it is placed)."""
    pack = policy.rules.pack
    currency = req.evaluation.get("currency") if isinstance(req.evaluation, dict) else None
    try:
        amount = Decimal(str(req.total))
    except (InvalidOperation, TypeError):
        return str(req.total)
    return format_money(amount, currency=currency or pack.currency, locale=pack.locale_for(language))


# -- running in the background ----------------------------------------------------------------------

def interval_from_env(env: Mapping[str, str] = os.environ) -> float:
    """MICROBUY_REMINDER_INTERVAL_S: seconds between runs (default 300); 0 turns reminders off."""
    raw = (env.get(INTERVAL_ENV) or "").strip()
    if not raw:
        return float(DEFAULT_INTERVAL_S)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{INTERVAL_ENV} must be a number of seconds (0 turns reminders off), not {raw!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(f"{INTERVAL_ENV} must be 0 or more seconds, not {raw!r}")
    return value


def start_reminder_thread(reminders: Reminders, interval_s: float,
                          stop: Optional[threading.Event] = None) -> threading.Thread:
    """A daemon thread running `reminders.run_once` now and then every `interval_s` seconds until
    `stop` is set; an exception is logged and the next run goes ahead."""
    if interval_s <= 0:
        raise ValueError("interval_s must be more than 0")
    stop = stop or threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                for line in reminders.run_once(now=datetime.now(timezone.utc)):
                    log.info("reminders: %s", line)
            except Exception:  # never let one bad run end the reminders
                log.exception("reminder run failed; trying again in %s s", interval_s)
            stop.wait(interval_s)

    thread = threading.Thread(target=loop, name="microbuy-reminders", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
