"""HTTP mode's limits, tried over real sockets against the server `make_http_server` builds (with
its production settings, but for a shorter deadline), serving a Bolt app that answers `/buy` with
"pong" and asks the stand-in who it is: an oversized body, a missing length, a client that stalls
or trickles, a flood of connections, and a forged signature on a body not worth parsing. After
each, a normal signed request is still answered."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot import server as http
from bot.server import serve_in_background
from standin import Deliverer, StandIn, Workspace

SECRET = "http-limits-signing-secret"
USER = "U01AMINA"
# The production limits (bot/server.py), as docs/security.md states them.
TIMEOUT_S, BOUND, MAX_BODY = 10.0, 256, 1024 * 1024
# The server under test cuts slow clients off sooner: the same deadline code, 7 s less waiting.
TEST_TIMEOUT_S = 3.0


@pytest.fixture(scope="module")
def bot():
    with StandIn(Workspace.from_people({USER: ("Amina Haddad", "en")})) as standin:
        app = App(client=WebClient(token=standin.workspace.bot_token, base_url=standin.url), signing_secret=SECRET)

        @app.command("/buy")
        def buy(ack):
            ack("pong")

        server, url = serve_in_background(app, request_timeout=TEST_TIMEOUT_S)
        try:
            yield url, Deliverer(url, SECRET)
        finally:
            server.shutdown()
            server.server_close()


def answered(deliver: Deliverer) -> bool:
    """A normal signed request (the /buy command) gets the app's answer."""
    delivery = deliver.slash_command(USER, "/buy", channel="D01AMINA")
    return delivery.status == 200 and delivery.response_body == "pong"


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def head(url: str, length: str = None, extra: str = "") -> bytes:
    lines = [f"POST {urlsplit(url).path} HTTP/1.1", f"Host: {urlsplit(url).netloc}",
             "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    return data


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def test_a_body_over_1_mib_is_refused_with_413_before_it_is_read(bot):
    url, deliver = bot
    with connect(url) as sock:
        started = time.monotonic()
        # Two megabytes announced and none sent: the answer cannot wait for them.
        sock.sendall(head(url, str(2 * 1024 * 1024)))
        answer = read_all(sock)
    assert status_of(answer) == 413, answer[:200]
    assert time.monotonic() - started < 2
    with connect(url) as sock:  # one byte over the limit, nothing of it sent
        sock.sendall(head(url, str(MAX_BODY + 1)))
        assert status_of(read_all(sock)) == 413
    assert answered(deliver)


def test_a_post_without_a_usable_length_is_refused(bot):
    url, deliver = bot
    # Only the headers are sent: the answer comes from them (a body left unread would reset the connection).
    cases = {"missing": (head(url), 411), "not a number": (head(url, "12abc"), 400), "negative": (head(url, "-5"), 400),
             "chunked": (head(url, extra="Transfer-Encoding: chunked\r\n"), 411)}
    statuses = {}
    for name, (request, _) in cases.items():
        with connect(url) as sock:
            sock.sendall(request)
            statuses[name] = status_of(read_all(sock))
    assert statuses == {name: status for name, (_, status) in cases.items()}
    assert answered(deliver)


def test_a_client_that_stalls_or_trickles_is_cut_off_and_blocks_no_one(bot):
    url, deliver = bot
    stalled, trickler = connect(url), connect(url)
    try:
        started = time.monotonic()
        stalled.sendall(head(url, "100"))  # headers, then nothing of the 100 bytes announced
        stop = threading.Event()
        cut_after = []

        def trickle():  # the request line, one byte every 0.3 s: never a whole request
            for byte in head(url, "2") * 100:
                if stop.is_set():
                    return
                try:
                    trickler.sendall(bytes([byte]))
                except OSError:
                    cut_after.append(time.monotonic() - started)
                    return
                time.sleep(0.3)

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        # Meanwhile everyone else is served at once.
        assert answered(deliver)
        assert time.monotonic() - started < 3
        answer = read_all(stalled)
        stalled_for = time.monotonic() - started
        assert status_of(answer) == 408, answer[:200]
        trickler.settimeout(30)
        assert read_all(trickler) == b""  # closed without an answer (it never finished its request line)
        trickled_for = time.monotonic() - started
        stop.set()
        thread.join(timeout=5)
        # Both cut off when their time was up, not later.
        assert TEST_TIMEOUT_S - 1 < stalled_for < TEST_TIMEOUT_S + 3
        assert TEST_TIMEOUT_S - 1 < trickled_for < TEST_TIMEOUT_S + 3
    finally:
        stalled.close()
        trickler.close()
    assert answered(deliver)


def test_more_connections_than_the_bound_are_refused_quickly_and_leave_the_server_usable(bot):
    url, deliver = bot
    extra = 40
    flood = []
    try:
        for _ in range(BOUND + extra):  # connections that send nothing
            flood.append(connect(url))
        # The ones past the bound get 503 at once instead of a thread each.
        refused = 0
        for sock in flood[-extra:]:
            sock.settimeout(3)
            refused += status_of(read_all(sock)) == 503
        assert refused == extra
        started = time.monotonic()
        with connect(url) as late:  # while full, said so at once
            late.settimeout(3)
            assert status_of(read_all(late)) == 503 and time.monotonic() - started < 2
    finally:
        for sock in flood:
            sock.close()
    # The flood gone, a normal request is served straight away.
    deadline = time.monotonic() + 3
    while not answered(deliver):
        assert time.monotonic() < deadline, "the server stayed full after the flood closed"
        time.sleep(0.1)
    assert (http.MAX_CONNECTIONS, http.REQUEST_TIMEOUT_S, http.MAX_BODY_BYTES) == (BOUND, TIMEOUT_S, MAX_BODY)


def test_the_signature_is_checked_before_the_body_is_parsed(bot):
    url, deliver = bot
    body = "payload=" + "%5B" * 100_000  # would be parsed (deeply nested) if it were let through
    headers = deliver.signed_headers(body, "application/x-www-form-urlencoded", bad_signature=True)
    request = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with connect(url) as sock:
        sock.sendall(head(url, str(len(body)), extra=request).replace(
            b"Content-Type: application/json\r\n", b"") + body.encode())
        answer = read_all(sock)
    assert status_of(answer) == 401, answer[:300]
    assert answered(deliver)
