"""The REST webhook the Slack app talks to, with the guards Rasa lacks.

Only the Slack app may start a turn: every POST must carry MICROBUY_RASA_SECRET
(`Authorization: Bearer ...`, 401 without it) and be `application/json` (415 otherwise; Sanic
would read JSON from any body, and a page in a browser may POST text/plain to 127.0.0.1 freely).
Rasa does not start without the secret. `GET /webhooks/rest/` stays open for health checks.

When the action server is down, Rasa still runs the turn: the form skips the checks and could
reach "submitted" with unchecked answers, and the requester hears nothing. This channel asks the
action server first; if it is not answering, the message is not processed at all (the
conversation stays as it was) and the requester is told plainly. A turn that still produces no
reply (the action server died during it) gets the same explanation. A conversation that cannot
be read from the database is not replaced by a blank one (Rasa's default): the turn is not run
and the requester is told.

    POST /webhooks/rest/webhook  {"sender": "T123:U456", "message": "I need a webcam"}
        Authorization: Bearer <MICROBUY_RASA_SECRET>, Content-Type: application/json
    -> [{"recipient_id": ..., "text": ..., "buttons": [...]}, {"recipient_id": ..., "custom": {...}}]
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import httpx
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.tracker_store import FailSafeTrackerStore
from sanic import Blueprint, response
from sanic.request import Request

from .. import shared_secret
from . import rasa_speedups

log = logging.getLogger(__name__)
rasa_speedups.install()  # `rasa run` loads this channel (credentials.yml): see rasa_speedups.py

MAX_MESSAGE = 10_000  # characters; Slack allows 40,000, no purchase answer needs a tenth of that
MAX_SENDER = 200
# Rasa's own commands typed by a person (no button of ours sends them). "/restart" and
# "/session_start" would wipe the conversation without a word, and "/back" undo an answer behind
# the form's back: each is taken as asking to cancel, which asks first and keeps the answers on No.
TYPED_COMMANDS = re.compile(r"^\s*/(?:restart|session_start|back)\b", re.IGNORECASE)
CANCEL = "/cancel"
HEALTH_TIMEOUT_S = 2.0  # to connect: a stopped action server refuses at once
# To answer once connected. The action server answers /health on the same event loop that runs the
# actions, so under load it answers late, not never: with 2 s, 50 requesters at once were told it
# was down while it was only busy (bench/slack_load.py, capacity run). A hung one is still caught.
HEALTH_ANSWER_TIMEOUT_S = 10.0

DOWN = "utter_action_server_down"
FAILED = "utter_turn_failed"
TOO_LONG = "utter_message_too_long"
EMPTY = "utter_message_empty"
FALLBACK_TEXT = {
    DOWN: "I can't check answers against the policy right now, so nothing was done with your message. "
          "Please try again in a minute.",
    FAILED: "Something went wrong while handling your message and nothing was submitted. Please try again in a minute.",
    TOO_LONG: "That message is too long for me. Please keep it under 10,000 characters.",
    EMPTY: "That message has no words in it. Tell me what you need to buy, or say \"help\".",
}


class MicrobuyRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self, action_server_health_url: Optional[str] = None) -> None:
        self.health_url = action_server_health_url
        self.secret = shared_secret.from_env(shared_secret.RASA_SECRET)  # none: `rasa run` stops here
        # One client for every health check: making an httpx client costs 20-30 ms of CPU (it
        # loads the CA certificates), and it ran on Rasa's event loop once or twice a turn.
        self._client: Optional[httpx.AsyncClient] = None
        self._client_loop: Optional[asyncio.AbstractEventLoop] = None  # a client serves one loop

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
            if not shared_secret.is_bearer(request.headers.get("authorization"), self.secret):
                log.warning("refused a message from %s: no valid %s", request.ip, shared_secret.RASA_SECRET)
                return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})
            if _media_type(request) != "application/json":
                return response.json({"error": "the body must be sent as Content-Type: application/json"}, status=415)
            body = request.json if _is_json(request) else None
            if not isinstance(body, dict):
                return response.json({"error": "the body must be a JSON object with 'sender' and 'message'"},
                                     status=400)
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER:
                return response.json({"error": "'sender' must be a non-empty text id such as T123:U456"}, status=400)
            if not isinstance(text, str):
                return response.json({"error": "'message' must be text"}, status=400)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            if len(text) > MAX_MESSAGE:
                return response.json(_reply(request, sender, TOO_LONG))
            if not text.strip():  # the NLU pipeline fails on a message without a single token
                return response.json(_reply(request, sender, EMPTY))
            if not await self._action_server_up(request):
                log.error("action server not answering; message from %s not processed", sender)
                return response.json(_reply(request, sender, DOWN))
            if TYPED_COMMANDS.match(text):
                text = CANCEL
            _no_blank_conversations(request)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except Exception:  # the requester gets an answer whatever went wrong
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
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            timeout = httpx.Timeout(HEALTH_ANSWER_TIMEOUT_S, connect=HEALTH_TIMEOUT_S)
            self._client, self._client_loop = httpx.AsyncClient(timeout=timeout), loop
        try:
            answer = await self._client.get(url)
            if answer.status_code != 200:
                log.warning("action server health %s answered %s", url, answer.status_code)
            return answer.status_code == 200
        except httpx.HTTPError as exc:
            log.warning("action server health %s: %s", url, type(exc).__name__ if not str(exc) else exc)
            return False


def _media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()


def _is_json(request: Request) -> bool:
    try:
        _ = request.json  # reading it parses the body
        return True
    except Exception:  # noqa: BLE001 - sanic raises its own error for a body that is not JSON
        return False


class ConversationUnreadable(RuntimeError):
    """The conversation could not be read from the tracker store (the database is down)."""


def _refuse_unreadable(error: Exception) -> None:
    raise ConversationUnreadable(f"the conversation could not be read: {error}") from error


def _no_blank_conversations(request: Request) -> None:
    """Rasa wraps the tracker store in a FailSafeTrackerStore that answers a conversation it
    cannot read with a blank one: with the database down, "Submit" would be read as the first
    message of a new conversation. Make that read an error instead, so the turn is not run and
    the requester is told (saving still falls back to memory, as Rasa does)."""
    store = getattr(getattr(request.app.ctx, "agent", None), "tracker_store", None)
    if isinstance(store, FailSafeTrackerStore):
        store.on_tracker_store_retrieve_error = _refuse_unreadable


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
    # In the language the Slack app sent with the message (metadata), as the turn would have been.
    language = _metadata_language(request)
    plain = [v for v in variants if any(c.get("name") == "language" and c.get("value") == language
                                        for c in v.get("condition") or [])]
    plain = plain or [v for v in variants if not v.get("condition")]
    if plain and plain[0].get("text"):
        text = plain[0]["text"]
    return [{"recipient_id": sender, "text": text},
            {"recipient_id": sender, "custom": {"type": "error", "error": key.replace("utter_", "")}}]


def _metadata_language(request: Request) -> Optional[str]:
    body = request.json if _is_json(request) else None
    metadata = body.get("metadata") if isinstance(body, dict) else None
    language = metadata.get("language") if isinstance(metadata, dict) else None
    return language if isinstance(language, str) else None
