"""After approval: "I bought it" and its modal, "Received it", "Certify receipt (section 34)"
(bot/delivery.py does the work; each click is claimed there with its effect), and "Change the
request" (claimed here, by its listener middleware)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from slack_bolt import App
from slack_bolt.request.payload_utils import to_action

from ..approvals import BadButton
from ..delivery import (
    CERTIFY_RECEIPT,
    CHANGE_APPROVED,
    PURCHASE_MODAL,
    REPORT_PURCHASE,
    REPORT_RECEIPT,
    read_after_value,
)
from .clicks import team_of, where
from .middleware import once

if TYPE_CHECKING:
    from ..app import Services
    from .middleware import LazyLanguage


def report_purchase(ack, body, action, client, services: Services) -> None:
    ack()
    channel, message_ts = where(body)
    services.after_approval.open_purchase_form(client, user=body["user"]["id"], value=action.get("value"),
                                               channel=channel, message_ts=message_ts,
                                               trigger_id=body.get("trigger_id"))


def purchase_reported(ack, body, view, client, services: Services) -> None:
    # Acknowledged inside: a bad amount or one above the approval keeps the modal open.
    services.after_approval.purchase_reported(ack, client, user=body["user"]["id"], view=view)


def change_key(body: Dict[str, Any]) -> Optional[str]:
    """One reopening per message and request; a button that is not ours claims nothing (the
    listener ignores it)."""
    try:
        request_id, _ = read_after_value((to_action(body) or {}).get("value"))
    except BadButton:
        return None
    channel, message_ts = where(body)
    return f"change:{channel}:{message_ts}:{request_id}"


def change_approved(ack, body, action, client, services: Services, language: LazyLanguage) -> None:
    """The requester changes an approved request (a higher price, say): the conversation
    reopens on the summary; the dialogue checks it is theirs and still approved."""
    ack()
    user = body["user"]["id"]
    try:
        request_id, _ = read_after_value(action.get("value"))
    except BadButton:
        return
    services.conversation.reopen_for_changes(client, team_of(body), user, request_id, [], language=language())


def report_receipt(ack, body, action, client, services: Services) -> None:
    ack()
    channel, message_ts = where(body)
    services.after_approval.report_receipt(client, user=body["user"]["id"], value=action.get("value"),
                                           channel=channel, message_ts=message_ts)


def certify_receipt(ack, body, action, client, services: Services) -> None:
    ack()
    channel, message_ts = where(body)
    services.after_approval.certify(client, user=body["user"]["id"], value=action.get("value"), channel=channel,
                                    message_ts=message_ts)


def register(app: App) -> None:
    app.action(REPORT_PURCHASE)(report_purchase)
    app.view(PURCHASE_MODAL)(purchase_reported)
    app.action(CHANGE_APPROVED)(once(change_key, "click")(change_approved))
    app.action(REPORT_RECEIPT)(report_receipt)
    app.action(CERTIFY_RECEIPT)(certify_receipt)
