"""Start `rasa run actions` and `rasa run` as child processes, wait until they are healthy, talk
to them over the REST webhook, stop them. Used by the tests and the benchmark; each stack gets
free ports, the database it is given, and secrets of its own (dialogues/shared_secret.py), passed
to each process in its environment: nothing secret is on a command line.
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import httpx

from . import shared_secret
from .processes import PROCESSES
from .rasa_cli import TOKEN_ENV
from .training import rasa_env

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_addresses(port: int) -> Set[str]:
    """The local addresses a socket is listening on for TCP `port` ("0.0.0.0": every address),
    read from Linux's /proc/net/tcp and tcp6, where each 32-bit word is in the host's byte order."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            if sys.byteorder == "little":
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, raw))
    return found


class RasaStack:
    """One action server and one Rasa server on a database of their own."""

    def __init__(self, database_url: str, model: Path, logs: Path, extra_env: Optional[Dict[str, str]] = None,
                 token: Optional[str] = None):
        self.database_url = database_url
        self.token = token  # with a token, Rasa's HTTP API is on (model reload: dialogues.reload)
        self.model = model
        self.logs = logs
        self.actions_port = free_port()
        self.rasa_port = free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        # What both processes share; the secrets and the token are added for each in start_*.
        self.env = {k: v for k, v in rasa_env().items()
                    if k not in (TOKEN_ENV, shared_secret.ACTIONS_SECRET, shared_secret.RASA_SECRET)}
        self.env.update({
            "DATABASE_URL": database_url,
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            **(extra_env or {}),
        })
        self.actions_secret = self.env.pop(shared_secret.ACTIONS_SECRET, None) or shared_secret.new()
        self.rasa_secret = self.env.pop(shared_secret.RASA_SECRET, None) or shared_secret.new()
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self.client = httpx.Client(timeout=60)

    # -- processes ------------------------------------------------------------------------------

    def _spawn(self, name: str, args: List[str], secrets: Dict[str, str]) -> subprocess.Popen:
        with open(self.logs / f"{name}-{int(time.time() * 1000)}.log", "w") as log:
            process = subprocess.Popen(args, cwd=ROOT, env={**self.env, **secrets}, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        # A safety net: if this process ends without stop() (a test run cut short), the child goes too.
        atexit.register(_kill_if_running, process)
        return process

    def start_actions(self, wait: bool = True) -> None:
        self.actions = self._spawn("actions", PROCESSES["actions"].command(str(BIN / "python"), port=self.actions_port),
                                   {shared_secret.ACTIONS_SECRET: self.actions_secret})
        if wait:
            self._wait_actions()

    def start_rasa(self) -> None:
        # With a token, Rasa's API is on behind it: dialogues/rasa_cli.py reads it from RASA_TOKEN.
        secrets = {shared_secret.ACTIONS_SECRET: self.actions_secret, shared_secret.RASA_SECRET: self.rasa_secret,
                   **({TOKEN_ENV: self.token} if self.token else {})}
        self.rasa = self._spawn("rasa", PROCESSES["rasa"].command(str(BIN / "python"), model=self.model,
                                                                 port=self.rasa_port), secrets)
        self._wait(f"{self.rasa_url}/", self.rasa, "rasa")

    def _wait_actions(self) -> None:
        assert self.actions is not None, "start_actions first"
        self._wait(f"http://127.0.0.1:{self.actions_port}/health", self.actions, "action server")

    def start(self) -> "RasaStack":
        # Both at once: Rasa asks the action server only when a message comes, by which time both
        # answered their health checks. Starting one after the other cost the action server's start.
        try:
            self.start_actions(wait=False)
            self.start_rasa()
            self._wait_actions()
        except BaseException:
            self.stop()  # nothing left running when either fails to start
            raise
        return self

    def stop_actions(self) -> None:
        _stop(self.actions)
        self.actions = None

    def stop_rasa(self) -> None:
        _stop(self.rasa)
        self.rasa = None

    def stop(self) -> None:
        # Each is stopped even when stopping another failed: no process outlives its stack.
        try:
            self.stop_rasa()
        finally:
            try:
                self.stop_actions()
            finally:
                self.client.close()

    def _wait(self, url: str, process: subprocess.Popen, name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.logs}")
            try:
                # The stack's own client: a new one per poll built an SSL context each time, about
                # 3 s of CPU over a Rasa start.
                if self.client.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} not healthy at {url} after {START_TIMEOUT_S} s; see {self.logs}")

    # -- talking ----------------------------------------------------------------------------------

    def bot_env(self) -> Dict[str, str]:
        """What the Slack app needs to talk to this Rasa (bot/settings.py)."""
        return {"RASA_URL": self.rasa_url, shared_secret.RASA_SECRET: self.rasa_secret}

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def _headers(self) -> Dict[str, str]:
        return {"content-type": "application/json", "authorization": shared_secret.bearer(self.rasa_secret)}

    def say(self, sender: str, message: str, language: Optional[str] = None) -> List[Dict[str, Any]]:
        """One turn; `language` is sent as the Slack app sends it, in the message metadata."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if language is not None:
            body["metadata"] = {"language": language}
        answer = self.client.post(self.webhook, content=json.dumps(body), headers=self._headers())
        answer.raise_for_status()
        return answer.json()

    def post_raw(self, body: Any) -> httpx.Response:
        return self.client.post(self.webhook, content=body if isinstance(body, (bytes, str)) else json.dumps(body),
                                headers=self._headers())


def _kill_if_running(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _stop(process: Optional[subprocess.Popen]) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
