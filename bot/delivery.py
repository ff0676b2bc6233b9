"""After approval (domain steps 6-8): the requester reports the purchase (the amount actually
paid) and then the receipt of the goods or services; the approver who gave the section 32
approval certifies receipt (section 34); the request is then closed (status "certified").

    approved DM  --"I bought it"-->  purchase_report modal  --storage.mark_purchased-->
    "Received it" DM  --storage.mark_received-->  approver's DM "Certify receipt (section 34)"
    --storage.certify_receipt-->  that message updated in place, the requester told it is closed

Each button carries {"r": request id, "v": revision}. A click is claimed (storage.claim_event,
keyed on the message ts and the action id) in the same transaction as its effect: a click that
storage refuses rolls the claim back with it, so a refused click (the requester trying to
certify, say) never uses up the button of the person who may click it, while a second click on a
step already done does nothing. Every refusal is explained to the clicker only and audited
("purchase.refused", "receipt.refused", "certification.refused"); the steps themselves are
audited by storage ("request.purchased", "request.received", "request.certified").
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import storage
from policies import AmountError, LoadedPolicy, format_money, parse_amount
from storage.requests import route_members

from .approvals import BadButton
from .mrkdwn import escape, truncate

log = logging.getLogger(__name__)

REPORT_PURCHASE, REPORT_RECEIPT, CERTIFY_RECEIPT = "report_purchase", "report_receipt", "certify_receipt"
# "Change the request" after approval: the answers reopen in the conversation; a higher total
# goes back for approval (storage.update_request).
CHANGE_APPROVED = "change_approved"
PURCHASE_MODAL = "purchase_report"
PURCHASE_REFUSED, RECEIPT_REFUSED, CERTIFICATION_REFUSED = "purchase.refused", "receipt.refused", "certification.refused"
DONE_STATUSES = {storage.Status.PURCHASED.value, storage.Status.RECEIVED.value, storage.Status.CERTIFIED.value}
MODAL_ERROR = 150  # characters of an inline modal error
NOT_ANSWERING = "the database is not answering; nothing was recorded. Please try again in a minute."


class Refused(Exception):
    """A click or submission that is not allowed; the text is what the clicker reads."""


def after_value(request_id: int, revision: int) -> str:
    return json.dumps({"r": request_id, "v": revision}, separators=(",", ":"))


def read_after_value(value: Any) -> Tuple[int, int]:
    try:
        data = json.loads(value)
        ids = data["r"], data["v"]
    except (TypeError, ValueError, KeyError):
        raise BadButton("this button was not made by microbuy") from None
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids):
        raise BadButton("this button was not made by microbuy")
    return ids


def click_key(channel: Optional[str], message_ts: Optional[str], action_id: str, request_id: int, revision: int) -> str:
    """The once-only key of a click: the message and the button (the request, if no message)."""
    if channel and message_ts:
        return f"{action_id}:{channel}:{message_ts}"
    return f"{action_id}:request:{request_id}:{revision}"


class AfterApproval:
    def __init__(self, sessions: sessionmaker, policy: Callable[[], LoadedPolicy],
                 today: Optional[Callable[[], date]] = None):
        self.sessions = sessions
        self.policy = policy
        self._today = today

    # -- small things -----------------------------------------------------------------------------

    def today(self) -> date:
        """Today where the department is (the pack's time zone)."""
        if self._today is not None:
            return self._today()
        return datetime.now(ZoneInfo(self.policy().rules.pack.timezone)).date()

    def _locale(self) -> str:
        return self.policy().rules.pack.locale_for()

    def money(self, amount: Any) -> str:
        if amount is None:
            return "no amount"
        return format_money(Decimal(str(amount)), currency=self.policy().rules.pack.currency, locale=self._locale())

    def _day(self, moment: Optional[datetime]) -> str:
        """The local date of a moment (certified_at)."""
        if moment is None:
            return "?"
        return moment.astimezone(ZoneInfo(self.policy().rules.pack.timezone)).date().isoformat()

    @staticmethod
    def _calendar_day(moment: Optional[datetime]) -> str:
        """A calendar date storage keeps as 00:00 UTC (purchased_at, received_at; storage.types.date_to_utc)."""
        return "?" if moment is None else moment.astimezone(timezone.utc).date().isoformat()

    # -- the messages -----------------------------------------------------------------------------

    @staticmethod
    def approved_text(reference: str, approver: Optional[str] = None) -> str:
        by = f" by <@{approver}>" if approver else ""
        return f"✅ {escape(reference)} was approved{by}. You may buy it now; when it's bought, tell me what you paid."

    def approved_message(self, reference: str, request_id: int, revision: int,
                         approver: Optional[str] = None) -> List[dict]:
        """The requester's DM on final approval: the news and an "I bought it" button."""
        return [
            {"type": "section", "block_id": "approved",
             "text": {"type": "mrkdwn", "text": self.approved_text(reference, approver)}},
            {"type": "actions", "block_id": "after_approval", "elements": [
                {"type": "button", "action_id": REPORT_PURCHASE, "style": "primary",
                 "value": after_value(request_id, revision), "text": {"type": "plain_text", "text": "I bought it"}},
                {"type": "button", "action_id": CHANGE_APPROVED, "value": after_value(request_id, revision),
                 "text": {"type": "plain_text", "text": "Change the request"}},
            ]},
        ]

    def purchase_modal(self, snap: Dict[str, Any], channel: Optional[str], message_ts: Optional[str]) -> dict:
        approved = self.money(snap["approved_max"])
        return {
            "type": "modal",
            "callback_id": PURCHASE_MODAL,
            "private_metadata": json.dumps({"r": snap["id"], "v": snap["revision"], "c": channel, "t": message_ts}),
            "title": {"type": "plain_text", "text": "Report the purchase"},
            "submit": {"type": "plain_text", "text": "Report"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text":
                    f"*{escape(snap['reference'])}*: {snap['what']}\nApproved for at most *{approved}*, tax included. "
                    "Keep the receipt."}},
                {"type": "input", "block_id": "amount",
                 "label": {"type": "plain_text", "text": "Amount actually paid, tax included"},
                 "hint": {"type": "plain_text", "text": f"As on the receipt; at most {approved}."},
                 "element": {"type": "plain_text_input", "action_id": "amount", "max_length": 40,
                             "placeholder": {"type": "plain_text", "text": "e.g. 24.99"}}},
                {"type": "input", "block_id": "date",
                 "label": {"type": "plain_text", "text": "Date of purchase"},
                 "element": {"type": "datepicker", "action_id": "date", "initial_date": self.today().isoformat()}},
            ],
        }

    def _purchase_line(self, snap: Dict[str, Any]) -> str:
        return (f"Paid {self.money(snap['amount_paid'])} on {snap['purchased_on']} "
                f"(approved up to {self.money(snap['approved_max'])}).")

    def _receipt_blocks(self, snap: Dict[str, Any]) -> List[dict]:
        return [
            {"type": "section", "block_id": "purchased", "text": {"type": "mrkdwn", "text":
                f"🛒 Recorded: *{escape(snap['reference'])}* ({snap['what']}). {self._purchase_line(snap)}\n"
                "Keep the receipt. When the goods or services have arrived as ordered, tell me:"}},
            {"type": "actions", "block_id": "receipt", "elements": [
                {"type": "button", "action_id": REPORT_RECEIPT, "style": "primary",
                 "value": after_value(snap["id"], snap["revision"]), "text": {"type": "plain_text", "text": "Received it"}},
            ]},
        ]

    def _certify_section(self, snap: Dict[str, Any]) -> dict:
        return {"type": "section", "block_id": "certify_what", "text": {"type": "mrkdwn", "text":
                f"*Section 34: certify receipt of {escape(snap['reference'])}*\n"
                f"<@{snap['requester']}> received {snap['what']} on {snap['received_on']}. "
                f"{self._purchase_line(snap)}"}}

    def _certify_blocks(self, snap: Dict[str, Any]) -> List[dict]:
        return [
            self._certify_section(snap),
            {"type": "context", "elements": [{"type": "mrkdwn", "text":
                "Certify only if the goods or services were received as ordered and the price matches the receipt."}]},
            {"type": "actions", "block_id": "certify", "elements": [
                {"type": "button", "action_id": CERTIFY_RECEIPT, "style": "primary",
                 "value": after_value(snap["id"], snap["revision"]),
                 "text": {"type": "plain_text", "text": "Certify receipt (section 34)"}},
            ]},
        ]

    # -- reading ----------------------------------------------------------------------------------

    def _snapshot(self, session: Session, req) -> Dict[str, Any]:
        what = escape(truncate(req.title or req.description or req.category, 200))
        return {
            "id": req.id, "revision": req.revision, "reference": req.reference, "status": req.status,
            "requester": req.requester, "supplier": req.supplier,
            "what": f"{what} from {escape(truncate(req.supplier, 200))}",
            "approved_max": req.approved_max_amount, "amount_paid": req.amount_paid,
            "purchased_on": self._calendar_day(req.purchased_at), "received_on": self._calendar_day(req.received_at),
            "certified_by": req.certified_by, "certified_on": self._day(req.certified_at),
            "approver": self._section_32_approver(session, req),
        }

    @staticmethod
    def _section_32_approver(session: Session, req) -> Optional[str]:
        """Who gave the final approval of this revision (a delegate, if one did)."""
        decision = session.execute(
            select(storage.Decision)
            .where(storage.Decision.request_id == req.id, storage.Decision.revision == req.revision,
                   storage.Decision.outcome == "approved")
            .order_by(storage.Decision.step.desc(), storage.Decision.id.desc())
        ).scalars().first()
        return decision.approver if decision is not None else None

    @staticmethod
    def certifiers(snap: Dict[str, Any], route: List[Dict[str, Any]]) -> List[str]:
        """Who is asked to certify: the section 32 approver; without one, the last step's approvers."""
        members = route_members(route)
        approver = snap.get("approver")
        if approver and approver in members and approver != snap["requester"]:
            return [approver]
        last = (route or [{}])[-1].get("approvers") or []
        return [p for p in last if p != snap["requester"]]

    # -- 1. "I bought it" -------------------------------------------------------------------------

    def open_purchase_form(self, client: WebClient, *, user: str, value: Any, channel: Optional[str],
                           message_ts: Optional[str], trigger_id: Optional[str]) -> None:
        try:
            request_id, revision = read_after_value(value)
        except BadButton as exc:
            self._refuse(client, user, channel, PURCHASE_REFUSED, str(exc), None, value)
            return
        try:
            with self.sessions() as session:
                req = storage.get_request(session, request_id)
                snap = self._snapshot(session, req)
        except storage.NotFound as exc:
            self._refuse(client, user, channel, PURCHASE_REFUSED, str(exc), None, value)
            return
        except SQLAlchemyError:
            log.exception("purchase form for request %s not opened", request_id)
            self._tell(client, user, channel, f"Your click was not recorded: {NOT_ANSWERING}")
            return
        reference = snap["reference"]
        if user != snap["requester"]:
            why = f"only the person who asked for {reference} can report its purchase"
        elif snap["revision"] == revision and snap["status"] in DONE_STATUSES:
            return  # reported already: a second click does nothing
        elif snap["revision"] != revision:
            why = (f"{reference} was changed since this button was sent (revision {revision}, now "
                   f"{snap['revision']}); use the newest message about it")
        elif snap["status"] != storage.Status.APPROVED.value:
            why = f"{reference} is {snap['status'].replace('_', ' ')}; only an approved request can be bought"
        else:
            why = None
        if why:
            self._refuse(client, user, channel, PURCHASE_REFUSED, why, request_id, value)
            return
        try:
            client.views_open(trigger_id=trigger_id, view=self.purchase_modal(snap, channel, message_ts))
        except SlackApiError as exc:
            log.error("could not open the purchase form of %s: %s", reference, exc.response.get("error"))
            self._tell(client, user, channel, "The form did not open in time; please click *I bought it* again.")

    # -- 2. the purchase_report modal -------------------------------------------------------------

    def purchase_reported(self, ack: Callable[..., None], client: WebClient, *, user: str, view: dict) -> None:
        """A submitted purchase_report modal: refuse bad input inline, else record the purchase."""
        values = (view.get("state") or {}).get("values") or {}
        raw_amount = ((values.get("amount") or {}).get("amount") or {}).get("value")
        raw_date = ((values.get("date") or {}).get("date") or {}).get("selected_date")
        errors: Dict[str, str] = {}
        amount: Optional[Decimal] = None
        day: Optional[date] = None
        try:
            amount = parse_amount(raw_amount if raw_amount is not None else "", locale=self._locale())
        except AmountError as exc:
            text = str(exc)
            errors["amount"] = truncate(text[:1].upper() + text[1:] + ".", MODAL_ERROR)
        try:
            day = date.fromisoformat(raw_date)
            if day > self.today():
                errors["date"] = "The purchase date cannot be after today."
        except (TypeError, ValueError):
            errors["date"] = "Pick the day you bought it."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            request_id, revision = read_after_value(json.dumps({"r": meta.get("r"), "v": meta.get("v")}))
        except (ValueError, AttributeError, BadButton):
            ack()
            self._refuse(client, user, None, PURCHASE_REFUSED, "this form was not made by microbuy", None,
                         view.get("private_metadata"))
            return
        channel, message_ts = meta.get("c"), meta.get("t")
        key = click_key(channel, message_ts, REPORT_PURCHASE, request_id, revision)

        def purchase(session: Session) -> Dict[str, Any]:
            req = storage.get_request(session, request_id, for_update=True)
            if req.revision != revision:
                raise Refused(f"{req.reference} was changed since this form was opened (revision {revision}, "
                              f"now {req.revision}); nothing was recorded")
            req = storage.mark_purchased(session, request_id, actor=user, amount_paid=amount, purchased_on=day)
            return self._snapshot(session, req)

        try:
            snap = self._once(key, purchase)
        except storage.AmountExceedsApproval:
            self._too_much(ack, client, user, request_id, amount, value=after_value(request_id, revision))
            return
        except (Refused, storage.NotAuthorized, storage.InvalidTransition, storage.NotFound, ValueError) as exc:
            ack()
            self._refuse(client, user, channel, PURCHASE_REFUSED, str(exc), request_id, after_value(request_id, revision))
            return
        except SQLAlchemyError:
            log.exception("purchase of request %s by %s not recorded", request_id, user)
            ack(response_action="errors", errors={"amount": truncate(NOT_ANSWERING[:1].upper() + NOT_ANSWERING[1:], MODAL_ERROR)})
            return
        ack()
        if snap is None:
            return  # this button's purchase was recorded already
        if channel and message_ts:
            self._update(client, channel, message_ts, snap["reference"], [
                {"type": "section", "block_id": "approved",
                 "text": {"type": "mrkdwn", "text": self.approved_text(snap["reference"], snap["approver"])}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"🛒 Purchase reported. {self._purchase_line(snap)}"}]},
            ])
        self._dm(client, snap["requester"], f"Recorded: {snap['reference']} bought. Tell me when it has arrived.",
                 self._receipt_blocks(snap))

    def _too_much(self, ack, client: WebClient, user: str, request_id: int, amount: Decimal, value: str) -> None:
        """Paid above the section 32 maximum: nothing recorded; the modal stays open; say what to do."""
        try:
            with self.sessions() as session:
                req = storage.get_request(session, request_id)
                snap = self._snapshot(session, req)
                route = list(req.route or [])
        except SQLAlchemyError:
            log.exception("request %s not read after a refused purchase", request_id)
            snap, route = None, []
        approved = self.money(snap["approved_max"]) if snap else "the approved maximum"
        ack(response_action="errors", errors={"amount": truncate(
            f"More than the {approved} approved. An increase must be approved first; nothing was recorded.", MODAL_ERROR)})
        reference = snap["reference"] if snap else f"request {request_id}"
        why = f"{self.money(amount)} paid is more than the approved maximum of {approved}"
        self._audit(user, PURCHASE_REFUSED, request_id, {"why": why, "amount_paid": str(amount), "button": value})
        approvers = self.certifiers(snap, route) if snap else []
        who = " or ".join(f"<@{p}>" for p in approvers) or "your approver"
        self._dm(client, user,
                 f"Not recorded: {self.money(amount)} is more than the {approved} approved for {reference}.", [
                     {"type": "section", "text": {"type": "mrkdwn", "text":
                         f"⚠️ *Not recorded:* {self.money(amount)} is more than the *{approved}* approved for "
                         f"*{escape(reference)}*. A section 32 approval is for a maximum amount, so an increase "
                         "must be approved *before* it is paid."}},
                     {"type": "section", "text": {"type": "mrkdwn", "text":
                         "• *Typed it wrong?* Correct the amount in the form; it is still open.\n"
                         f"• *The price really is higher?* Do not pay more than {approved}. The request has to be "
                         "changed to the new amount, which sends it back for approval; the approval you have no "
                         f"longer covers it. That change cannot be made from Slack yet, so tell {who}. "
                         f"{escape(reference)} stays approved for up to {approved} until then."}},
                 ])

    # -- 3. "Received it" -------------------------------------------------------------------------

    def report_receipt(self, client: WebClient, *, user: str, value: Any, channel: Optional[str],
                       message_ts: Optional[str]) -> None:
        today = self.today()

        def receive(session: Session, request_id: int) -> Tuple[Dict[str, Any], List[str]]:
            req = storage.mark_received(session, request_id, actor=user, received_on=today)
            snap = self._snapshot(session, req)
            return snap, self.certifiers(snap, list(req.route or []))

        done = self._button_step(client, user=user, value=value, channel=channel, message_ts=message_ts,
                                 action_id=REPORT_RECEIPT, refused=RECEIPT_REFUSED, doing="receipt", work=receive)
        if done is None:
            return  # refused, not recorded, or a second click
        snap, certifiers = done
        who = " or ".join(f"<@{p}>" for p in certifiers) or "an approver"
        if channel and message_ts:
            self._update(client, channel, message_ts, snap["reference"], [
                self._receipt_blocks(snap)[0],
                {"type": "context", "elements": [{"type": "mrkdwn", "text":
                    f"📦 Receipt reported on {snap['received_on']}. {who} is asked to certify it (section 34)."}]},
            ])
        for certifier in certifiers:
            self._dm(client, certifier, f"Please certify receipt of {snap['reference']} (section 34).",
                     self._certify_blocks(snap))

    # -- 4. "Certify receipt (section 34)" --------------------------------------------------------

    def certify(self, client: WebClient, *, user: str, value: Any, channel: Optional[str],
                message_ts: Optional[str]) -> None:
        def certify(session: Session, request_id: int) -> Dict[str, Any]:
            return self._snapshot(session, storage.certify_receipt(session, request_id, actor=user))

        snap = self._button_step(client, user=user, value=value, channel=channel, message_ts=message_ts,
                                 action_id=CERTIFY_RECEIPT, refused=CERTIFICATION_REFUSED, doing="certification",
                                 work=certify)
        if snap is None:
            return  # refused, not recorded, or a second click
        if channel and message_ts:
            self._update(client, channel, message_ts, snap["reference"], [
                self._certify_section(snap),
                {"type": "context", "elements": [{"type": "mrkdwn", "text":
                    f"✅ Certified by <@{user}> on {snap['certified_on']}."}]},
            ])
        self._dm(client, snap["requester"],
                 f"🏁 {snap['reference']} is closed: <@{user}> certified receipt (section 34) on "
                 f"{snap['certified_on']}. Keep the receipt with your card records.")

    # -- plumbing ---------------------------------------------------------------------------------

    def _button_step(self, client: WebClient, *, user: str, value: Any, channel: Optional[str],
                     message_ts: Optional[str], action_id: str, refused: str, doing: str,
                     work: Callable[[Session, int], Any]) -> Any:
        """A button's effect, once, on the revision the button was sent for: `work`'s result, or
        None when the click is refused (explained and audited), not recorded, or a second one."""
        try:
            request_id, revision = read_after_value(value)
        except BadButton as exc:
            self._refuse(client, user, channel, refused, str(exc), None, value)
            return None

        def at_revision(session: Session) -> Any:
            req = storage.get_request(session, request_id, for_update=True)
            if req.revision != revision:
                raise Refused(f"{req.reference} was changed since this button was sent")
            return work(session, request_id)

        try:
            return self._once(click_key(channel, message_ts, action_id, request_id, revision), at_revision)
        except (Refused, storage.NotAuthorized, storage.InvalidTransition, storage.NotFound, ValueError) as exc:
            self._refuse(client, user, channel, refused, str(exc), request_id, value)
        except SQLAlchemyError:
            log.exception("%s of request %s by %s not recorded", doing, request_id, user)
            self._tell(client, user, channel, f"Your click was not recorded: {NOT_ANSWERING}")
        return None

    def _once(self, key: str, work: Callable[[Session], Any]) -> Any:
        """`work` with the click claimed in its transaction: None when it was claimed before.

        An exception from `work` rolls back the claim too, so the button still works for the
        person allowed to use it."""
        with self.sessions.begin() as session:
            if not storage.claim_event(session, key[:255], "click"):
                return None
            return work(session)

    def _audit(self, user: str, action: str, request_id: Optional[int], data: Dict[str, Any]) -> None:
        try:
            with self.sessions.begin() as session:
                storage.append_audit(session, actor=user, action=action, request_id=request_id, data=data)
        except SQLAlchemyError:
            log.exception("%s by %s not audited", action, user)

    def _refuse(self, client: WebClient, user: str, channel: Optional[str], action: str, why: str,
                request_id: Optional[int], value: Any) -> None:
        self._audit(user, action, request_id, {"why": why, "button": str(value)[:500]})
        self._tell(client, user, channel, f"Not done: {escape(why)}")

    @staticmethod
    def _tell(client: WebClient, user: str, channel: Optional[str], text: str) -> None:
        """Only `user` sees it: ephemeral in their DM with the app when they clicked there, else a DM."""
        try:
            dm = client.conversations_open(users=user)["channel"]["id"]
            if channel == dm:
                client.chat_postEphemeral(channel=dm, user=user, text=text)
            else:
                client.chat_postMessage(channel=dm, text=text)
        except SlackApiError as exc:
            log.error("could not tell %s: %s", user, exc.response.get("error"))

    @staticmethod
    def _dm(client: WebClient, user: str, text: str, blocks: Optional[List[dict]] = None) -> None:
        try:
            dm = client.conversations_open(users=user)["channel"]["id"]
            if blocks:
                client.chat_postMessage(channel=dm, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
            else:
                client.chat_postMessage(channel=dm, text=text, unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            log.error("could not send %s a message: %s", user, exc.response.get("error"))

    @staticmethod
    def _update(client: WebClient, channel: str, ts: str, reference: str, blocks: List[dict]) -> None:
        try:
            client.chat_update(channel=channel, ts=ts, text=reference, blocks=blocks)
        except SlackApiError as exc:
            log.error("could not update the message about %s: %s", reference, exc.response.get("error"))
