"""An app for the stand-in's tests: an HTTP endpoint that keeps each request it receives
(headers, body) and answers `reply` with `status`, after `delay` seconds."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class Recorder:
    def __init__(self):
        self.requests = []
        self.reply = b""
        self.status = 200
        self.delay = 0.0
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                recorder.requests.append((dict(self.headers.items()), body))
                time.sleep(recorder.delay)
                self.send_response(recorder.status)
                self.send_header("Content-Length", str(len(recorder.reply)))
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                try:
                    self.wfile.write(recorder.reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def last(self):
        return self.requests[-1]

    def last_payload(self):
        """The last interaction's payload (form field `payload`)."""
        headers, body = self.last()
        return json.loads(parse_qs(body)["payload"][0])

    def last_event(self):
        """The last Events API callback's event."""
        return json.loads(self.last()[1])["event"]

    def last_form(self):
        """The last slash command's form fields."""
        return {k: v[0] for k, v in parse_qs(self.last()[1], keep_blank_values=True).items()}
