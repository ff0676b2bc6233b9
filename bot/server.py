"""HTTP mode: the Bolt app served at /slack/events (and GET /health) by a threaded WSGI server, so
a slow turn for one person never holds up another's acknowledgement (Bolt's own dev server is
single-threaded)."""
from __future__ import annotations

import io
import json
import logging
import socketserver
import threading
from typing import Any, Optional
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)
PATH = "/slack/events"
HEALTH = "/health"


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # Connections waiting to be accepted. The standard library's 5 is too few for a burst (50 people
    # at once): the kernel drops the rest of the connection attempts and the client tries again a
    # second later, so an acknowledgement took 1-4 s (bench/slack_load.py, capacity run).
    request_queue_size = 128


class _Handler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        log.debug("%s " + format, self.address_string(), *args)


def make_http_server(app: App, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    handler = SlackRequestHandler(app)

    def only_events(environ, start_response):
        # For supervisors (`microbuy up`, a load balancer): answers once the app is built, which
        # means the bot token was accepted at start-up.
        if environ.get("PATH_INFO") == HEALTH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found; Slack posts to /slack/events\n"]
        problem = _not_from_slack(environ)
        if problem:
            log.warning("refused a request to %s: %s", PATH, problem)
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [f"not a Slack request: {problem}\n".encode()]
        return handler(environ, start_response)

    return make_server(host, port, only_events, server_class=_ThreadingWSGIServer, handler_class=_Handler)


def _not_from_slack(environ) -> Optional[str]:
    """Why a POST body cannot be from Slack, or None; Bolt (signature, listeners) does the rest.

    Bolt answers 500 to a body that is not JSON where JSON is due, and to an interaction without
    the fields every interaction has; Slack never sends those. The body is put back for Bolt."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "bad Content-Length"
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    kind = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
        if kind == "application/json":
            return None if isinstance(json.loads(text), dict) else "the body is not a JSON object"
        form = parse_qs(text, keep_blank_values=True)
        if "payload" not in form:
            return None  # a slash command, or nothing Bolt will act on
        payload = json.loads(form["payload"][0])
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return "the body is not UTF-8 JSON"
    return _interaction_problem(payload)


def _interaction_problem(payload: Any) -> Optional[str]:
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "the payload is not an interaction"
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "the payload names no user"
    if payload["type"] == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions or not all(
                isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "block_actions without actions"
    view = payload.get("view")
    if payload["type"] in ("view_submission", "view_closed") and not (
            isinstance(view, dict) and isinstance(view.get("type"), str)):
        return f"{payload['type']} without a view"
    return None


def serve_in_background(app: App, host: str = "127.0.0.1", port: int = 0):
    """Start serving in a thread; returns (server, url of /slack/events). For tests and tools."""
    server = make_http_server(app, host, port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}{PATH}"
