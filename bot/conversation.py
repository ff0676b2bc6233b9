"""A requester's message, relayed to Rasa, with the replies posted back in their DM.

When a reply carries the custom payload {"type": "submitted", "request_id": ...}, the request
is in the database and goes to its approvers (approvals.post_for_approval).
"""
from __future__ import annotations

import json
import logging
from typing import Callable, Optional

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .rasa import RasaClient, RasaUnavailable
from .render import render_replies

log = logging.getLogger(__name__)

RASA_DOWN = ("Sorry, I can't reach the purchase assistant right now, so nothing was done with your message. "
             "Please try again in a minute.")
MAX_TEXT = 10_000


class Conversation:
    def __init__(self, rasa: RasaClient, on_submitted: Callable[..., None]):
        self.rasa = rasa
        self.on_submitted = on_submitted  # (client, request_id, changes=None): post for approval

    def relay(self, client: WebClient, team_id: str, user_id: str, channel: str, text: str) -> None:
        """Send the requester's text to Rasa and post every reply in `channel`."""
        try:
            replies = self.rasa.send(team_id or "T0", user_id, (text or "")[:MAX_TEXT + 1])
        except RasaUnavailable as exc:
            log.error("message from %s not handled: %s", user_id, exc)
            client.chat_postMessage(channel=channel, text=RASA_DOWN)
            return
        rendered = render_replies(replies)
        for message in rendered.messages:
            client.chat_postMessage(channel=channel, **message)
        for custom in rendered.customs:
            if custom.get("type") in ("submitted", "resubmitted") and isinstance(custom.get("request_id"), int):
                changes = custom.get("changes") if isinstance(custom.get("changes"), dict) else None
                self.on_submitted(client, custom["request_id"], changes=changes)

    def reopen_for_changes(self, client: WebClient, team_id: Optional[str], user_id: str, request_id: int,
                           fields: list) -> None:
        """An approver sent `request_id` back: the requester's conversation asks the named answers."""
        channel = self.dm_channel(client, user_id)
        if channel is None:
            return
        message = "/revise_request" + json.dumps({"request_id": request_id, "fields": list(fields)})
        self.relay(client, team_id or "T0", user_id, channel, message)

    def dm_channel(self, client: WebClient, user_id: str) -> Optional[str]:
        try:
            return client.conversations_open(users=user_id)["channel"]["id"]
        except SlackApiError as exc:
            log.error("cannot open a DM with %s: %s", user_id, exc.response.get("error"))
            return None
