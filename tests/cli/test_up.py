"""`microbuy up`, run as a person runs it: a real launcher process starting the real action
server, Rasa, stand-in and bot on free ports and a SQLite file of the test's own, then stopped
with a signal. Each test checks that nothing it started is left behind."""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from dialogues.stack import free_port, listening_addresses
from dialogues.training import train
from microbuy.up import send_check_dm

REPO = Path(__file__).resolve().parents[2]
MICROBUY = Path(sys.executable).with_name("microbuy")
READY = "Ctrl-C stops everything."
START_TIMEOUT_S = 240  # Rasa alone may take a minute on a busy machine
LOG_NAMES = ["actions.log", "rasa.log", "standin.log", "web.log"]
REQUESTER = "U08JORDAN"  # the first person in policies/esdc.yml who approves nothing


@pytest.fixture(scope="module")
def model():
    """Trained once here, so `up` finds it up to date instead of training in every test."""
    return train().model


class Launcher:
    """`microbuy up` as a child of the test, its output collected line by line."""

    def __init__(self, tmp_path: Path, *args: str, env: Optional[Dict[str, str]] = None):
        self.ports = {"web": free_port(), "rasa": free_port(), "actions": free_port(), "standin": free_port()}
        self.logs = tmp_path / "logs"
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith("SLACK_") and k not in ("RASA_TOKEN", "MICROBUY_POLICY")}
        environment.update({
            "DATABASE_URL": f"sqlite:///{tmp_path / 'microbuy.db'}",
            "PORT": str(self.ports["web"]), "RASA_PORT": str(self.ports["rasa"]),
            "ACTIONS_PORT": str(self.ports["actions"]), "STANDIN_PORT": str(self.ports["standin"]),
            **(env or {}),
        })
        self.lines: List[str] = []
        self.process = subprocess.Popen([str(MICROBUY), "up", "--logs", str(self.logs), *args], cwd=REPO,
                                        env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.groups: List[int] = []  # the children's process groups, for the no-orphans checks

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                if text in self.output:
                    return
                pytest.fail(f"microbuy up exited with {self.process.returncode} before {text!r}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} after {timeout} s:\n{self.output}")
            time.sleep(0.2)

    def finish(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def children(self) -> Dict[str, int]:
        """The launcher's child processes by name (actions, rasa, standin, web) -> pid."""
        found = {}
        for pid in _pids():
            if _stat(pid).get("ppid") != self.process.pid:
                continue
            argv = _cmdline(pid)
            name = "actions" if "dialogues.action_server" in argv else "rasa" if "dialogues.rasa_cli" in argv else \
                "standin" if "standin" in argv else "web" if "bot" in argv else "?"
            found[name] = pid
        self.groups = list(found.values())
        return found

    def leftovers(self) -> List[str]:
        """Every process still in one of the children's groups, or the launcher itself."""
        left = [f"{pid} {' '.join(_cmdline(pid))[:100]}" for pid in _pids() if _stat(pid).get("pgrp") in self.groups]
        if self.process.poll() is None:
            left.append(f"the launcher {self.process.pid}")
        return left

    def cleanup(self) -> None:
        """Whatever a failed test left: the launcher stopped as a person would, then the groups."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for group in self.groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@pytest.fixture
def launch(tmp_path):
    started: List[Launcher] = []

    def start(*args: str, env: Optional[Dict[str, str]] = None) -> Launcher:
        launcher = Launcher(tmp_path, *args, env=env)
        started.append(launcher)
        return launcher

    yield start
    for launcher in started:
        launcher.cleanup()


def _pids() -> List[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _stat(pid: int) -> Dict[str, int]:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return {}
    if fields[0] == "Z":
        return {}  # a zombie is dead; its parent just has not collected it yet
    return {"ppid": int(fields[1]), "pgrp": int(fields[2])}


def _cmdline(pid: int) -> List[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _environ(pid: int) -> Dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def _get(url: str) -> tuple:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as answer:
        return answer.status, answer.read().decode()


def _closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _mode(path) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


def test_up_starts_everything_healthy_then_ctrl_c_stops_it_all(model, launch, tmp_path):
    # Under a wide umask, after an earlier run left the run folder and a log open to everyone.
    from dialogues.reload import HANDOVER
    old_umask = os.umask(0o022)
    try:
        logs = tmp_path / "logs"
        logs.mkdir(mode=0o755)
        os.chmod(logs, 0o755)
        (logs / "web.log").write_text("an earlier run's log\n")
        os.chmod(logs / "web.log", 0o644)
        if HANDOVER.parent.exists():
            os.chmod(HANDOVER.parent, 0o755)
        up = launch()
        assert up.logs == logs
        up.wait_for(READY)
    finally:
        os.umask(old_umask)
    # The run folder, the logs folder and every log are the owner's alone.
    assert (_mode(HANDOVER.parent), _mode(logs)) == ("0o700", "0o700")
    assert {p.name: _mode(p) for p in logs.iterdir()} == {name: "0o600" for name in LOG_NAMES}
    ports = up.ports
    assert f"Open http://127.0.0.1:{ports['standin']}/ in a browser" in up.output
    assert f"Try it as Jordan Blake ({REQUESTER})" in up.output
    assert "[3/4] dialogue model up to date" in up.output, "the fixture's model should have been reused"
    children = up.children()
    assert set(children) == {"actions", "rasa", "standin", "web"}, children

    assert _get(f"http://127.0.0.1:{ports['actions']}/health")[0] == 200
    status, text = _get(f"http://127.0.0.1:{ports['rasa']}/")
    assert status == 200 and text.startswith("Hello from Rasa"), text
    assert _get(f"http://127.0.0.1:{ports['standin']}/health")[0] == 200
    assert _get(f"http://127.0.0.1:{ports['web']}/health") == (200, "ok")
    # The whole product: a DM typed on the stand-in's page reaches the bot, signed, and the bot
    # (through Rasa and the action server) answers in that DM.
    _, reply = send_check_dm(ports["standin"], REQUESTER, up.logs)
    assert reply.strip()

    # The per-run signing secret, read from the bot's environment, is in no output and no log.
    secret = next(entry.split("=", 1)[1] for entry in
                  Path(f"/proc/{children['web']}/environ").read_bytes().decode().split("\0")
                  if entry.startswith("SLACK_SIGNING_SECRET="))
    assert len(secret) >= 32

    # `microbuy train` in another terminal finds the Rasa this run started (owner-only handover).
    assert HANDOVER.stat().st_mode & 0o777 == 0o600
    assert json.loads(HANDOVER.read_text())["url"] == f"http://127.0.0.1:{ports['rasa']}"

    # The run's secrets are in the environments of the processes that use them, and on no
    # command line (`ps` shows those to every user): Rasa's API token, the secret Rasa shows the
    # action server, and the one the bot shows Rasa.
    token = json.loads(HANDOVER.read_text())["token"]
    envs = {name: _environ(pid) for name, pid in children.items()}
    actions_secret, rasa_secret = envs["actions"]["MICROBUY_ACTIONS_SECRET"], envs["web"]["MICROBUY_RASA_SECRET"]
    assert len(actions_secret) >= 32 and len(rasa_secret) >= 32 and actions_secret != rasa_secret
    assert (envs["rasa"]["RASA_TOKEN"], envs["rasa"]["MICROBUY_ACTIONS_SECRET"],
            envs["rasa"]["MICROBUY_RASA_SECRET"]) == (token, actions_secret, rasa_secret)
    assert "MICROBUY_RASA_SECRET" not in envs["actions"] and "RASA_TOKEN" not in envs["actions"]
    assert "MICROBUY_ACTIONS_SECRET" not in envs["web"] and "RASA_TOKEN" not in envs["web"]
    assert not {"MICROBUY_ACTIONS_SECRET", "MICROBUY_RASA_SECRET", "RASA_TOKEN"} & set(envs["standin"])
    every_argv = [_cmdline(pid) for pid in _pids() if _stat(pid).get("pgrp") in up.groups]
    showing = [argv[:4] for argv in every_argv  # (only the start is shown: the rest may be a secret)
               if any(kept in " ".join(argv) for kept in (token, actions_secret, rasa_secret, "--auth-token"))]
    assert every_argv and showing == []
    # Rasa and the action server answer on this machine only.
    assert listening_addresses(ports["actions"]) == {"127.0.0.1"}
    assert listening_addresses(ports["rasa"]) == {"127.0.0.1"}
    # With the local stand-in, nothing faces the network: the bot and the page too.
    assert listening_addresses(ports["web"]) == {"127.0.0.1"}
    assert listening_addresses(ports["standin"]) == {"127.0.0.1"}
    env = {k: v for k, v in os.environ.items() if k not in ("RASA_URL", "RASA_TOKEN")}
    train = subprocess.run([str(Path(sys.executable).parent / "microbuy"), "train"], env=env, text=True,
                           capture_output=True, timeout=120)
    assert train.returncode == 0 and f"the running Rasa at http://127.0.0.1:{ports['rasa']} already uses it" \
        in train.stdout, train.stdout + train.stderr

    up.process.send_signal(signal.SIGINT)
    assert up.finish(timeout=30) == 0, up.output
    assert "stopped web, standin, rasa, actions" in up.output
    assert up.leftovers() == []
    assert all(_closed(port) for port in ports.values()), ports
    assert not HANDOVER.exists()
    for kept in (secret, actions_secret, rasa_secret, token):
        assert kept not in up.output
        assert not any(kept in log.read_text(errors="replace") for log in up.logs.glob("*.log"))
    assert sorted(log.name for log in up.logs.glob("*.log")) == LOG_NAMES


def test_a_taken_port_stops_it_at_once_naming_process_and_variable(launch, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        up = launch(env={"RASA_PORT": str(port)})
        code = up.finish(timeout=60)
    assert code == 1, up.output
    assert f"error: port {port} (rasa) is already in use; stop what uses it or set RASA_PORT" in up.output
    assert time.monotonic() - started < 20
    assert not up.logs.exists(), "nothing may start when a port is taken"
    assert "[1/4]" not in up.output, "the database is not touched either"


def test_a_child_that_dies_after_ready_is_named_and_everything_stops(model, launch):
    up = launch()
    up.wait_for(READY)
    children = up.children()
    os.kill(children["rasa"], signal.SIGKILL)
    assert up.finish(timeout=30) == 1, up.output
    assert f"error: rasa was killed by SIGKILL; last lines of {up.logs / 'rasa.log'}:" in up.output
    assert "stopped web, standin, actions" in up.output
    assert up.leftovers() == []
    assert all(_closed(port) for port in up.ports.values())


@pytest.mark.parametrize("given, missing", [
    ({"SLACK_BOT_TOKEN": "xoxb-test-do-not-print"}, "SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET"),
    ({"SLACK_APP_TOKEN": "xapp-test-do-not-print"}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_SIGNING_SECRET": "do-not-print-secret"}, "SLACK_BOT_TOKEN is not set"),
])
def test_incomplete_slack_credentials_name_what_is_missing(launch, given, missing):
    up = launch(env=given)
    assert up.finish(timeout=60) == 2, up.output
    assert "so microbuy up connects to Slack, but it cannot:" in up.output
    assert missing in up.output
    assert "Unset every SLACK_* variable to run with the local stand-in instead." in up.output
    for value in given.values():
        assert value not in up.output
    assert not up.logs.exists()


def test_check_sends_a_dm_through_the_stand_in_and_stops(model, launch):
    up = launch("--check")
    assert up.finish(timeout=START_TIMEOUT_S) == 0, up.output
    assert "[5/5] check: a DM from Jordan Blake got the bot's reply in" in up.output
    assert "stopped web, standin, rasa, actions" in up.output
    assert up.leftovers() == []
    assert all(_closed(port) for port in up.ports.values())


def test_slack_mode_starts_no_stand_in_and_names_a_bot_that_exits_while_starting(model, launch):
    # Slack's Web API on a closed port: the bot's first call (auth.test) fails and it exits.
    closed = free_port()
    up = launch(env={"SLACK_BOT_TOKEN": "xoxb-test-do-not-print", "SLACK_SIGNING_SECRET": "do-not-print-secret",
                     "SLACK_API_URL": f"http://127.0.0.1:{closed}/api/"})
    assert up.finish(timeout=120) == 1, up.output
    assert f"error: web exited with code 1; last lines of {up.logs / 'web.log'}:" in up.output
    assert "Connection refused" in up.output
    assert not (up.logs / "standin.log").exists()
    assert "xoxb-test-do-not-print" not in up.output and "do-not-print-secret" not in up.output
    assert all(_closed(port) for port in up.ports.values())
