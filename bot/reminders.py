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
"escalate:{id}:{revision}:{step}") in the same transaction as its audit entry
("reminder.sent", "reminder.escalated", "reminder.not_escalated"), and that transaction commits
only after every DM of the action was sent. A Slack failure rolls the claim back and is retried
at the next run (the people already reached may then get the DM again: all DM channels are
opened first, so an unknown user fails before anything is posted). A new revision or the next
step starts a new clock and new keys. Requests not waiting for a decision are never reminded.
Already-claimed actions are filtered out in a read-only pass, so the write transaction (which
holds SQLite's write lock during the Slack calls) is only opened for work that is due.
"""
from __future__ import annotations

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
    """A DM could not be sent; the action's claim is rolled back."""


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
        # Asked inside the action's write transaction: read only (bot/language.py, record=False).
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
                if due.what == ESCALATE and done[-1].startswith("escalated") and self.refresh_post:
                    self._refresh(due.request_id)
            except SlackFailed as exc:
                line = f"failed: {due.what} MB-{due.request_id:06d} (revision {due.revision}, step {due.step}): {exc}; retried next run"
                log.error("%s", line)
                done.append(line)
            except storage.StaleDecision:
                continue  # decided or edited while this run was acting: the next run sees the new state
            except SQLAlchemyError:
                log.exception("%s of request %s not done; retried next run", due.what, due.request_id)
                done.append(f"failed: {due.what} MB-{due.request_id:06d}: database error; retried next run")
        return [line for line in done if line]

    def _refresh(self, request_id: int) -> None:
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
        """Claim, audit and send one action in one transaction; SlackFailed rolls it all back."""
        with self.sessions.begin() as session:
            req = storage.get_request(session, due.request_id)
            if (req.status != storage.Status.SUBMITTED.value or req.revision != due.revision
                    or req.approval_step != due.step or not 0 <= due.step < len(req.route or [])):
                return ""  # decided or edited since it was read: the next run sees the new state
            if not storage.claim_event(session, due.key, KIND[due.what]):
                return ""  # another runner did it
            step = req.route[due.step]
            about = _About(req, step, due, policy)
            if due.what == REMIND:
                people = _unique([*(step.get("approvers") or []), *(step.get("delegates") or [])],
                                 leave_out=[req.requester])
                storage.append_audit(session, actor=ACTOR, action="reminder.sent", request_id=req.id,
                                     data={**about.data, "to": people})
                self._send({person: about.reminder(self._language(person, policy)) for person in people})
                return f"reminded {req.reference} (revision {due.revision}, step {due.step}): {', '.join(people)}"

            level, people = escalation(policy, req, step)
            if not people:
                storage.append_audit(session, actor=ACTOR, action="reminder.not_escalated", request_id=req.id,
                                     data={**about.data, "why": "no higher level with anyone to tell"})
                self._send({req.requester: about.nobody_higher(self._language(req.requester, policy))})
                return (f"not escalated {req.reference} (revision {due.revision}, step {due.step}): nobody higher; "
                        f"told {req.requester}")
            storage.append_audit(session, actor=ACTOR, action="reminder.escalated", request_id=req.id,
                                 data={**about.data, "to_level": level, "to": people})
            storage.escalate_step(session, req.id, revision=due.revision, step=due.step, level=level,
                                  people=people, actor=ACTOR)
            messages = {person: about.escalation(level, self._language(person, policy)) for person in people}
            messages[req.requester] = about.escalated(level, people, self._language(req.requester, policy))
            self._send(messages)
            return (f"escalated {req.reference} (revision {due.revision}, step {due.step}) to {level}: "
                    f"{', '.join(people)}; told {req.requester}")

    def _send(self, messages: Mapping[str, str]) -> None:
        """DM each person; every DM channel is opened before anything is posted."""
        try:
            channels = {person: self.client.conversations_open(users=person)["channel"]["id"]
                        for person in messages}
            for person, text in messages.items():
                self.client.chat_postMessage(channel=channels[person], text=text,
                                             unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            raise SlackFailed(str(exc.response.get("error") or exc)) from exc
        except Exception as exc:  # the connection to Slack failing
            raise SlackFailed(repr(exc)) from exc


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
