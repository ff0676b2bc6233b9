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
from datetime import timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy

from .justification import render_justification
from .mrkdwn import escape

log = logging.getLogger(__name__)
USER_ID = re.compile(r"(?<![\w@<])(U[A-Z0-9]{6,})\b")

APPROVE, REJECT, CHANGES = "approve", "reject", "request_changes"
OUTCOME_OF = {APPROVE: "approved", REJECT: "rejected", CHANGES: "changes_requested"}
REASON_MODAL = "decision_reason"
MAX_REASON = 2000
# The answers an approver may send back to the requester (Slack allows ten checkboxes).
REVISABLE = {"description": "What is bought", "supplier": "Supplier", "quantity": "Quantity",
             "unit_price": "Unit price", "province": "Delivery province", "needed_by": "Needed-by date",
             "justification": "Operational need", "category": "Category", "cost_centre": "Cost centre",
             "payment_method": "Payment method"}


class BadButton(ValueError):
    """A button value that is not one this app posted."""


def button_value(request_id: int, revision: int, step: int) -> str:
    return json.dumps({"r": request_id, "v": revision, "s": step}, separators=(",", ":"))


def read_button_value(value: Any) -> Tuple[int, int, int]:
    try:
        data = json.loads(value)
        ids = data["r"], data["v"], data["s"]
    except (TypeError, ValueError, KeyError):
        raise BadButton("this button was not made by microbuy") from None
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids):
        raise BadButton("this button was not made by microbuy")
    return ids


class Approvals:
    def __init__(self, sessions: sessionmaker, policy: Callable[[], LoadedPolicy],
                 approved_message: Optional[Callable[..., List[dict]]] = None):
        self.sessions = sessions
        self.policy = policy
        # The requester's DM on final approval, with what to do next (delivery.AfterApproval).
        self.approved_message = approved_message
        # Sent back for changes: reopen the requester's conversation on the named answers
        # (set by app.build_app to the conversation relay).
        self.on_changes_requested: Optional[Callable[..., None]] = None

    # -- posting ----------------------------------------------------------------------------------

    def post_for_approval(self, client: WebClient, request_id: int,
                          changes: Optional[Dict[str, Any]] = None) -> None:
        """Post the request's justification with decision buttons for its current step; after a
        revision, with what changed."""
        policy = self.policy()
        with self.sessions() as session:
            req = storage.get_request(session, request_id)
            if req.status == storage.Status.APPROVED.value:
                # Changed after approval but within it (storage kept it approved): nothing to
                # decide; the requester gets the buttons for the new revision.
                reference, requester, revision = req.reference, req.requester, req.revision
                blocks = self.approved_message(reference, request_id, revision) if self.approved_message else None
                text = f"{reference} changed and is still within what was approved; no new approval is needed."
                if blocks:
                    blocks[0]["text"]["text"] = escape(text)
                dm = client.conversations_open(users=requester)["channel"]["id"]
                client.chat_postMessage(channel=dm, text=text, **({"blocks": blocks} if blocks else {}))
                return
            channel = policy.rules.approval.cost_centres[req.cost_centre].channel
            blocks, text = self._post(req, policy)
            if changes:
                lines = [f"• {escape(REVISABLE.get(f, f.replace('_', ' ')))}: {escape(old) or '—'} → {escape(new) or '—'}"
                         for f, (old, new) in sorted(changes.items())]
                blocks.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text":
                              f"*Revised (revision {req.revision}); what changed:*\n" + "\n".join(lines)[:2800]}})
                blocks = blocks[:50]
        posted = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False,
                                         unfurl_media=False)
        try:
            with self.sessions.begin() as session:
                storage.set_approval_post(session, request_id, channel=posted["channel"], ts=posted["ts"])
        except SQLAlchemyError:
            # The post stands and its buttons work; only later in-place updates (escalation) miss it.
            log.exception("could not remember the approval post of request %s", request_id)

    def refresh_post(self, client: WebClient, request_id: int) -> bool:
        """Redraw the request's approval post in place (after an escalation, say); False if there is
        no post on record or Slack refused."""
        policy = self.policy()
        with self.sessions() as session:
            req = storage.get_request(session, request_id)
            if not (req.approval_channel and req.approval_ts):
                return False
            channel, ts = req.approval_channel, req.approval_ts
            blocks, text = self._post(req, policy)
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.error("could not update the approval post of request %s: %s", request_id, exc.response.get("error"))
            return False
        return True

    def _post(self, req, policy: LoadedPolicy, outcome_line: Optional[str] = None) -> Tuple[List[dict], str]:
        language = policy.rules.pack.default_language
        # Room for the waiting line, the buttons and the outcome line under the 50-block limit.
        blocks, text = render_justification(req, policy, language, max_blocks=47)
        blocks = list(blocks)
        step = req.route[req.approval_step] if req.status == storage.Status.SUBMITTED.value else None
        if step is not None:
            who = " or ".join(f"<@{p}>" for p in storage.step_deciders(step))
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text":
                           f"*Waiting for:* {who} ({escape(step.get('name') or step.get('level'))}), "
                           f"step {req.approval_step + 1} of {len(req.route)}"}})
            value = button_value(req.id, req.revision, req.approval_step)
            blocks.append({"type": "actions", "block_id": "decision", "elements": [
                {"type": "button", "action_id": APPROVE, "style": "primary", "value": value,
                 "text": {"type": "plain_text", "text": "Approve"}},
                {"type": "button", "action_id": REJECT, "style": "danger", "value": value,
                 "text": {"type": "plain_text", "text": "Reject"}},
                {"type": "button", "action_id": CHANGES, "value": value,
                 "text": {"type": "plain_text", "text": "Request changes"}},
            ]})
            text = f"{req.reference} is waiting for {who}: {text}"
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
            self._refuse(client, user, channel, str(exc), None, value)
            return
        policy = self.policy()
        try:
            with self.sessions() as session:
                result = storage.record_decision(session, request_id, revision=revision, step=step, approver=user,
                                                 outcome=outcome, reason=reason,
                                                 fields_to_revisit=fields if outcome == "changes_requested" else None)
                session.commit()
                req = result.request
                decision = result.decision
                when = decision.decided_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                line = self._outcome_line(outcome, user, when, reason, decision.on_behalf_of)
                blocks, text = self._post(req, policy, outcome_line=line)
                reference, requester, final, team_id = req.reference, req.requester, result.final, req.team_id
                next_step = None if final else req.route[req.approval_step]
        except (storage.SelfApproval, storage.StaleDecision, storage.NotAuthorized, storage.NotFound) as exc:
            self._refuse(client, user, channel, str(exc), request_id, value)
            return
        except SQLAlchemyError:
            log.exception("decision by %s on request %s not recorded", user, request_id)
            self._ephemeral(client, channel, user, "Your decision could NOT be recorded (the database is not "
                                                   "answering). Nothing changed; please click again in a minute.")
            return
        if channel and message_ts:
            try:
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
    def _outcome_line(outcome: str, user: str, when: str, reason: Optional[str], on_behalf: Optional[str]) -> str:
        verb = {"approved": "✅ Approved", "rejected": "❌ Rejected", "changes_requested": "↩️ Changes requested"}[outcome]
        who = f"<@{user}>" + (f" (for {', '.join(f'<@{p}>' for p in on_behalf.split(','))})" if on_behalf else "")
        line = f"{verb} by {who} on {when}"
        if reason:
            line += f": {escape(reason)}"
        return line

    def _tell_requester(self, client: WebClient, requester: str, reference: str, outcome: str, user: str,
                        reason: Optional[str], final: bool, next_step: Optional[Dict[str, Any]],
                        request_id: Optional[int] = None, revision: Optional[int] = None) -> None:
        blocks = None
        if outcome == "approved" and not final and next_step is not None:
            who = " or ".join(f"<@{p}>" for p in next_step.get("approvers", []))
            text = f"{reference} was approved by <@{user}>; it now goes to {who} ({escape(next_step.get('name'))})."
        elif outcome == "approved":
            text = f"✅ {reference} was approved by <@{user}>. You may buy it now; tell me when it's bought."
            if self.approved_message is not None and request_id is not None and revision is not None:
                blocks = self.approved_message(reference, request_id, revision, approver=user)
        elif outcome == "rejected":
            text = f"❌ {reference} was rejected by <@{user}>" + (f": {escape(reason)}" if reason else ".")
        else:
            text = f"↩️ <@{user}> asked for changes to {reference}" + (f": {escape(reason)}" if reason else ".")
        try:
            channel = client.conversations_open(users=requester)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=text, **({"blocks": blocks} if blocks else {}))
        except SlackApiError as exc:
            log.error("could not tell %s about %s: %s", requester, reference, exc.response.get("error"))

    def _refuse(self, client: WebClient, user: str, channel: Optional[str], why: str, request_id: Optional[int],
                value: Any) -> None:
        try:
            with self.sessions.begin() as session:
                storage.append_audit(session, actor=user, action="decision.refused", request_id=request_id,
                                     data={"why": why, "button": str(value)[:500]})
        except SQLAlchemyError:
            log.exception("refused click by %s not audited", user)
        # storage names people by Slack user id: show them as mentions (ids only, never typed text).
        why_text = USER_ID.sub(r"<@\1>", escape(why))
        self._ephemeral(client, channel, user, f"Your click was not recorded: {why_text}")

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
    def reason_modal(outcome: str, value: str, channel: Optional[str], message_ts: Optional[str]) -> dict:
        title = "Reject" if outcome == "rejected" else "Request changes"
        label = "Why is it rejected?" if outcome == "rejected" else "What should the requester change?"
        return {
            "type": "modal",
            "callback_id": REASON_MODAL,
            "private_metadata": json.dumps({"outcome": outcome, "value": value, "channel": channel, "ts": message_ts}),
            "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": title},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{
                "type": "input", "block_id": "reason",
                "label": {"type": "plain_text", "text": label},
                "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True,
                            "max_length": MAX_REASON},
            }] + ([] if outcome == "rejected" else [{
                "type": "input", "block_id": "fields", "optional": True,
                "label": {"type": "plain_text", "text": "Answers the requester should give again"},
                "element": {"type": "checkboxes", "action_id": "fields", "options": [
                    {"text": {"type": "plain_text", "text": label}, "value": key} for key, label in REVISABLE.items()]},
            }]),
        }
