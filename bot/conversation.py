"""A requester's message, relayed to Rasa, with the replies posted back in their DM.

Each message goes to Rasa with the person's language (bot/language.py) as its metadata, and the
dialogue answers in it: the listener hands it in (bot/listeners/middleware.py, `Language`);
without it, it is asked here. When a reply carries the custom payload {"type": "language",
"language": "fr"}, the person asked for the other language in the conversation ("en français
svp"): it is recorded as their choice before anything of the turn is posted, so the rest of the
turn (and every message after it) is in that language. With {"type": "submitted", "request_id":
...} the request is in the database and goes to its approvers (approvals.post_for_approval).
"""
from __future__ import annotations

import json
import logging
from typing import Callable, Optional

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .language import Languages
from .rasa import RasaClient, RasaUnavailable
from .render import render_replies
from .texts import FALLBACK, plain, t

log = logging.getLogger(__name__)

RASA_DOWN = plain("conversation.rasa_down", "en")
MAX_TEXT = 10_000


class Conversation:
    def __init__(self, rasa: RasaClient, on_submitted: Callable[..., None], languages: Optional[Languages] = None):
        self.rasa = rasa
        self.on_submitted = on_submitted  # (client, request_id, changes=None): post for approval
        self.languages = languages

    def language(self, client: Optional[WebClient], user_id: str) -> str:
        """The language `user_id` is served in (English without a Languages, as in small tests)."""
        return self.languages.of(user_id, client) if self.languages is not None else FALLBACK

    def relay(self, client: WebClient, team_id: str, user_id: str, channel: str, text: str,
              language: Optional[str] = None) -> None:
        """Send the requester's text to Rasa and post every reply in `channel`. `language`: the
        requester's, when the caller has it (a listener: the middleware's `language`); else asked."""
        language = language or self.language(client, user_id)
        try:
            text = text if isinstance(text, str) else ""  # an event's "text" that is not text (null, 5)
            replies = self.rasa.send(team_id or "T0", user_id, text[:MAX_TEXT + 1], language=language)
        except RasaUnavailable as exc:
            log.error("message from %s not handled: %s", user_id, exc)
            client.chat_postMessage(channel=channel, text=t("conversation.rasa_down", language))
            return
        rendered = render_replies(replies)
        for custom in rendered.customs:
            if isinstance(custom, dict) and custom.get("type") == "language":
                self._switch(user_id, custom.get("language"))
        for message in rendered.messages:
            client.chat_postMessage(channel=channel, **message)
        for custom in rendered.customs:
            if not isinstance(custom, dict):
                continue
            if custom.get("type") in ("submitted", "resubmitted") and isinstance(custom.get("request_id"), int):
                changes = custom.get("changes") if isinstance(custom.get("changes"), dict) else None
                self.on_submitted(client, custom["request_id"], changes=changes)

    def reopen_for_changes(self, client: WebClient, team_id: Optional[str], user_id: str, request_id: int,
                           fields: list, language: Optional[str] = None) -> None:
        """An approver sent `request_id` back (or the requester asked to change it): the requester's
        conversation asks the named answers. `language`: the requester's when the caller has it
        (the requester clicked); after an approver's click it is asked for the requester."""
        channel = self.dm_channel(client, user_id)
        if channel is None:
            return
        message = "/revise_request" + json.dumps({"request_id": request_id, "fields": list(fields)})
        self.relay(client, team_id or "T0", user_id, channel, message, language=language)

    def _switch(self, user_id: str, language: object) -> None:
        """The person asked for `language` in the conversation: their choice from now on."""
        if self.languages is None or not isinstance(language, str):
            log.warning("language payload for %s not recorded: %r", user_id, language)
            return
        self.languages.choose(user_id, language, "conversation")

    def dm_channel(self, client: WebClient, user_id: str) -> Optional[str]:
        try:
            return client.conversations_open(users=user_id)["channel"]["id"]
        except SlackApiError as exc:
            log.error("cannot open a DM with %s: %s", user_id, exc.response.get("error"))
            return None
