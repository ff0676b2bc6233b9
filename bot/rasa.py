"""The Rasa REST webhook, as the Slack app talks to it: one conversation per Slack user."""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional

import httpx

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with an error; the requester must be told."""


class RasaClient:
    def __init__(self, base_url: str, secret: str, timeout: float = TIMEOUT_S):
        self.url = f"{base_url.rstrip('/')}/webhooks/rest/webhook"
        self._http = httpx.Client(timeout=timeout)
        # Rasa's webhook starts a turn only for the holder of MICROBUY_RASA_SECRET (dialogues/rasa_plugins/channel.py).
        self._headers = {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}

    def send(self, team_id: str, user_id: str, text: str, language: Optional[str] = None) -> List[Dict[str, Any]]:
        """The bot's replies to one message from `user_id` of `team_id` (sender id team:user),
        asked in `language` (sent as the message's metadata; the dialogue answers in it)."""
        sender = f"{team_id}:{user_id}"
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if language:
            body["metadata"] = {"language": language}
        try:
            # json.dumps escapes every non-ASCII character, so a lone surrogate in a Slack message
            # (an emoji cut in half) is sent as \ud83d rather than failing to encode as UTF-8.
            answer = self._http.post(self.url, content=json.dumps(body), headers=self._headers)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa at {self.url} did not answer: {type(exc).__name__}") from exc
        if answer.status_code != 200:
            raise RasaUnavailable(f"Rasa at {self.url} answered HTTP {answer.status_code}")
        try:
            replies = answer.json()
        except ValueError as exc:
            raise RasaUnavailable(f"Rasa at {self.url} answered something that is not JSON") from exc
        if not isinstance(replies, list):
            raise RasaUnavailable(f"Rasa at {self.url} answered {type(replies).__name__}, not a list of messages")
        return replies

    def close(self) -> None:
        self._http.close()
