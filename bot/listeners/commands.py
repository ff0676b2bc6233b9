"""/buy: start a purchase (with what follows the command, if anything) in the requester's DM."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from slack_bolt import App

from ..texts import plain
from .middleware import once

if TYPE_CHECKING:
    from ..app import Services
    from .middleware import LazyLanguage


def trigger_id(body: Dict[str, Any]) -> Optional[str]:
    """The claim of a command: its trigger, the same in Slack's retry."""
    return body.get("trigger_id")


def buy(ack, command, client, services: Services, language: LazyLanguage) -> None:
    ack()  # within Slack's 3 seconds; the conversation follows in the DM
    channel = services.conversation.dm_channel(client, command["user_id"])
    if channel is None:
        return
    text = (command.get("text") or "").strip()
    # "/start_purchase" is the intent itself; Rasa would read a bare "/buy" as an unknown intent.
    # With text, the sentence is the person's own language, as they would have typed it.
    theirs = language()
    message = plain("command.buy", theirs, text=text) if text else "/start_purchase"
    services.conversation.relay(client, command.get("team_id"), command["user_id"], channel, message, language=theirs)


def register(app: App) -> None:
    app.command("/buy")(once(trigger_id, "command")(buy))
