"""After approval: "I bought it" and its modal, "Received it", "Certify receipt (section 34)"
(bot/delivery.py does the work; each click is claimed there with its effect)."""
from __future__ import annotations

from slack_bolt import App

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


def register(app: App, services) -> None:
    flow = services.after_approval

    @app.action(REPORT_PURCHASE)
    def report_purchase(ack, body, action, client):
        ack()
        channel, message_ts = where(body)
        flow.open_purchase_form(client, user=body["user"]["id"], value=action.get("value"), channel=channel,
                                message_ts=message_ts, trigger_id=body.get("trigger_id"))

    @app.view(PURCHASE_MODAL)
    def purchase_reported(ack, body, view, client):
        # Acknowledged inside: a bad amount or one above the approval keeps the modal open.
        flow.purchase_reported(ack, client, user=body["user"]["id"], view=view)

    @app.action(CHANGE_APPROVED)
    def change_approved(ack, body, action, client):
        """The requester changes an approved request (a higher price, say): the conversation
        reopens on the summary; the dialogue checks it is theirs and still approved."""
        ack()
        user = body["user"]["id"]
        try:
            request_id, _ = read_after_value(action.get("value"))
        except BadButton:
            return
        channel, message_ts = where(body)
        if not services.first_time(f"change:{channel}:{message_ts}:{request_id}", "click"):
            return
        services.conversation.reopen_for_changes(client, team_of(body), user, request_id, [])

    @app.action(REPORT_RECEIPT)
    def report_receipt(ack, body, action, client):
        ack()
        channel, message_ts = where(body)
        flow.report_receipt(client, user=body["user"]["id"], value=action.get("value"), channel=channel,
                            message_ts=message_ts)

    @app.action(CERTIFY_RECEIPT)
    def certify_receipt(ack, body, action, client):
        ack()
        channel, message_ts = where(body)
        flow.certify(client, user=body["user"]["id"], value=action.get("value"), channel=channel,
                     message_ts=message_ts)
