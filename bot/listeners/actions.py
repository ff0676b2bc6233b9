"""Button clicks: answers to the bot's questions, and decisions in the approval channel."""
from __future__ import annotations

import re

from slack_bolt import App

from ..approvals import APPROVE, CHANGES, OUTCOME_OF, REJECT, Approvals
from ..mrkdwn import escape, truncate


def register(app: App, services) -> None:
    @app.action(re.compile(r"^rasa_button_\d+$"))
    def answer_button(ack, body, action, client):
        ack()
        channel = body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id")
        message = body.get("message") or {}
        # One answer per question: a second click on the same message does nothing.
        if not services.first_time(f"answer:{channel}:{message.get('ts')}", "click"):
            return
        title = (action.get("text") or {}).get("text", "")
        kept = [b for b in message.get("blocks", []) if b.get("type") != "actions"]
        kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"You chose: *{escape(truncate(title, 200))}*"}]})
        try:
            client.chat_update(channel=channel, ts=message.get("ts"), text=message.get("text") or title, blocks=kept)
        except Exception:  # noqa: BLE001 - removing the buttons is a courtesy; the answer still goes through
            pass
        user = body["user"]["id"]
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id")
        services.conversation.relay(client, team, user, channel, action.get("value", ""))

    @app.action(APPROVE)
    def approve(ack, body, action, client):
        ack()
        if not services.first_time(f"decision:{action.get('action_ts')}:{body['user']['id']}", "click"):
            return
        services.approvals.decide(client, user=body["user"]["id"], value=action.get("value"), outcome="approved",
                                  channel=(body.get("channel") or {}).get("id"),
                                  message_ts=(body.get("message") or {}).get("ts"))

    @app.action(REJECT)
    @app.action(CHANGES)
    def ask_reason(ack, body, action, client):
        ack()
        modal = Approvals.reason_modal(OUTCOME_OF[action["action_id"]], action.get("value", ""),
                                       (body.get("channel") or {}).get("id"), (body.get("message") or {}).get("ts"))
        client.views_open(trigger_id=body["trigger_id"], view=modal)
