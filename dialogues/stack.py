"""Start `rasa run actions` and `rasa run` as child processes, wait until they are healthy, talk
to them over the REST webhook, stop them. Used by the tests and the benchmark; each stack gets
free ports and the database it is given.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import httpx

from .training import rasa_env

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        self.env = rasa_env({
            "DATABASE_URL": database_url,
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            **(extra_env or {}),
        })
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self.client = httpx.Client(timeout=60)

    # -- processes ------------------------------------------------------------------------------

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        with open(self.logs / f"{name}-{int(time.time() * 1000)}.log", "w") as log:
            return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def start_actions(self, wait: bool = True) -> None:
        self.actions = self._spawn("actions", [str(BIN / "rasa"), "run", "actions", "--actions", "dialogues.actions",
                                               "-p", str(self.actions_port)])
        if wait:
            self._wait_actions()

    def start_rasa(self) -> None:
        self.rasa = self._spawn("rasa", [
            str(BIN / "rasa"), "run", "--model", str(self.model), "--endpoints", "dialogues/endpoints.yml",
            "--credentials", "dialogues/credentials.yml", "-p", str(self.rasa_port), "-i", "127.0.0.1",
            *(["--enable-api", f"--auth-token={self.token}"] if self.token else []),  # "=": a token may start with "-"
        ])
        self._wait(f"http://127.0.0.1:{self.rasa_port}/", self.rasa, "rasa")

    def _wait_actions(self) -> None:
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
        self.stop_rasa()
        self.stop_actions()
        self.client.close()

    def _wait(self, url: str, process: subprocess.Popen, name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.logs}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} not healthy at {url} after {START_TIMEOUT_S} s; see {self.logs}")

    # -- talking ----------------------------------------------------------------------------------

    def say(self, sender: str, message: str, language: Optional[str] = None) -> List[Dict[str, Any]]:
        """One turn; `language` is sent as the Slack app sends it, in the message metadata."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if language is not None:
            body["metadata"] = {"language": language}
        answer = self.client.post(f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook", json=body)
        answer.raise_for_status()
        return answer.json()

    def post_raw(self, body: Any) -> httpx.Response:
        return self.client.post(f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
                                content=body if isinstance(body, (bytes, str)) else json.dumps(body),
                                headers={"content-type": "application/json"})


def _stop(process: Optional[subprocess.Popen]) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
