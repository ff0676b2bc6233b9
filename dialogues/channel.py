"""The REST webhook the Slack app talks to, with one guard Rasa lacks.

When the action server is down, Rasa still runs the turn: the form skips the checks and could
reach "submitted" with unchecked answers, and the requester hears nothing. This channel asks the
action server first; if it is not answering, the message is not processed at all (the
conversation stays as it was) and the requester is told plainly. A turn that still produces no
reply (the action server died during it) gets the same explanation.

    POST /webhooks/rest/webhook  {"sender": "T123:U456", "message": "I need a webcam"}
    -> [{"recipient_id": ..., "text": ..., "buttons": [...]}, {"recipient_id": ..., "custom": {...}}]
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import httpx
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

log = logging.getLogger(__name__)

MAX_MESSAGE = 10_000  # characters; Slack allows 40,000, no purchase answer needs a tenth of that
MAX_SENDER = 200
HEALTH_TIMEOUT_S = 2.0

DOWN = "utter_action_server_down"
FAILED = "utter_turn_failed"
TOO_LONG = "utter_message_too_long"
FALLBACK_TEXT = {
    DOWN: "I can't check answers against the policy right now, so nothing was done with your message. Please try again in a minute.",
    FAILED: "Something went wrong while handling your message and nothing was submitted. Please try again in a minute.",
    TOO_LONG: "That message is too long for me. Please keep it under 10,000 characters.",
}


class MicrobuyRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self, action_server_health_url: Optional[str] = None) -> None:
        self.health_url = action_server_health_url

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "MicrobuyRestInput":
        return cls(**(credentials or {}))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("microbuy_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request):
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            body = request.json if _is_json(request) else None
            if not isinstance(body, dict):
                return response.json({"error": "the body must be a JSON object with 'sender' and 'message'"}, status=400)
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER:
                return response.json({"error": "'sender' must be a non-empty text id such as T123:U456"}, status=400)
            if not isinstance(text, str):
                return response.json({"error": "'message' must be text"}, status=400)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            if len(text) > MAX_MESSAGE:
                return response.json(_reply(request, sender, TOO_LONG))
            if not await self._action_server_up(request):
                log.error("action server not answering; message from %s not processed", sender)
                return response.json(_reply(request, sender, DOWN))
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except Exception:  # noqa: BLE001 - the requester gets an answer whatever went wrong
                log.exception("turn failed for %s", sender)
                return response.json(_reply(request, sender, FAILED))
            if not collector.messages:
                key = DOWN if not await self._action_server_up(request) else FAILED
                log.error("turn for %s produced no reply (%s)", sender, key)
                return response.json(_reply(request, sender, key))
            return response.json(collector.messages)

        return webhook

    async def _action_server_up(self, request: Request) -> bool:
        url = self.health_url or _health_url_of(request)
        if not url:
            return True  # no action server configured: nothing to check
        try:
            async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_S) as client:
                answer = await client.get(url)
            if answer.status_code != 200:
                log.warning("action server health %s answered %s", url, answer.status_code)
            return answer.status_code == 200
        except httpx.HTTPError as exc:
            log.warning("action server health %s: %s", url, exc)
            return False


def _is_json(request: Request) -> bool:
    try:
        request.json
        return True
    except Exception:  # noqa: BLE001 - sanic raises its own error for a body that is not JSON
        return False


def _health_url_of(request: Request) -> Optional[str]:
    """The action server's /health, from the endpoint `rasa run` was given."""
    agent = getattr(request.app.ctx, "agent", None)
    endpoint = getattr(agent, "action_endpoint", None)
    url = getattr(endpoint, "url", None)
    if not url:
        return None
    return url.rsplit("/", 1)[0] + "/health"


def _reply(request: Request, sender: str, key: str) -> List[Dict[str, Any]]:
    """One message from the domain's response `key` (admins may reword it), marked as an error."""
    text = FALLBACK_TEXT[key]
    agent = getattr(request.app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    variants = (getattr(domain, "responses", None) or {}).get(key) or []
    plain = [v for v in variants if not v.get("condition")]
    if plain and plain[0].get("text"):
        text = plain[0]["text"]
    return [{"recipient_id": sender, "text": text},
            {"recipient_id": sender, "custom": {"type": "error", "error": key.replace("utter_", "")}}]
