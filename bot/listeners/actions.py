"""Button clicks: answers to the bot's questions, and decisions in the approval channel."""
from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from ..approvals import APPROVE, CHANGES, OUTCOME_OF, REJECT, Approvals
from ..mrkdwn import truncate
from ..texts import t
from .clicks import team_of, where

log = logging.getLogger(__name__)


def register(app: App, services) -> None:
    @app.action(re.compile(r"^rasa_button_\d+$"))
    def answer_button(ack, body, action, client):
        ack()
        channel, _ = where(body)
        message = body.get("message") or {}
        # One answer per question: a second click on the same message does nothing.
        if not services.first_time(f"answer:{channel}:{message.get('ts')}", "click"):
            return
        title = (action.get("text") or {}).get("text", "")
        user = body["user"]["id"]
        language = services.languages.of(user, client)
        kept = [b for b in message.get("blocks", []) if b.get("type") != "actions"]
        kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t(
            "conversation.you_chose", language, title=truncate(title, 200))}]})
        try:
            client.chat_update(channel=channel, ts=message.get("ts"), text=message.get("text") or title, blocks=kept)
        except Exception:  # noqa: BLE001 - removing the buttons is a courtesy; the answer still goes through
            pass
        services.conversation.relay(client, team_of(body), user, channel, action.get("value", ""))

    @app.action(APPROVE)
    def approve(ack, body, action, client):
        ack()
        if not services.first_time(f"decision:{action.get('action_ts')}:{body['user']['id']}", "click"):
            return
        channel, message_ts = where(body)
        services.approvals.decide(client, user=body["user"]["id"], value=action.get("value"), outcome="approved",
                                  channel=channel, message_ts=message_ts)

    @app.action(REJECT)
    @app.action(CHANGES)
    def ask_reason(ack, body, action, client):
        ack()
        language = services.languages.of(body["user"]["id"], client)  # the clicker reads the modal
        modal = Approvals.reason_modal(OUTCOME_OF[action["action_id"]], action.get("value", ""), *where(body),
                                       language=language)
        try:
            # Slack honours a trigger for 3 s; an expired or missing one opens nothing, so say so.
            client.views_open(trigger_id=body.get("trigger_id") or "", view=modal)
        except SlackApiError as exc:
            log.error("reason form not opened for %s: %s", body["user"]["id"], exc.response.get("error"))
            Approvals._ephemeral(client, where(body)[0], body["user"]["id"], t("reason.not_opened", language))
