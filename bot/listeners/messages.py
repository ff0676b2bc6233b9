"""Direct messages and mentions: the requester's side of the purchase conversation."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from slack_bolt import App

from .middleware import event_id, once

if TYPE_CHECKING:
    from ..app import Services
    from .middleware import LazyLanguage


def a_turn(event: Dict[str, Any]) -> bool:
    """Only people writing in the bot's DM; edits, joins and the bot's own posts are not turns."""
    return event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")


def turn_event_id(body: Dict[str, Any]) -> Optional[str]:
    """The claim of a message event: its id, for a turn only (what is ignored is not claimed)."""
    return event_id(body) if a_turn(body.get("event") or {}) else None


def direct_message(event, body, client, services: Services, language: LazyLanguage) -> None:
    if not a_turn(event):
        return
    services.conversation.relay(client, body.get("team_id"), event["user"], event["channel"], event.get("text", ""),
                                language=language())


def mention(event, body, client, services: Services, language: LazyLanguage) -> None:
    channel = services.conversation.dm_channel(client, event["user"])
    if channel is None:
        return
    text = services.without_mentions(event.get("text", ""))
    services.conversation.relay(client, body.get("team_id"), event["user"], channel, text or "help",
                                language=language())


def register(app: App) -> None:
    # A retried delivery (X-Slack-Retry-Num) of an event already handled goes no further than once.
    app.event("message")(once(turn_event_id, "event")(direct_message))
    app.event("app_mention")(once(event_id, "event")(mention))
