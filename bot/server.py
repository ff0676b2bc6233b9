"""HTTP mode: the Bolt app served at /slack/events (and GET /health) by a threaded WSGI server, so
a slow turn for one person never holds up another's acknowledgement (Bolt's own dev server is
single-threaded)."""
from __future__ import annotations

import logging
import socketserver
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)
PATH = "/slack/events"
HEALTH = "/health"


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


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
        return handler(environ, start_response)

    return make_server(host, port, only_events, server_class=_ThreadingWSGIServer, handler_class=_Handler)


def serve_in_background(app: App, host: str = "127.0.0.1", port: int = 0):
    """Start serving in a thread; returns (server, url of /slack/events). For tests and tools."""
    server = make_http_server(app, host, port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}{PATH}"
