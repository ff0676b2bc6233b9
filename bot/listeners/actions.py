"""Button clicks: answers to the bot's questions, and decisions in the approval channel."""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Dict, Optional

from slack_bolt import App
from slack_bolt.request.payload_utils import to_action
from slack_sdk.errors import SlackApiError

from ..approvals import APPROVE, CHANGES, OUTCOME_OF, REJECT, Approvals
from ..mrkdwn import truncate
from ..texts import t
from .clicks import team_of, where
from .middleware import once

if TYPE_CHECKING:
    from ..app import Services
    from .middleware import LazyLanguage

log = logging.getLogger(__name__)
ANSWER = re.compile(r"^rasa_button_\d+$")


def answer_key(body: Dict[str, Any]) -> Optional[str]:
    """One answer per question: a second click on the same message does nothing."""
    channel, _ = where(body)
    return f"answer:{channel}:{(body.get('message') or {}).get('ts')}"


def decision_key(body: Dict[str, Any]) -> Optional[str]:
    """One decision per click: Slack's redelivery of the same click (its action_ts) does nothing."""
    action = to_action(body) or {}
    return f"decision:{action.get('action_ts')}:{body['user']['id']}"


def answer_button(ack, body, action, client, services: Services, language: LazyLanguage) -> None:
    ack()
    channel, _ = where(body)
    message = body.get("message") or {}
    title = (action.get("text") or {}).get("text", "")
    user = body["user"]["id"]
    theirs = language()
    kept = [b for b in message.get("blocks", []) if b.get("type") != "actions"]
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t(
        "conversation.you_chose", theirs, title=truncate(title, 200))}]})
    try:
        client.chat_update(channel=channel, ts=message.get("ts"), text=message.get("text") or title, blocks=kept)
    except Exception:  # noqa: BLE001 - removing the buttons is a courtesy; the answer still goes through
        pass
    # relay takes a missing team as "T0", and a click on the bot's question always has its channel.
    services.conversation.relay(client, team_of(body), user, channel, action.get("value", ""),  # type: ignore[arg-type]
                                language=theirs)


def approve(ack, body, action, client, services: Services) -> None:
    ack()
    channel, message_ts = where(body)
    services.approvals.decide(client, user=body["user"]["id"], value=action.get("value"), outcome="approved",
                              channel=channel, message_ts=message_ts)


def ask_reason(ack, body, action, client, language: LazyLanguage) -> None:
    ack()
    theirs = language()  # the clicker reads the modal
    modal = Approvals.reason_modal(OUTCOME_OF[action["action_id"]], action.get("value", ""), *where(body),
                                   language=theirs)
    try:
        # Slack honours a trigger for 3 s; an expired or missing one opens nothing, so say so.
        client.views_open(trigger_id=body.get("trigger_id") or "", view=modal)
    except SlackApiError as exc:
        log.error("reason form not opened for %s: %s", body["user"]["id"], exc.response.get("error"))
        Approvals._ephemeral(client, where(body)[0], body["user"]["id"], t("reason.not_opened", theirs))


def register(app: App) -> None:
    app.action(ANSWER)(once(answer_key, "click")(answer_button))
    app.action(APPROVE)(once(decision_key, "click")(approve))
    app.action(REJECT)(ask_reason)
    app.action(CHANGES)(ask_reason)
