"""After approval (domain steps 6-8): the requester reports the purchase (the amount actually
paid) and then the receipt of the goods or services; the approver who gave the section 32
approval certifies receipt (section 34); the request is then closed (status "certified").

    approved DM  --"I bought it"-->  purchase_report modal  --workflow.delivery.purchase-->
    "Received it" DM  --workflow.delivery.receive-->  approver's DM "Certify receipt (section 34)"
    --workflow.delivery.certify-->  that message updated in place, the requester told it is closed

What may happen, and who may do it, is workflow.delivery's and storage's; this module turns
clicks and forms into those calls and their results and refusals into Slack messages.

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

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import storage
import workflow
from policies import AmountError, LoadedPolicy, format_money, parse_amount
from workflow import delivery as delivery_steps

from .approvals import BadButton
from .formats import local_day, money
from .language import Languages
from .mrkdwn import truncate
from .texts import TEXTS, Raw, mention, mentions, plain, status_word, t

log = logging.getLogger(__name__)

REPORT_PURCHASE, REPORT_RECEIPT, CERTIFY_RECEIPT = "report_purchase", "report_receipt", "certify_receipt"
# "Change the request" after approval: the answers reopen in the conversation; anything but a lower
# total goes back for approval (storage.binding).
CHANGE_APPROVED = "change_approved"
PURCHASE_MODAL = "purchase_report"
PURCHASE_REFUSED, RECEIPT_REFUSED, CERTIFICATION_REFUSED = (
    "purchase.refused", "receipt.refused", "certification.refused")
DONE_STATUSES = {storage.Status.PURCHASED.value, storage.Status.RECEIVED.value, storage.Status.CERTIFIED.value}
MODAL_ERROR = 150  # characters of an inline modal error
NOT_ANSWERING = plain("refused.db", "en")


class Refused(Exception):
    """A click or submission that is not allowed: a catalogue message (bot/texts.yml) and its values;
    a value may be a function of the reader's language (a status in words). str() is the English
    sentence, for the audit log."""

    def __init__(self, key: str, **values: Any):
        self.key, self.values = key, values
        super().__init__(plain(key, "en", **self._values("en")))

    def _values(self, language: str) -> Dict[str, Any]:
        return {name: value(language) if callable(value) else value for name, value in self.values.items()}

    def told(self, language: str) -> Raw:
        return t(self.key, language, **self._values(language))


def after_value(request_id: int, revision: int) -> str:
    return json.dumps({"r": request_id, "v": revision}, separators=(",", ":"))


def read_after_value(value: Any) -> Tuple[int, int]:
    try:
        data = json.loads(value)
        ids = data["r"], data["v"]
    except (TypeError, ValueError, KeyError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise BadButton("this button was not made by microbuy") from None
    # Ids are database integers: anything above 2**31 - 1 is not one of ours (PostgreSQL refuses it).
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2 ** 31 for i in ids):
        raise BadButton("this button was not made by microbuy")
    return ids


def click_key(channel: Optional[str], message_ts: Optional[str], action_id: str, request_id: int, revision: int) -> str:
    """The once-only key of a click: the message and the button (the request, if no message)."""
    if channel and message_ts:
        return f"{action_id}:{channel}:{message_ts}"
    return f"{action_id}:request:{request_id}:{revision}"


class AfterApproval:
    def __init__(self, sessions: sessionmaker, policy: Callable[[], LoadedPolicy],
                 today: Optional[Callable[[], date]] = None, languages: Optional[Languages] = None):
        self.sessions = sessions
        self.policy = policy
        self.languages = languages or Languages(sessions, policy)
        self._today = today

    # -- small things -----------------------------------------------------------------------------

    def today(self) -> date:
        """Today where the department is (the pack's time zone)."""
        if self._today is not None:
            return self._today()
        return workflow.today(self.policy())

    def _locale(self, language: Optional[str] = None) -> str:
        return self.policy().rules.pack.locale_for(language)

    def money(self, amount: Any, language: Optional[str] = None) -> str:
        if amount is None:
            return plain("delivery.no_amount", language)
        return money(self.policy(), amount, language)

    def _day(self, moment: Optional[datetime]) -> str:
        """The local date of a moment (certified_at)."""
        return local_day(self.policy(), moment) or "?"

    @staticmethod
    def _calendar_day(moment: Optional[datetime]) -> str:
        """A calendar date storage keeps as 00:00 UTC (purchased_at, received_at; storage.types.date_to_utc)."""
        return "?" if moment is None else moment.astimezone(timezone.utc).date().isoformat()

    # -- the messages, each in its reader's language ----------------------------------------------

    @staticmethod
    def approved_text(reference: str, approver: Optional[str] = None, language: str = "en") -> str:
        if approver:
            return t("delivery.approved_by", language, reference=reference, who=mention(approver))
        return t("delivery.approved", language, reference=reference)

    def approved_message(self, reference: str, request_id: int, revision: int,
                         approver: Optional[str] = None, language: Optional[str] = None) -> List[dict]:
        """The requester's DM on final approval: the news and an "I bought it" button."""
        language = language or self.policy().rules.pack.default_language
        return [
            {"type": "section", "block_id": "approved",
             "text": {"type": "mrkdwn", "text": self.approved_text(reference, approver, language)}},
            {"type": "actions", "block_id": "after_approval", "elements": [
                {"type": "button", "action_id": REPORT_PURCHASE, "style": "primary",
                 "value": after_value(request_id, revision),
                 "text": {"type": "plain_text", "text": plain("delivery.button.bought", language)}},
                {"type": "button", "action_id": CHANGE_APPROVED, "value": after_value(request_id, revision),
                 "text": {"type": "plain_text", "text": plain("delivery.button.change", language)}},
            ]},
        ]

    @staticmethod
    def _what(snap: Dict[str, Any], language: str) -> Raw:
        """What was bought and from whom, as the requester typed them (escaped)."""
        return t("delivery.what", language, title=snap["title"], supplier=snap["supplier_name"])

    def purchase_modal(self, snap: Dict[str, Any], channel: Optional[str], message_ts: Optional[str],
                       language: str = "en") -> dict:
        approved = self.money(snap["approved_max"], language)
        return {
            "type": "modal",
            "callback_id": PURCHASE_MODAL,
            "private_metadata": json.dumps({"r": snap["id"], "v": snap["revision"], "c": channel, "t": message_ts}),
            "title": {"type": "plain_text", "text": plain("delivery.modal.title", language)},
            "submit": {"type": "plain_text", "text": plain("delivery.modal.submit", language)},
            "close": {"type": "plain_text", "text": plain("delivery.modal.close", language)},
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": t(
                    "delivery.modal.intro", language, reference=snap["reference"], what=self._what(snap, language),
                    approved=approved)}},
                {"type": "input", "block_id": "amount",
                 "label": {"type": "plain_text", "text": plain("delivery.modal.amount", language)},
                 "hint": {"type": "plain_text",
                          "text": plain("delivery.modal.amount_hint", language, approved=approved)},
                 "element": {"type": "plain_text_input", "action_id": "amount", "max_length": 40,
                             "placeholder": {"type": "plain_text",
                                             "text": plain("delivery.modal.amount_example", language)}}},
                {"type": "input", "block_id": "date",
                 "label": {"type": "plain_text", "text": plain("delivery.modal.date", language)},
                 "element": {"type": "datepicker", "action_id": "date", "initial_date": self.today().isoformat()}},
            ],
        }

    def _purchase_line(self, snap: Dict[str, Any], language: str) -> Raw:
        return t("delivery.paid_line", language, paid=self.money(snap["amount_paid"], language),
                 day=snap["purchased_on"], approved=self.money(snap["approved_max"], language))

    def _receipt_blocks(self, snap: Dict[str, Any], language: str) -> List[dict]:
        return [
            {"type": "section", "block_id": "purchased", "text": {"type": "mrkdwn", "text": t(
                "delivery.recorded", language, reference=snap["reference"], what=self._what(snap, language),
                line=self._purchase_line(snap, language))}},
            {"type": "actions", "block_id": "receipt", "elements": [
                {"type": "button", "action_id": REPORT_RECEIPT, "style": "primary",
                 "value": after_value(snap["id"], snap["revision"]),
                 "text": {"type": "plain_text", "text": plain("delivery.button.received", language)}},
            ]},
        ]

    def _certify_section(self, snap: Dict[str, Any], language: str) -> dict:
        return {"type": "section", "block_id": "certify_what", "text": {"type": "mrkdwn", "text": t(
            "delivery.certify_what", language, reference=snap["reference"], requester=mention(snap["requester"]),
            what=self._what(snap, language), day=snap["received_on"], line=self._purchase_line(snap, language))}}

    def _certify_blocks(self, snap: Dict[str, Any], language: str) -> List[dict]:
        return [
            self._certify_section(snap, language),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": t("delivery.certify_only_if", language)}]},
            {"type": "actions", "block_id": "certify", "elements": [
                {"type": "button", "action_id": CERTIFY_RECEIPT, "style": "primary",
                 "value": after_value(snap["id"], snap["revision"]),
                 "text": {"type": "plain_text", "text": plain("delivery.button.certify", language)}},
            ]},
        ]

    # -- reading ----------------------------------------------------------------------------------

    def _snapshot(self, session: Session, req) -> Dict[str, Any]:
        return {
            "id": req.id, "revision": req.revision, "reference": req.reference, "status": req.status,
            "requester": req.requester, "supplier": req.supplier,
            # As typed, cut; escaped where they are written into a message.
            "title": truncate(req.title or req.description or req.category, 200),
            "supplier_name": truncate(req.supplier, 200),
            "approved_max": req.approved_max_amount, "amount_paid": req.amount_paid,
            "purchased_on": self._calendar_day(req.purchased_at), "received_on": self._calendar_day(req.received_at),
            "certified_by": req.certified_by, "certified_on": self._day(req.certified_at),
            "approver": delivery_steps.section_32_approver(session, req),
        }

    @staticmethod
    def certifiers(snap: Dict[str, Any], route: List[Dict[str, Any]]) -> List[str]:
        """Who is asked to certify (workflow.delivery.certifiers)."""
        return delivery_steps.certifiers(snap["requester"], snap.get("approver"), route)

    # -- 1. "I bought it" -------------------------------------------------------------------------

    def open_purchase_form(self, client: WebClient, *, user: str, value: Any, channel: Optional[str],
                           message_ts: Optional[str], trigger_id: Optional[str]) -> None:
        language = self.languages.of(user, client)  # the clicker's: they read the form or the refusal
        try:
            request_id, revision = read_after_value(value)
        except BadButton as exc:
            self._refuse(client, user, channel, PURCHASE_REFUSED, Refused("refused.bad_button"), None, value,
                         audit_why=str(exc))
            return
        try:
            with self.sessions() as session:
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
                req = storage.get_request(session, request_id)
                snap = self._snapshot(session, req)
        except storage.NotFound as exc:
            self._refuse(client, user, channel, PURCHASE_REFUSED,
                         Refused("refused.not_found", request=f"MB-{request_id:06d}"), None, value, audit_why=str(exc))
            return
        except (SQLAlchemyError, storage.StorageError):
            log.exception("purchase form for request %s not opened", request_id)
            self._tell(client, user, channel, t("refused.click", language, why=t("refused.db", language)))
            return
        reference = snap["reference"]
        refused: Optional[Refused] = None
        if user != snap["requester"]:
            refused = Refused("refused.only_requester_purchase", reference=reference)
        elif snap["revision"] == revision and snap["status"] in DONE_STATUSES:
            return  # reported already: a second click does nothing
        elif snap["revision"] != revision:
            refused = Refused("refused.button_changed", reference=reference, revision=revision,
                              current=snap["revision"])
        elif snap["status"] != storage.Status.APPROVED.value:
            status = snap["status"]
            refused = Refused("refused.not_approved", reference=reference,
                              status=lambda language: status_word(status, language))
        if refused is not None:
            self._refuse(client, user, channel, PURCHASE_REFUSED, refused, request_id, value)
            return
        try:
            client.views_open(trigger_id=trigger_id, view=self.purchase_modal(snap, channel, message_ts, language))
        except SlackApiError as exc:
            log.error("could not open the purchase form of %s: %s", reference, exc.response.get("error"))
            self._tell(client, user, channel, t("delivery.form_not_opened", language))

    # -- 2. the purchase_report modal -------------------------------------------------------------

    def purchase_reported(self, ack: Callable[..., None], client: WebClient, *, user: str, view: dict) -> None:
        """A submitted purchase_report modal: refuse bad input inline, else record the purchase."""
        language = self.languages.of(user, client)
        values = (view.get("state") or {}).get("values") or {}
        raw_amount = ((values.get("amount") or {}).get("amount") or {}).get("value")
        raw_date = ((values.get("date") or {}).get("date") or {}).get("selected_date")
        errors: Dict[str, str] = {}
        amount: Optional[Decimal] = None
        day: Optional[date] = None
        try:
            amount = parse_amount(raw_amount if raw_amount is not None else "", locale=self._locale(language))
        except AmountError as exc:
            errors["amount"] = truncate(self._amount_error(exc, language), MODAL_ERROR)
        try:
            day = date.fromisoformat(raw_date or "")
            if day > self.today():
                errors["date"] = plain("delivery.modal.date_future", language)
        except (TypeError, ValueError):
            errors["date"] = plain("delivery.modal.date_missing", language)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        assert amount is not None and day is not None  # both read, or there were errors
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            request_id, revision = read_after_value(json.dumps({"r": meta.get("r"), "v": meta.get("v")}))
        except (ValueError, AttributeError, BadButton):
            ack()
            self._refuse(client, user, None, PURCHASE_REFUSED, Refused("refused.bad_form"), None,
                         view.get("private_metadata"))
            return
        channel, message_ts = meta.get("c"), meta.get("t")
        key = click_key(channel, message_ts, REPORT_PURCHASE, request_id, revision)

        def purchase(session: Session) -> Dict[str, Any]:
            try:
                done = delivery_steps.purchase(session, request_id, revision=revision, actor=user, amount_paid=amount,
                                               purchased_on=day, today=self.today())
            except delivery_steps.StaleRevision as exc:
                raise Refused("refused.form_changed", reference=exc.reference, revision=exc.revision,
                              current=exc.current) from exc
            return self._snapshot(session, done.request)

        try:
            snap = self._once(key, purchase)
        except delivery_steps.FutureDate:  # today moved on while the form was open: say so in the form
            ack(response_action="errors", errors={"date": plain("delivery.modal.date_future", language)})
            return
        except storage.AmountExceedsApproval:
            self._too_much(ack, client, user, request_id, amount, value=after_value(request_id, revision),
                           language=language)
            return
        except (Refused, storage.NotAuthorized, storage.InvalidTransition, storage.NotFound, ValueError) as exc:
            ack()
            self._refuse(client, user, channel, PURCHASE_REFUSED, self._refusal(exc, "purchase", user, request_id),
                         request_id, after_value(request_id, revision), audit_why=str(exc))
            return
        except (SQLAlchemyError, storage.StorageError):
            log.exception("purchase of request %s by %s not recorded", request_id, user)
            why = plain("refused.db", language)
            ack(response_action="errors", errors={"amount": truncate(why[:1].upper() + why[1:], MODAL_ERROR)})
            return
        ack()
        if snap is None:
            return  # this button's purchase was recorded already
        # The requester clicked (only they may): their language throughout.
        if channel and message_ts:
            self._update(client, channel, message_ts, snap["reference"], [
                {"type": "section", "block_id": "approved",
                 "text": {"type": "mrkdwn", "text": self.approved_text(snap["reference"], snap["approver"], language)}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": t(
                    "delivery.purchase_reported", language, line=self._purchase_line(snap, language))}]},
            ])
        self._dm(client, snap["requester"], t("delivery.recorded_short", language, reference=snap["reference"]),
                 self._receipt_blocks(snap, language))

    def _amount_error(self, exc: AmountError, language: str) -> str:
        """Why the amount was not taken, in the reader's language: the catalogue's text for the
        amount reader's code (its general sentence for a code it does not word yet)."""
        key = f"amount.{exc.code}"
        if key not in TEXTS:
            return plain("delivery.modal.amount_invalid", language)
        values = {name: format_money(value, locale=self._locale(language), symbol=False) if isinstance(value, Decimal)
                  else value for name, value in exc.values.items()}
        return plain(key, language, **values)

    def _too_much(self, ack, client: WebClient, user: str, request_id: int, amount: Decimal, value: str,
                  language: str) -> None:
        """Paid above the section 32 maximum: nothing recorded; the modal stays open; say what to do."""
        try:
            with self.sessions() as session:
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
                req = storage.get_request(session, request_id)
                snap = self._snapshot(session, req)
                route = list(req.route or [])
        except (SQLAlchemyError, storage.StorageError):
            log.exception("request %s not read after a refused purchase", request_id)
            snap, route = None, []
        approved = self.money(snap["approved_max"], language) if snap else plain("delivery.approved_maximum", language)
        ack(response_action="errors", errors={"amount": truncate(
            plain("delivery.modal.too_much", language, approved=approved), MODAL_ERROR)})
        reference = snap["reference"] if snap else f"MB-{request_id:06d}"
        approved_en = self.money(snap["approved_max"], "en") if snap else "the approved maximum"
        why = f"{self.money(amount, 'en')} paid is more than the approved maximum of {approved_en}"
        self._audit(user, PURCHASE_REFUSED, request_id, {"why": why, "amount_paid": str(amount), "button": value})
        approvers = self.certifiers(snap, route) if snap else []
        who = mentions(approvers, language) or plain("delivery.your_approver", language)
        paid = self.money(amount, language)
        not_recorded = t("delivery.not_recorded", language, paid=paid, approved=approved, reference=reference)
        self._dm(client, user, not_recorded, [
            {"type": "section", "text": {"type": "mrkdwn", "text": t(
                "delivery.too_much", language, paid=paid, approved=approved, reference=reference)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": t(
                "delivery.too_much_next", language, approved=approved, who=who, reference=reference)}},
        ])

    # -- 3. "Received it" -------------------------------------------------------------------------

    def report_receipt(self, client: WebClient, *, user: str, value: Any, channel: Optional[str],
                       message_ts: Optional[str]) -> None:
        today = self.today()

        def receive(session: Session, request_id: int, revision: int) -> Tuple[Dict[str, Any], List[str]]:
            done = delivery_steps.receive(session, request_id, revision=revision, actor=user, today=today)
            return self._snapshot(session, done.request), done.certifiers

        done = self._button_step(client, user=user, value=value, channel=channel, message_ts=message_ts,
                                 action_id=REPORT_RECEIPT, refused=RECEIPT_REFUSED, doing="receipt", work=receive)
        if done is None:
            return  # refused, not recorded, or a second click
        snap, certifiers = done
        language = self.languages.of(user, client)  # the requester's (only they may report it)
        who = mentions(certifiers, language) or plain("delivery.an_approver", language)
        if channel and message_ts:
            self._update(client, channel, message_ts, snap["reference"], [
                self._receipt_blocks(snap, language)[0],
                {"type": "context", "elements": [{"type": "mrkdwn", "text": t(
                    "delivery.receipt_reported", language, day=snap["received_on"], who=who)}]},
            ])
        for certifier in certifiers:
            theirs = self.languages.of(certifier, client)
            self._dm(client, certifier, t("delivery.certify_please", theirs, reference=snap["reference"]),
                     self._certify_blocks(snap, theirs))

    # -- 4. "Certify receipt (section 34)" --------------------------------------------------------

    def certify(self, client: WebClient, *, user: str, value: Any, channel: Optional[str],
                message_ts: Optional[str]) -> None:
        def certify(session: Session, request_id: int, revision: int) -> Dict[str, Any]:
            return self._snapshot(session, delivery_steps.certify(session, request_id, revision=revision,
                                                                  actor=user).request)

        snap = self._button_step(client, user=user, value=value, channel=channel, message_ts=message_ts,
                                 action_id=CERTIFY_RECEIPT, refused=CERTIFICATION_REFUSED, doing="certification",
                                 work=certify)
        if snap is None:
            return  # refused, not recorded, or a second click
        if channel and message_ts:
            language = self.languages.of(user, client)  # the certifier's, as their message was
            self._update(client, channel, message_ts, snap["reference"], [
                self._certify_section(snap, language),
                {"type": "context", "elements": [{"type": "mrkdwn", "text": t(
                    "delivery.certified", language, who=mention(user), day=snap["certified_on"])}]},
            ])
        requester = self.languages.of(snap["requester"], client)
        self._dm(client, snap["requester"], t("delivery.closed", requester, reference=snap["reference"],
                                              who=mention(user), day=snap["certified_on"]))

    # -- plumbing ---------------------------------------------------------------------------------

    def _refusal(self, exc: Exception, doing: str, user: str, request_id: int) -> Refused:
        """A refusal the bot words itself: storage's exceptions read by kind (storage words them in
        English, for the audit log)."""
        if isinstance(exc, Refused):
            return exc
        if isinstance(exc, delivery_steps.StaleRevision):
            return Refused("refused.button_changed", reference=exc.reference, revision=exc.revision,
                           current=exc.current)
        if isinstance(exc, storage.NotFound):
            return Refused("refused.not_found", request=f"MB-{request_id:06d}")
        try:
            with self.sessions() as session:
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
                req = storage.get_request(session, request_id)
                reference, status = req.reference, req.status
        except (SQLAlchemyError, storage.NotFound):
            log.exception("request %s not read again to explain a refusal", request_id)
            return Refused("refused.other", why=str(exc))
        if isinstance(exc, storage.SelfApproval):
            return Refused("refused.self_certify", who=mention(user), reference=reference)
        if isinstance(exc, storage.NotAuthorized):
            if doing == "certification":
                return Refused("refused.not_on_route", who=mention(user), reference=reference)
            return Refused(f"refused.only_requester_{doing}", reference=reference)
        if isinstance(exc, storage.InvalidTransition):
            return Refused("refused.wrong_status", reference=reference,
                           status=lambda language: status_word(status, language))
        return Refused("refused.other", why=str(exc))

    def _button_step(self, client: WebClient, *, user: str, value: Any, channel: Optional[str],
                     message_ts: Optional[str], action_id: str, refused: str, doing: str,
                     work: Callable[[Session, int, int], Any]) -> Any:
        """A button's effect, once, on the revision the button was sent for: `work`'s result, or
        None when the click is refused (explained and audited), not recorded, or a second one."""
        try:
            request_id, revision = read_after_value(value)
        except BadButton as exc:
            self._refuse(client, user, channel, refused, Refused("refused.bad_button"), None, value, audit_why=str(exc))
            return None

        try:
            return self._once(click_key(channel, message_ts, action_id, request_id, revision),
                              lambda session: work(session, request_id, revision))
        except (Refused, storage.NotAuthorized, storage.InvalidTransition, storage.NotFound, ValueError) as exc:
            self._refuse(client, user, channel, refused, self._refusal(exc, doing, user, request_id), request_id,
                         value, audit_why=str(exc))
        except (SQLAlchemyError, storage.StorageError):
            log.exception("%s of request %s by %s not recorded", doing, request_id, user)
            language = self.languages.of(user, client)
            self._tell(client, user, channel, t("refused.click", language, why=t("refused.db", language)))
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
        except (SQLAlchemyError, storage.StorageError):
            log.exception("%s by %s not audited", action, user)

    def _refuse(self, client: WebClient, user: str, channel: Optional[str], action: str, refused: Refused,
                request_id: Optional[int], value: Any, audit_why: Optional[str] = None) -> None:
        """Audit the refusal (in English, or storage's own sentence) and tell the clicker why, in
        their language."""
        self._audit(user, action, request_id, {"why": audit_why or str(refused), "button": str(value)[:500]})
        language = self.languages.of(user, client)
        self._tell(client, user, channel, t("refused.not_done", language, why=refused.told(language)))

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
