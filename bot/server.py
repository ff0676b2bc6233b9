"""HTTP mode: the Bolt app served at /slack/events (and GET /health) by a threaded WSGI server, so
a slow turn for one person never holds up another's acknowledgement (Bolt's own dev server is
single-threaded).

The port faces the internet, so what a caller can make it hold is bounded before Bolt runs: a
body over 1 MiB is refused (413) from its Content-Length without being read, a request must
arrive whole within 10 s (a client that stalls or trickles is cut off), at most 256 connections
are served at once (beyond that, 503 at once), and the signature is checked before any JSON is
parsed."""
from __future__ import annotations

import io
import json
import logging
import socket
import socketserver
import threading
import time
from typing import Any, Optional
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)
PATH = "/slack/events"
HEALTH = "/health"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few KB; Slack itself caps a message at 40,000 characters
HEADER_BYTES = 64 * 1024  # the request line and headers, on top of the body
REQUEST_TIMEOUT_S = 10.0  # to receive a whole request; Slack sends one in milliseconds
# Connections served at once. bench/slack_load.py needs about 100 (50 people and their approvers at
# once), the listeners run on 64 threads (bot/app.py); a thread waiting costs little memory.
MAX_CONNECTIONS = 256


class _Refused(Exception):
    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # Connections waiting to be accepted. The standard library's 5 is too few for a burst (50 people
    # at once): the kernel drops the rest of the connection attempts and the client tries again a
    # second later, so an acknowledgement took 1-4 s (bench/slack_load.py, capacity run).
    request_queue_size = 128
    request_timeout = REQUEST_TIMEOUT_S
    _busy_logged = 0.0

    def limit_connections(self, most: int) -> None:
        self.max_connections = most
        self._slots = threading.BoundedSemaphore(most)

    def process_request(self, request, client_address):
        # Beyond the bound, answer 503 at once rather than make the accept wait: a flood of
        # connections then costs a few bytes each, and the next real request is served as soon as
        # it stops (a waiting accept would first serve every queued flood connection).
        if not self._slots.acquire(blocking=False):
            self._refuse_busy(request, client_address)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse_busy(self, request, client_address) -> None:
        now = time.monotonic()
        if now - self._busy_logged > 10:  # one line per 10 s under a flood
            self._busy_logged = now
            log.warning("refused connections with 503: %s connections are being served", self.max_connections)
        try:
            request.settimeout(1.0)
            request.sendall(_BUSY)  # a few bytes into an empty send buffer: never waits
        except OSError:
            pass
        self.shutdown_request(request)


_BUSY_TEXT = b"too many connections; try again\n"
_BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
         b"Content-Length: " + str(len(_BUSY_TEXT)).encode() + b"\r\n\r\n" + _BUSY_TEXT)


class _ReadWithin(io.RawIOBase):
    """The connection's bytes, as long as the whole request arrives before a deadline and within a
    size: every read waits only for the time left, so a client cannot stretch it out byte by byte."""

    def __init__(self, connection: socket.socket, seconds: float, most: int):
        self._connection = connection
        self._deadline = time.monotonic() + seconds
        self._left = most

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        if self._left <= 0:
            raise _Refused("413 Payload Too Large", "the request is too large")
        self._connection.settimeout(remaining)
        with memoryview(buffer) as view:
            count = self._connection.recv_into(view[:self._left])
        self._left -= count
        return count


class _Handler(WSGIRequestHandler):
    server: _ThreadingWSGIServer

    def setup(self):
        super().setup()
        self.rfile.close()  # the standard reader; the socket stays open
        self.rfile = io.BufferedReader(_ReadWithin(self.connection, self.server.request_timeout,
                                                   MAX_BODY_BYTES + HEADER_BYTES))

    def handle(self):
        try:
            super().handle()
        except TimeoutError:  # in the request line or headers (a slow body is answered 408 below)
            log.info("closed a connection from %s: no whole request within %.0f s", self.address_string(),
                     self.server.request_timeout)
        except _Refused as refused:
            log.warning("closed a connection from %s: %s", self.address_string(), refused)

    def log_message(self, format, *args):  # `format`: the stdlib's name for it
        log.debug("%s " + format, self.address_string(), *args)


def make_http_server(app: App, host: str = "0.0.0.0", port: int = 3000, *,
                     request_timeout: float = REQUEST_TIMEOUT_S,
                     max_connections: int = MAX_CONNECTIONS) -> WSGIServer:
    handler = SlackRequestHandler(app)
    verifier = _signature_verifier(app)

    def only_events(environ, start_response):
        # For supervisors (`microbuy up`, a load balancer): answers once the app is built, which
        # means the bot token was accepted at start-up.
        if environ.get("PATH_INFO") == HEALTH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        if environ.get("PATH_INFO") != PATH:
            return _answer(start_response, "404 Not Found", "not found; Slack posts to /slack/events")
        if environ.get("REQUEST_METHOD") != "POST":
            return handler(environ, start_response)  # Bolt reads no body for these (404)
        try:
            body = _read_body(environ)
        except _Refused as refused:
            log.warning("refused a request to %s: %s", PATH, refused)
            return _answer(start_response, refused.status, str(refused))
        except TimeoutError:
            log.info("refused a request to %s: the body did not arrive within %.0f s", PATH, request_timeout)
            return _answer(start_response, "408 Request Timeout", "the body did not arrive in time")
        if verifier is not None and not _signed(verifier, environ, body):
            # Bolt would refuse it too, but only after parsing it; a forger gets no parser to feed.
            log.info("refused a request to %s: invalid signature", PATH)
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error": "invalid request"}']
        problem = _not_from_slack(environ, body)
        if problem:
            log.warning("refused a request to %s: %s", PATH, problem)
            return _answer(start_response, "400 Bad Request", f"not a Slack request: {problem}")
        return handler(environ, start_response)

    server = make_server(host, port, only_events, server_class=_ThreadingWSGIServer, handler_class=_Handler)
    server.request_timeout = request_timeout
    server.limit_connections(max_connections)
    return server


def _answer(start_response, status: str, text: str):
    start_response(status, [("Content-Type", "text/plain")])
    return [text.encode() + b"\n"]


def _read_body(environ) -> bytes:
    """The body, refused from its Content-Length before a byte of it is read; put back for Bolt."""
    if environ.get("HTTP_TRANSFER_ENCODING"):  # wsgiref does not decode chunked bodies; Slack never sends them
        raise _Refused("411 Length Required", "send the body with a Content-Length")
    given = (environ.get("CONTENT_LENGTH") or "").strip()
    if not given:
        raise _Refused("411 Length Required", "a POST needs a Content-Length")
    if not given.isdigit():
        raise _Refused("400 Bad Request", "bad Content-Length")
    length = int(given)
    if length > MAX_BODY_BYTES:
        raise _Refused("413 Payload Too Large", f"a body of {length} bytes; at most {MAX_BODY_BYTES}")
    body = environ["wsgi.input"].read(length)
    if len(body) != length:
        raise _Refused("400 Bad Request", "the body is shorter than its Content-Length")
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _signature_verifier(app: App) -> Optional[SignatureVerifier]:
    """The app's own signature check (Bolt's RequestVerification, same secret), to run before the
    body is parsed; None when the app checks none (Socket Mode)."""
    for middleware in getattr(app, "_middleware_list", ()):  # Bolt has no public accessor
        if isinstance(middleware, RequestVerification):
            return middleware.verifier
    return None


def _signed(verifier: SignatureVerifier, environ, body: bytes) -> bool:
    try:
        return verifier.is_valid(body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                                 environ.get("HTTP_X_SLACK_SIGNATURE"))
    except ValueError:  # a timestamp that is not a number
        return False


def _not_from_slack(environ, body: bytes) -> Optional[str]:
    """Why a signed POST body cannot be from Slack, or None; Bolt (listeners) does the rest.

    Bolt answers 500 to a body that is not JSON where JSON is due, and to an interaction without
    the fields every interaction has; Slack never sends those."""
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


def serve_in_background(app: App, host: str = "127.0.0.1", port: int = 0, **limits: Any):
    """Start serving in a thread; returns (server, url of /slack/events). For tests and tools;
    `limits`: make_http_server's request_timeout and max_connections."""
    server = make_http_server(app, host, port, **limits)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}{PATH}"
