"""The approval channel: a submitted request posted for its approver, and each decision recorded
once (storage.record_decision) with the post updated in place and the requester told.

A decision button carries {"r": request id, "v": revision, "s": step}: the exact state it was
posted for. A click on a stale button (the request changed or was decided since), on a forged
one, or by someone not routed is refused with an explanation only the clicker sees, and audited.
"""
from __future__ import annotations

import json
import logging
import re
from contextlib import contextmanager
from datetime import date, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import storage
import workflow
from policies import LoadedPolicy

from .formats import level_name, money
from .justification import localized_evaluation, render_justification
from .language import Languages
from .mrkdwn import escape
from .texts import TEXTS, Raw, mention, mentions, plain, status_word, t

log = logging.getLogger(__name__)
USER_ID = re.compile(r"(?<![\w@<])(U[A-Z0-9]{6,})\b")

APPROVE, REJECT, CHANGES = "approve", "reject", "request_changes"
OUTCOME_OF = {APPROVE: "approved", REJECT: "rejected", CHANGES: "changes_requested"}
REASON_MODAL = "decision_reason"
MAX_REASON = 2000
# The answers an approver may send back to the requester (Slack allows ten checkboxes); their
# labels are the catalogue's "field.<name>" (English here, for logs).
REVISABLE = {field: plain(f"field.{field}", "en") for field in (
    "description", "supplier", "quantity", "unit_price", "province", "needed_by", "justification", "category",
    "cost_centre", "payment_method")}


def field_label(field: str, language: str) -> str:
    key = f"field.{field}"
    return plain(key, language) if key in TEXTS else field.replace("_", " ")


@contextmanager
def reading(sessions: sessionmaker) -> Iterator[Session]:
    """A session for reads only: on SQLite it does not take the write lock, so the language
    lookups it may wrap (bot/language.py) can record while it is open."""
    with sessions() as session:
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        yield session


class BadButton(ValueError):
    """A button value that is not one this app posted."""


def button_value(request_id: int, revision: int, step: int) -> str:
    return json.dumps({"r": request_id, "v": revision, "s": step}, separators=(",", ":"))


def read_button_value(value: Any) -> Tuple[int, int, int]:
    try:
        data = json.loads(value)
        ids = data["r"], data["v"], data["s"]
    except (TypeError, ValueError, KeyError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise BadButton("this button was not made by microbuy") from None
    # Ids are database integers: anything above 2**31 - 1 is not one of ours (PostgreSQL refuses it).
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2 ** 31 for i in ids):
        raise BadButton("this button was not made by microbuy")
    return ids


class Approvals:
    def __init__(self, sessions: sessionmaker, policy: Callable[[], LoadedPolicy],
                 approved_message: Optional[Callable[..., List[dict]]] = None,
                 languages: Optional[Languages] = None, today: Optional[Callable[[], date]] = None):
        self.sessions = sessions
        self.policy = policy
        # The day a decision is checked on (delegations, the policy in force); tests pin it.
        self.today = today or (lambda: workflow.today(self.policy()))
        self.languages = languages or Languages(sessions, policy)
        # The requester's DM on final approval, with what to do next (delivery.AfterApproval).
        self.approved_message = approved_message
        # Sent back for changes: reopen the requester's conversation on the named answers
        # (set by app.build_app to the conversation relay).
        self.on_changes_requested: Optional[Callable[..., None]] = None

    # -- posting ----------------------------------------------------------------------------------

    def post_for_approval(self, client: WebClient, request_id: int,
                          changes: Optional[Dict[str, Any]] = None) -> None:
        """Post the request's justification with decision buttons for its current step, in the
        language of the step's first approver; after a revision, with what changed, and the
        previous revision's post loses its buttons and points to the new one."""
        policy = self.policy()
        with reading(self.sessions) as session:
            req = storage.get_request(session, request_id)
        if req.status == storage.Status.APPROVED.value:
            self._approval_kept(client, req, policy, changes or {})
            return
        if changes is not None:
            self._supersede(client, req)
        channel = policy.rules.approval.cost_centres[req.cost_centre].channel
        language = self.post_language(client, req)
        with reading(self.sessions) as session:
            blocks, text = self._post(session, req, policy, language)
        if changes:
            blocks.insert(0, self._changes_block(t("approvals.revised", language, revision=req.revision), changes,
                                                 language))
            blocks = blocks[:50]
        posted = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False,
                                         unfurl_media=False)
        try:
            with self.sessions.begin() as session:
                storage.set_approval_post(session, request_id, channel=posted["channel"], ts=posted["ts"])
        except (SQLAlchemyError, storage.StorageError):
            # The post stands and its buttons work; only later in-place updates (escalation) miss it.
            log.exception("could not remember the approval post of request %s", request_id)

    @staticmethod
    def _changes_block(heading: str, changes: Dict[str, Any], language: str) -> dict:
        lines = [t("approvals.change_line", language, field=field_label(f, language), old=old or "—",
                   new=new or "—") for f, (old, new) in sorted(changes.items())]
        return {"type": "section", "text": {"type": "mrkdwn", "text": (heading + "\n" + "\n".join(lines))[:2900]}}

    def _supersede(self, client: WebClient, req) -> None:
        """The previous revision's post: its buttons go, and it says a new post replaces it."""
        if not (req.approval_channel and req.approval_ts):
            return
        language = self.post_language(client, req)
        text = t("approvals.superseded", language, reference=req.reference, revision=req.revision)
        try:
            client.chat_update(channel=req.approval_channel, ts=req.approval_ts, text=text,
                               blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
        except SlackApiError as exc:
            # Its buttons are refused as stale anyway (storage checks the revision).
            log.error("could not retire the old approval post of %s: %s", req.reference, exc.response.get("error"))

    def _approval_kept(self, client: WebClient, req, policy: LoadedPolicy, changes: Dict[str, Any]) -> None:
        """Changed after approval with only a lower total (storage.binding): nothing to decide. The
        approval post shows the change, the approvers are told, and the requester gets the
        buttons for the new revision."""
        reference, requester, revision = req.reference, req.requester, req.revision
        with reading(self.sessions) as session:
            approvers = workflow.approved_by(session, req.id)
        if req.approval_channel and req.approval_ts:
            language = self.post_language(client, req)
            with reading(self.sessions) as session:
                blocks, text = self._post(session, req, policy, language)
            blocks.insert(0, self._changes_block(t("approvals.lowered", language, revision=revision), changes,
                                                 language))
            try:
                client.chat_update(channel=req.approval_channel, ts=req.approval_ts, text=text, blocks=blocks[:50])
            except SlackApiError as exc:
                log.error("could not redraw the approval post of %s: %s", reference, exc.response.get("error"))
        for approver in approvers:
            language = self.languages.of(approver, client)
            text = t("approvals.lowered_tell_approver", language, reference=reference, who=mention(requester),
                     total=money(policy, req.total, language))
            try:
                dm = client.conversations_open(users=approver)["channel"]["id"]
                client.chat_postMessage(channel=dm, text=text,
                                        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                                                self._changes_block("", changes, language)] if changes else None)
            except SlackApiError as exc:
                log.error("could not tell %s that %s was lowered: %s", approver, reference, exc.response.get("error"))
        language = self.languages.of(requester, client)
        buttons = (self.approved_message(reference, req.id, revision, language=language)
                   if self.approved_message else None)
        text = t("approvals.still_approved", language, reference=reference)
        if buttons:
            buttons[0]["text"]["text"] = text
        dm = client.conversations_open(users=requester)["channel"]["id"]
        extra: Dict[str, Any] = {"blocks": buttons} if buttons else {}
        client.chat_postMessage(channel=dm, text=text, **extra)

    def refresh_post(self, client: WebClient, request_id: int) -> bool:
        """Redraw the request's approval post in place (after an escalation, say); False if there is
        no post on record or Slack refused."""
        policy = self.policy()
        with reading(self.sessions) as session:
            req = storage.get_request(session, request_id)
        if not (req.approval_channel and req.approval_ts):
            return False
        channel, ts = req.approval_channel, req.approval_ts
        language = self.post_language(client, req)
        with reading(self.sessions) as session:
            blocks, text = self._post(session, req, policy, language)
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.error("could not update the approval post of request %s: %s", request_id, exc.response.get("error"))
            return False
        return True

    def post_language(self, client: Optional[WebClient], req) -> str:
        """The approval post's language: that of the first approver of the step it is waiting for
        (after the last decision, of the step decided)."""
        route = req.route or []
        if not route:
            return self.policy().rules.pack.default_language
        step = route[min(max(req.approval_step or 0, 0), len(route) - 1)]
        approvers = step.get("approvers") or []
        return self.languages.of(approvers[0], client) if approvers else self.policy().rules.pack.default_language

    def _post(self, session: Session, req, policy: LoadedPolicy, language: str,
              outcome_line: Optional[str] = None) -> Tuple[List[dict], str]:
        # Findings in the post's language; the requester's answers as typed.
        evaluation = localized_evaluation(session, req, policy, language)
        # Room for the waiting line, the buttons and the outcome line under the 50-block limit.
        blocks, text = render_justification(req, policy, language, max_blocks=47, evaluation=evaluation)
        blocks = list(blocks)
        step = req.route[req.approval_step] if req.status == storage.Status.SUBMITTED.value else None
        if step is not None:
            who = mentions(storage.step_deciders(step), language)
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": t(
                "approvals.waiting", language, who=who,
                level=level_name(policy, step.get("level"), language, step.get("name")),
                number=req.approval_step + 1, count=len(req.route))}})
            value = button_value(req.id, req.revision, req.approval_step)
            blocks.append({"type": "actions", "block_id": "decision", "elements": [
                {"type": "button", "action_id": APPROVE, "style": "primary", "value": value,
                 "text": {"type": "plain_text", "text": plain("approvals.button.approve", language)}},
                {"type": "button", "action_id": REJECT, "style": "danger", "value": value,
                 "text": {"type": "plain_text", "text": plain("approvals.button.reject", language)}},
                {"type": "button", "action_id": CHANGES, "value": value,
                 "text": {"type": "plain_text", "text": plain("approvals.button.request_changes", language)}},
            ]})
            text = t("approvals.fallback", language, reference=req.reference, who=who, summary=Raw(text))
        if outcome_line:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": outcome_line}]})
        return blocks[:50], text[:3000]

    # -- deciding ---------------------------------------------------------------------------------

    def decide(self, client: WebClient, *, user: str, value: Any, outcome: str, channel: Optional[str],
               message_ts: Optional[str], reason: Optional[str] = None, fields: Optional[List[str]] = None) -> None:
        """Record `user`'s decision from a button (or the reason modal); refuse and audit otherwise."""
        try:
            request_id, revision, step = read_button_value(value)
        except BadButton as exc:
            self._refuse(client, user, channel, str(exc), None, value,
                         t("refused.bad_button", self.languages.of(user, client)))
            return
        policy = self.policy()
        try:
            result = workflow.decide(self.sessions, policy, request_id, revision=revision, step=step, approver=user,
                                     outcome=outcome, on=self.today(), reason=reason,
                                     fields_to_revisit=fields)
            req = result.request
            decision = result.decision
            when = decision.decided_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            on_behalf = decision.on_behalf_of
            reference, requester, final, team_id = req.reference, req.requester, result.final, req.team_id
            assert reference is not None  # a stored request has its reference
            next_step = None if final else req.route[req.approval_step]
        except (storage.SelfApproval, storage.StaleDecision, storage.NotAuthorized, storage.NotFound) as exc:
            language = self.languages.of(user, client)
            self._refuse(client, user, channel, str(exc), request_id, value,
                         self._why(exc, user, request_id, revision, step, language))
            if isinstance(exc, storage.NotAuthorized) and not isinstance(exc, storage.SelfApproval):
                # The step may have just been given to the people the policy names today: show them.
                self.refresh_post(client, request_id)
            return
        except (SQLAlchemyError, storage.StorageError):
            log.exception("decision by %s on request %s not recorded", user, request_id)
            self._ephemeral(client, channel, user, t("approvals.not_recorded_db", self.languages.of(user, client)))
            return
        if channel and message_ts:
            try:
                language = self.post_language(client, req)
                line = self._outcome_line(outcome, user, when, reason, on_behalf, language)
                with reading(self.sessions) as session:
                    blocks, text = self._post(session, req, policy, language, outcome_line=line)
                client.chat_update(channel=channel, ts=message_ts, text=text, blocks=blocks)
            except SlackApiError as exc:
                log.error("could not update the approval post of %s: %s", reference, exc.response.get("error"))
        if outcome == "changes_requested" and self.on_changes_requested is not None:
            # The conversation itself tells the requester, and asks the named answers again.
            self.on_changes_requested(client, team_id, requester, request_id, fields or [])
            return
        self._tell_requester(client, requester, reference, outcome, user, reason, final, next_step,
                             request_id=request_id, revision=revision)

    @staticmethod
    def _outcome_line(outcome: str, user: str, when: str, reason: Optional[str], on_behalf: Optional[str],
                      language: str = "en") -> str:
        who = mention(user)
        if on_behalf:
            who = t("approvals.on_behalf", language, who=who, absent=Raw(", ".join(
                mention(p) for p in on_behalf.split(","))))
        line = t(f"approvals.outcome.{outcome}", language, who=who, when=when)
        if reason:
            line = t("approvals.outcome.reason", language, line=line, reason=reason)
        return line

    def _tell_requester(self, client: WebClient, requester: str, reference: str, outcome: str, user: str,
                        reason: Optional[str], final: bool, next_step: Optional[Dict[str, Any]],
                        request_id: Optional[int] = None, revision: Optional[int] = None) -> None:
        """The outcome, in the requester's language."""
        language = self.languages.of(requester, client)
        blocks = None
        if outcome == "approved" and not final and next_step is not None:
            text = t("approvals.next_step", language, reference=reference, who=mention(user),
                     next=mentions(next_step.get("approvers", []), language),
                     level=level_name(self.policy(), next_step.get("level"), language, next_step.get("name")))
        elif outcome == "approved":
            text = t("approvals.approved", language, reference=reference, who=mention(user))
            if self.approved_message is not None and request_id is not None and revision is not None:
                blocks = self.approved_message(reference, request_id, revision, approver=user, language=language)
        elif outcome == "rejected":
            text = (t("approvals.rejected_because", language, reference=reference, who=mention(user), reason=reason)
                    if reason else t("approvals.rejected", language, reference=reference, who=mention(user)))
        else:
            text = (t("approvals.changes_because", language, reference=reference, who=mention(user), reason=reason)
                    if reason else t("approvals.changes", language, reference=reference, who=mention(user)))
        try:
            channel = client.conversations_open(users=requester)["channel"]["id"]
            extra: Dict[str, Any] = {"blocks": blocks} if blocks else {}
            client.chat_postMessage(channel=channel, text=text, **extra)
        except SlackApiError as exc:
            log.error("could not tell %s about %s: %s", requester, reference, exc.response.get("error"))

    # -- refusing ---------------------------------------------------------------------------------

    def _why(self, exc: Exception, user: str, request_id: int, revision: int, step: int, language: str) -> Raw:
        """Why storage refused a decision, in the clicker's language: the refusal's kind read again
        from the request (storage words it in English, for the audit log)."""
        if isinstance(exc, storage.NotFound):
            return t("refused.not_found", language, request=f"MB-{request_id:06d}")
        policy = self.policy()
        try:
            with reading(self.sessions) as session:
                req = storage.get_request(session, request_id)
                if isinstance(exc, storage.SelfApproval):
                    return t("refused.self_decision", language, who=mention(user), reference=req.reference)
                if isinstance(exc, storage.StaleDecision):
                    return self._stale(session, req, revision, step, policy, language)
                if isinstance(exc, storage.SecondDecision):
                    return t("refused.second_step", language, who=mention(user), reference=req.reference,
                             number=step + 1)
                route = req.route or []
                if 0 <= step < len(route):
                    return t("refused.not_routed", language, who=mention(user), number=step + 1,
                             level=level_name(policy, route[step].get("level"), language, route[step].get("name")),
                             reference=req.reference)
        except (SQLAlchemyError, storage.NotFound):
            log.exception("request %s not read again to explain a refusal", request_id)
        # storage names people by Slack user id: show them as mentions (ids only, never typed text).
        return t("refused.other", language, why=Raw(USER_ID.sub(r"<@\1>", escape(str(exc)))))

    @staticmethod
    def _stale(session: Session, req, revision: int, step: int, policy: LoadedPolicy, language: str) -> Raw:
        """storage.decisions.staleness, worded for the reader."""
        reference = req.reference
        if req.revision != revision:
            return t("refused.edited", language, reference=reference, revision=revision, current=req.revision)

        def by(decision) -> Raw:
            who = mention(decision.approver)
            if decision.on_behalf_of:
                who = t("approvals.on_behalf", language, who=who,
                        absent=Raw(", ".join(mention(p) for p in decision.on_behalf_of.split(","))))
            return who

        if req.status != storage.Status.SUBMITTED.value:
            if req.status == storage.Status.CANCELLED.value:
                return t("refused.cancelled", language, reference=reference)
            last = session.execute(select(storage.Decision).where(storage.Decision.request_id == req.id)
                                   .order_by(storage.Decision.id.desc()).limit(1)).scalar_one_or_none()
            if last is not None and last.revision == req.revision:
                return t("refused.already_decided", language, reference=reference,
                         outcome=plain(f"outcome.{last.outcome}", language), who=by(last), number=last.step + 1,
                         level=level_name(policy, last.level, language))
            return t("refused.not_awaiting", language, reference=reference, status=status_word(req.status, language))
        if step != req.approval_step:
            if step < req.approval_step:
                earlier = session.execute(select(storage.Decision).where(
                    storage.Decision.request_id == req.id, storage.Decision.revision == revision,
                    storage.Decision.step == step)).scalar_one_or_none()
                if earlier is not None:
                    return t("refused.step_done", language, number=step + 1,
                             level=level_name(policy, earlier.level, language), reference=reference, who=by(earlier))
            return t("refused.other_step", language, reference=reference, current=req.approval_step + 1,
                     number=step + 1)
        return t("refused.changed_meanwhile", language, reference=reference)

    def _refuse(self, client: WebClient, user: str, channel: Optional[str], why: str, request_id: Optional[int],
                value: Any, told: str) -> None:
        """Audit the refusal (storage's English `why`) and tell the clicker `told`, in their language."""
        try:
            with self.sessions.begin() as session:
                storage.append_audit(session, actor=user, action="decision.refused", request_id=request_id,
                                     data={"why": why, "button": str(value)[:500]})
        except (SQLAlchemyError, storage.StorageError):
            log.exception("refused click by %s not audited", user)
        language = self.languages.of(user, client)
        self._ephemeral(client, channel, user, t("refused.click", language, why=Raw(told)))

    @staticmethod
    def _ephemeral(client: WebClient, channel: Optional[str], user: str, text: str) -> None:
        try:
            if channel:
                client.chat_postEphemeral(channel=channel, user=user, text=text)
            else:
                dm = client.conversations_open(users=user)["channel"]["id"]
                client.chat_postMessage(channel=dm, text=text)
        except SlackApiError as exc:
            log.error("could not tell %s: %s", user, exc.response.get("error"))

    # -- the reason modal -------------------------------------------------------------------------

    @staticmethod
    def reason_modal(outcome: str, value: str, channel: Optional[str], message_ts: Optional[str],
                     language: str = "en") -> dict:
        outcome = outcome if outcome in ("rejected", "changes_requested") else "rejected"
        title = plain(f"reason.title.{outcome}", language)
        return {
            "type": "modal",
            "callback_id": REASON_MODAL,
            "private_metadata": json.dumps({"outcome": outcome, "value": value, "channel": channel, "ts": message_ts}),
            "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": title},
            "close": {"type": "plain_text", "text": plain("reason.cancel", language)},
            "blocks": [{
                "type": "input", "block_id": "reason",
                "label": {"type": "plain_text", "text": plain(f"reason.label.{outcome}", language)},
                "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True,
                            "max_length": MAX_REASON},
            }] + ([] if outcome == "rejected" else [{
                "type": "input", "block_id": "fields", "optional": True,
                "label": {"type": "plain_text", "text": plain("reason.fields", language)},
                "element": {"type": "checkboxes", "action_id": "fields", "options": [
                    {"text": {"type": "plain_text", "text": field_label(key, language)}, "value": key}
                    for key in REVISABLE]},
            }]),
        }
