"""Direct messages and mentions: the requester's side of the purchase conversation."""
from __future__ import annotations

from slack_bolt import App


def register(app: App, services) -> None:
    @app.event("message")
    def direct_message(event, body, client):
        # Only people writing in the bot's DM; edits, joins and the bot's own posts are not turns.
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        if not services.first_time(body.get("event_id"), "event"):
            return  # a retried delivery (X-Slack-Retry-Num) of a message already handled
        services.conversation.relay(client, body.get("team_id"), event["user"], event["channel"], event.get("text", ""))

    @app.event("app_mention")
    def mention(event, body, client):
        if not services.first_time(body.get("event_id"), "event"):
            return
        channel = services.conversation.dm_channel(client, event["user"])
        if channel is None:
            return
        text = services.without_mentions(event.get("text", ""))
        services.conversation.relay(client, body.get("team_id"), event["user"], channel, text or "help")
