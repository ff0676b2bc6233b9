"""`microbuy up`: the whole product on this machine, behind one command.

Migrates the database, checks the policy, trains the dialogue model if its inputs changed, then
starts `rasa run actions`, `rasa run`, the Slack stand-in (only when no Slack credentials are set)
and the bot, waits until each answers its health check, and prints where to go. Ctrl-C or SIGTERM
stops them all. Each child runs in a process group of its own, writes to .run/logs/<name>.log,
and is also told by the kernel to stop if this launcher dies without cleaning up.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from dialogues.processes import PROCESSES
from settings import Settings, SettingsError, SlackApp

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_LOGS = ROOT / ".run" / "logs"
RUN_DIR = ROOT / ".run"  # the handover to `microbuy train` and the default logs: owner only
STOP_GRACE_S = 10.0
TAIL_LINES = 15
POLL_S = 0.25
# (process, variable, default): the order is the start order.
PORTS = tuple((name, PROCESSES[name].port_variable, PROCESSES[name].default_port)
              for name in ("actions", "rasa", "standin", "web"))
TIMEOUTS_S = {name: p.start_timeout_s for name, p in PROCESSES.items()}
# What Rasa writes when `rasa run` comes up without a usable model (it still answers `/` then).
NO_MODEL_MARKERS = ("Could not load model", "No valid model found", "Agent loaded with no model")
BOLT_SOCKET_MODE_READY = "Bolt app is running"
CHECK_TEXT = "hello"
CHECK_REPLY_TIMEOUT_S = 90.0
EXIT_INPUT, EXIT_USAGE, EXIT_POLICY, EXIT_DATABASE = 1, 2, 3, 4
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
_PR_SET_PDEATHSIG = 1
try:
    _LIBC: Optional[ctypes.CDLL] = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:  # no libc to ask: children then rely on the normal clean-up only
    _LIBC = None


class Failed(Exception):
    """A problem the user can act on: printed as `error: ...`, then everything stops."""

    def __init__(self, message: str, code: int = EXIT_INPUT):
        super().__init__(message)
        self.code = code


class Interrupted(BaseException):
    """Ctrl-C, SIGTERM or SIGHUP: stop everything and leave."""


# --- settings ---------------------------------------------------------------------------------

def read_ports(env: Mapping[str, str]) -> Dict[str, int]:
    ports: Dict[str, int] = {}
    for name, variable, _ in PORTS:
        try:
            ports[name] = Settings.read(variable, env)
        except SettingsError as exc:
            raise Failed(str(exc), EXIT_USAGE) from None
    return ports


def slack_mode(env: Mapping[str, str]) -> Optional[str]:
    """None: no Slack credentials, run the stand-in. Else "socket" or "http", checked by the bot's
    own settings (settings.SlackApp) so the messages are the ones the bot would give."""
    given = [name for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")
             if Settings.is_set(name, env)]
    if not given:
        return None
    try:
        settings = SlackApp.from_env(env)
    except SettingsError as exc:
        problems = [
            # The bot's own wording presumes HTTP mode; here either mode would do.
            "SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) is not set; one is needed"
            if problem.startswith("SLACK_SIGNING_SECRET is not set") else problem
            for problem in exc.problems]
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise Failed(f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} set, so microbuy up connects to "
                     f"Slack, but it cannot:\n{listed}\n"
                     "Unset every SLACK_* variable to run with the local stand-in instead.", EXIT_USAGE) from None
    return "socket" if settings.socket_mode else "http"


def absolute_database_url(env: Optional[Mapping[str, str]] = None) -> str:
    """The URL `microbuy db upgrade` would use from here; a relative SQLite path is made absolute
    so the children, which run in the repository, open the same file."""
    from sqlalchemy.engine import make_url

    import storage

    url = make_url(storage.database_url(env))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not os.path.isabs(url.database):
        url = url.set(database=os.path.abspath(url.database))
    return url.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def port_in_use(port: int) -> bool:
    # SO_REUSEADDR: a port left in TIME_WAIT by the last run is free for the servers (they set it
    # too); only a socket that is listening makes the bind fail.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def who_to_try(policy) -> Tuple[Optional[Tuple[str, str]], Optional[Tuple[str, str, str]]]:
    """The first person who approves nothing (a requester), and the approver at the lowest level
    of the first cost centre with that centre's channel."""
    approval = policy.rules.approval
    people = policy.rules.people
    approvers = {person for ids in approval.approvers.values() for person in ids}
    approvers |= {person for centre in approval.cost_centres.values()
                  for ids in centre.approvers.values() for person in ids}
    requester = next(((pid, p.name) for pid, p in people.items() if pid not in approvers), None)
    approver = None
    centre = next(iter(approval.cost_centres.values()), None)
    if centre is not None:
        for level in approval.levels:
            ids = centre.approvers.get(level) or approval.approvers.get(level)
            if ids and ids[0] in people:
                approver = (ids[0], people[ids[0]].name, centre.channel)
                break
    return requester, approver


# --- children ---------------------------------------------------------------------------------

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy: all local


def http_get(url: str, timeout: float = 1.0) -> Optional[Tuple[int, bytes]]:
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (OSError, ValueError):
        return None


def answers_200(url: str) -> Callable[["Child"], bool]:
    def probe(child: "Child") -> bool:
        answer = http_get(url)
        return answer is not None and answer[0] == 200
    probe.describe = f"GET {url}"  # type: ignore[attr-defined]
    return probe


@dataclass
class Child:
    name: str
    argv: List[str]
    env: Dict[str, str]
    probe: Callable[["Child"], bool]  # one health check; True when ready
    timeout: float
    log: Path
    process: Optional[subprocess.Popen] = None
    started: float = 0.0
    ready_after: Optional[float] = None

    @property
    def ready(self) -> bool:
        return self.ready_after is not None

    def tail(self, lines: int = TAIL_LINES) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "  (no log)"
        kept = [line for line in text.splitlines() if line.strip()][-lines:]
        return "\n".join(f"  {line}" for line in kept) or "  (the log is empty)"


def _shown_path(path: Path) -> str:
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _child_setup(parent: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child, between fork and exec
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
        if _LIBC is not None:
            # If the launcher is killed outright (SIGKILL, out of memory) the kernel sends SIGTERM.
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != parent:  # the launcher died before prctl took effect
                os.kill(os.getpid(), signal.SIGTERM)
    return setup


def owner_only_folder(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # one an earlier run or a wider umask made


class Supervisor:
    """Starts children, waits for their health, watches them and stops them all."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.children: List[Child] = []

    def spawn(self, child: Child) -> None:
        # Logs hold what people typed and the errors: owner-only folders and files.
        for folder in dict.fromkeys((RUN_DIR, child.log.parent)):
            owner_only_folder(folder)
        fd = os.open(child.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # a log an earlier run left keeps its mode otherwise
        with os.fdopen(fd, "wb") as log:
            # Signals wait until the child is on the list, so an interrupt can never leave one behind.
            old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
            try:
                child.process = subprocess.Popen(
                    child.argv, cwd=ROOT, env=child.env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_child_setup(os.getpid()))
                child.started = time.monotonic()
                self.children.append(child)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    def check_alive(self) -> None:
        for child in self.children:
            code = child.process.poll() if child.process else None
            if code is not None:
                raise Failed(f"{child.name} {_exit_text(code)}; last lines of "
                             f"{_shown_path(child.log)}:\n{child.tail()}")

    def poll_ready(self, waiting: List[Child]) -> None:
        """One round: every child still alive, each waiting one probed once, none past its time."""
        self.check_alive()
        now = time.monotonic()
        for child in waiting:
            if child.ready:
                continue
            if child.probe(child):
                child.ready_after = time.monotonic() - child.started
            elif now - child.started > child.timeout:
                what = getattr(child.probe, "describe", "its health check")
                raise Failed(f"{child.name} was not ready within {child.timeout:.0f} s ({what} never succeeded); "
                             f"last lines of {_shown_path(child.log)}:\n{child.tail()}")

    def stop(self) -> Tuple[List[str], List[str]]:
        """SIGTERM to every group, up to STOP_GRACE_S for all, then SIGKILL. (stopped, killed)."""
        started = [(child, child.process) for child in reversed(self.children) if child.process is not None]
        running = [(child, process) for child, process in started if process.poll() is None]
        for _, process in running:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        killed = []
        for child, process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
                killed.append(child.name)
        for _, process in started:
            # Each leader is gone; anything it started in its group goes with it.
            _signal_group(process.pid, signal.SIGKILL)
        self.children = []
        return [child.name for child, _ in running], killed


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


# --- the console ------------------------------------------------------------------------------

class Console:
    """Numbered steps and, while waiting, the seconds each process has taken: one line rewritten
    in place on a terminal, a plain line per change otherwise (logs, CI)."""

    def __init__(self, out=None, err=None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = self.out.isatty()
        self._status = False
        self._line = ""
        self._last_plain = 0.0

    def say(self, text: str = "") -> None:
        self.clear()
        self._write(self.out, text + "\n")

    def error(self, text: str) -> None:
        self.clear()
        self._write(self.err, f"error: {text}\n")

    def clear(self) -> None:
        if self._status:
            self._write(self.out, "\r\x1b[K")
            self._status = False

    def settle(self) -> None:
        """Keep the last status line (each process's time) on screen."""
        if self._status:
            self._write(self.out, "\n")
            self._status = False

    @staticmethod
    def _write(stream, text: str) -> None:
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # the terminal is gone (SIGHUP): the clean-up must still run
            pass

    def waiting(self, children: List[Child], newly_ready: List[Child]) -> None:
        now = time.monotonic()
        if self.tty:
            parts = [f"{c.name} ✓ {c.ready_after:.1f} s" if c.ready else f"{c.name} {now - c.started:.0f} s…"
                     for c in children]
            line = "      " + "   ".join(parts)
            if line != self._line or not self._status:  # rewritten only when a number changes
                self._write(self.out, "\r\x1b[K" + line)
                self._line, self._status = line, True
            return
        for child in newly_ready:
            self.say(f"      ✓ {child.name} ready after {child.ready_after:.1f} s")
        if now - self._last_plain >= 15:
            pending = [f"{c.name} {now - c.started:.0f} s" for c in children if not c.ready]
            if pending and self._last_plain:
                self.say(f"      … waiting for {', '.join(pending)}")
            self._last_plain = now


# --- the launcher -----------------------------------------------------------------------------

@dataclass
class Up:
    check: bool = False
    logs: Path = DEFAULT_LOGS
    console: Console = field(default_factory=Console)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.logs)
        self.stopping = False

    def run(self) -> int:
        handlers = {signum: signal.signal(signum, self._on_signal) for signum in HELD_SIGNALS}
        code = EXIT_INPUT
        try:
            code = self._run()
        except Failed as exc:
            self.console.error(str(exc))
            code = exc.code
        except (Interrupted, KeyboardInterrupt):
            if self.console.tty:  # after the terminal's ^C
                self.console.say()
            code = EXIT_INPUT if self.check else 0
        finally:
            self._hold_signals()
            self._stop()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        return code

    def _on_signal(self, signum, frame) -> None:
        if not self.stopping:
            raise Interrupted(signal.Signals(signum).name)

    def _hold_signals(self) -> None:
        # A second Ctrl-C must not cut the clean-up short: that is how orphans are made.
        while True:
            try:
                self.stopping = True
                return
            except Interrupted:
                continue

    def _stop(self) -> None:
        remove_handover()
        if not any(c.process.poll() is None for c in self.supervisor.children if c.process):
            self.supervisor.stop()  # still sweeps their process groups
            return
        self.console.say("stopping…")
        started = time.monotonic()
        stopped, killed = self.supervisor.stop()
        note = f"; {', '.join(killed)} did not stop within {STOP_GRACE_S:.0f} s and was killed" if killed else ""
        self.console.say(f"stopped {', '.join(stopped)} in {time.monotonic() - started:.1f} s{note}")

    # the steps

    def _run(self) -> int:
        env = os.environ
        ports = read_ports(env)
        shared = run_secrets(env)
        mode = slack_mode({**env, **shared})
        wanted = [name for name, _, _ in PORTS
                  if not (name == "standin" and mode) and not (name == "web" and mode == "socket")]
        self._check_ports(ports, wanted)
        steps = 5 if self.check else 4

        database = self._database(steps)
        policy = self._policy(steps)
        model = self._model(steps)

        self.console.say(f"[4/{steps}] starting the processes (logs in {_shown_path(self.logs)}/)")
        started = time.monotonic()
        secret = secrets.token_urlsafe(32)  # the stand-in signs deliveries with it; the bot checks them
        children = self._children(ports, mode, database, model, secret, shared)
        early, web = children[:-1], children[-1]
        for child in early:
            self.supervisor.spawn(child)
        if mode is None:  # the bot asks the stand-in who it is (auth.test) as it starts
            self._wait(children, [c for c in early if c.name == "standin"])
        self.supervisor.spawn(web)
        self._wait(children, children)
        self.console.settle()
        self.console.say(f"      all {len(children)} ready in {time.monotonic() - started:.1f} s")
        self._banner(ports, mode, policy)

        if self.check:
            return self._check(ports, mode, policy, steps)
        while True:  # until Ctrl-C, SIGTERM, or a child that exits
            self.supervisor.check_alive()
            time.sleep(POLL_S * 2)

    def _check_ports(self, ports: Dict[str, int], wanted: List[str]) -> None:
        variables = {name: variable for name, variable, _ in PORTS}
        seen: Dict[int, str] = {}
        for name in wanted:
            port = ports[name]
            if port in seen:
                raise Failed(f"{variables[seen[port]]} and {variables[name]} are both {port}; "
                             "give each process its own port", EXIT_USAGE)
            seen[port] = name
            if port_in_use(port):
                raise Failed(f"port {port} ({name}) is already in use; stop what uses it or set {variables[name]}")

    def _database(self, steps: int) -> str:
        from sqlalchemy.exc import SQLAlchemyError

        import storage

        url = absolute_database_url()
        try:
            storage.upgrade(url)
            revision = storage.current_revision(url)
        except SQLAlchemyError as exc:
            detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
            raise Failed(f"cannot migrate the database at {shown_url(url)}: {exc.__class__.__name__}: {detail}",
                         EXIT_DATABASE) from None
        self.console.say(f"[1/{steps}] database {shown_url(url)} migrated (revision {revision})")
        return url

    def _policy(self, steps: int):
        from policies import PolicyError, load_policy, policy_path

        path = policy_path()
        try:
            loaded = load_policy(path)
        except PolicyError as exc:
            raise Failed(f"the policy is broken:\n{exc.report()}", EXIT_POLICY) from None
        self.console.say(f"[2/{steps}] policy {_shown_path(Path(path))} valid (version {loaded.short_version})")
        return loaded

    def _model(self, steps: int) -> Path:
        from dialogues import policy_nlu
        from dialogues.training import MODELS, TrainingFailed, model_name, train

        policy = Settings.read("MICROBUY_POLICY")
        policy_file = str(policy) if policy else None
        # The fingerprint covers the examples made from the policy, so bring those up to date first
        # to know whether train() will train or reuse.
        with contextlib.redirect_stdout(io.StringIO()):
            policy_nlu.main(["--policy", policy_file] if policy_file else [])
        name = model_name()
        if (MODELS / f"{name}.tar.gz").exists():
            self.console.say(f"[3/{steps}] dialogue model up to date ({name})")
        else:
            self.console.say(f"[3/{steps}] dialogue model: training, about 40 s…")
        try:
            trained = train(policy_file)
        except TrainingFailed as exc:
            raise Failed(f"training the dialogue model failed:\n{exc}") from None
        if trained.retrained:
            self.console.say(f"      trained {trained.model.name} in {trained.seconds:.1f} s")
        return trained.model

    def _children(self, ports: Dict[str, int], mode: Optional[str], database: str, model: Path,
                  secret: str, shared: Dict[str, str]) -> List[Child]:
        from dialogues.shared_secret import ACTIONS_SECRET, RASA_SECRET
        from dialogues.training import rasa_env

        # Rasa and the action server never need Slack's credentials; each process is given only
        # the secrets it checks or sends, in its environment (never on its command line).
        base = {k: v for k, v in rasa_env().items()
                if not k.startswith("SLACK_") and k not in ("RASA_TOKEN", ACTIONS_SECRET, RASA_SECRET)}
        base.update({"DATABASE_URL": database, "PYTHONUNBUFFERED": "1"})
        python = sys.executable
        actions_url = f"http://127.0.0.1:{ports['actions']}"
        rasa_url = f"http://127.0.0.1:{ports['rasa']}"
        standin_url = f"http://127.0.0.1:{ports['standin']}"
        events_url = f"http://127.0.0.1:{ports['web']}/slack/events"
        log = lambda name: self.logs / f"{name}.log"  # noqa: E731
        rasa_token = Settings.secret("RASA_TOKEN") or secrets.token_urlsafe(24)
        # `microbuy train` in another terminal finds the running Rasa here and hands it a new model.
        write_handover(rasa_url, rasa_token)
        children = [
            Child("actions", PROCESSES["actions"].command(python, port=ports["actions"]),
                  {**base, ACTIONS_SECRET: shared[ACTIONS_SECRET]}, answers_200(f"{actions_url}/health"),
                  TIMEOUTS_S["actions"], log("actions")),
            # The exact model trained for these inputs: given the folder, Rasa would take the newest
            # file, which is not this one after a change is undone.
            # With RASA_TOKEN, as in the Procfile: the API is on behind it, so `microbuy train` can
            # hand the running Rasa a new model (dialogues/rasa_cli.py reads it from the environment).
            Child("rasa", PROCESSES["rasa"].command(python, model=model, port=ports["rasa"]),
                  {**base, "ACTION_ENDPOINT_URL": f"{actions_url}/webhook", "RASA_TOKEN": rasa_token, **shared},
                  rasa_ready(f"{rasa_url}/", rasa_token), TIMEOUTS_S["rasa"], log("rasa")),
        ]
        web_env = {**base, **{k: v for k, v in os.environ.items() if k.startswith("SLACK_")},
                   "RASA_URL": rasa_url, "PORT": str(ports["web"]), RASA_SECRET: shared[RASA_SECRET]}
        if mode is None:
            from standin.workspace import BOT_TOKEN

            children.append(Child(
                "standin", PROCESSES["standin"].command(python, port=ports["standin"], app_url=events_url),
                {**base, "SLACK_SIGNING_SECRET": secret}, answers_200(f"{standin_url}/health"),
                TIMEOUTS_S["standin"], log("standin")))
            web_env.pop("SLACK_APP_TOKEN", None)
            # The stand-in is on this machine: the bot need not face the network.
            web_env.update({"SLACK_API_URL": f"{standin_url}/api/", "SLACK_BOT_TOKEN": BOT_TOKEN,
                            "SLACK_SIGNING_SECRET": secret, "HOST": "127.0.0.1"})
        web_probe = log_says(BOLT_SOCKET_MODE_READY) if mode == "socket" else \
            answers_200(f"http://127.0.0.1:{ports['web']}/health")
        children.append(Child("web", PROCESSES["web"].command(python), web_env, web_probe, TIMEOUTS_S["web"],
                              log("web")))
        return children

    def _wait(self, shown: List[Child], waiting: List[Child]) -> None:
        shown = [c for c in shown if c.process is not None]
        while True:
            before = {c.name for c in waiting if c.ready}
            self.supervisor.poll_ready(waiting)
            newly = [c for c in waiting if c.ready and c.name not in before]
            self.console.waiting(shown, newly)
            if all(c.ready for c in waiting):
                return
            time.sleep(POLL_S)

    def _banner(self, ports: Dict[str, int], mode: Optional[str], policy) -> None:
        say = self.console.say
        say()
        if mode is None:
            say(f"  Open http://127.0.0.1:{ports['standin']}/ in a browser")
            requester, approver = who_to_try(policy)
            if requester:
                say(f"  Try it as {requester[1]} ({requester[0]}), who asks to buy something;")
            if approver:
                say(f"  {approver[1]} ({approver[0]}) approves in {approver[2]}.")
        elif mode == "socket":
            say("  connected to Slack (Socket Mode)")
        else:
            say(f"  connected to Slack (HTTP on port {ports['web']}, at /slack/events)")
        say("  After changing training phrases, `.venv/bin/microbuy train` hands Rasa the new model.")
        say("  Ctrl-C stops everything.")
        say()

    def _check(self, ports: Dict[str, int], mode: Optional[str], policy, steps: int) -> int:
        if mode is not None:
            self.console.say(f"[5/{steps}] check: every process is healthy; "
                             "no message sent (this is the real workspace)")
            return 0
        requester, _ = who_to_try(policy)
        if requester is None:
            raise Failed("check: the policy has no one who approves nothing to send a DM as")
        try:
            seconds, reply = send_check_dm(ports["standin"], requester[0], self.logs)
        except Failed as exc:
            self.console.error(f"check: {exc}")
            return EXIT_INPUT
        shown = reply if len(reply) <= 80 else reply[:79] + "…"
        self.console.say(f"[5/{steps}] check: a DM from {requester[1]} got the bot's reply in {seconds:.1f} s: "
                         f"{shown!r}")
        return 0


def run_secrets(env: Mapping[str, str]) -> Dict[str, str]:
    """The secrets Rasa and the action server, and the bot and Rasa, share: the ones set in the
    environment, else new ones for this run (they live only in the children's environments)."""
    from dialogues import shared_secret

    found = {}
    for name in (shared_secret.ACTIONS_SECRET, shared_secret.RASA_SECRET):
        try:
            found[name] = shared_secret.from_env(name, env) if (env.get(name) or "").strip() else shared_secret.new()
        except shared_secret.MissingSecret as exc:
            raise Failed(str(exc), EXIT_USAGE) from None
    return found


def rasa_ready(url: str, token: Optional[str]) -> Callable[[Child], bool]:
    """`rasa run` loads its model before it opens its port, so an answer means loading is over.
    With a token its API is on and /status names the model; without, /status does not exist (the
    API would be open to anyone) and the log tells whether a model was loaded."""
    def no_model(child: Child, why: str) -> Failed:
        return Failed(f"rasa started without a model ({why}); last lines of {_shown_path(child.log)}:\n{child.tail()}")

    def probe(child: Child) -> bool:
        if token:
            answer = http_get(f"{url}status?{urllib.parse.urlencode({'token': token})}")
            if answer is None:
                return False
            if answer[0] == 409:  # Rasa's "No agent loaded"
                raise no_model(child, "/status: no agent loaded")
            if answer[0] != 200:
                raise Failed(f"rasa refused RASA_TOKEN at /status (HTTP {answer[0]})")
            if not json.loads(answer[1] or b"{}").get("model_file"):
                raise no_model(child, "/status names no model")
            return True
        answer = http_get(url)
        if answer is None or answer[0] != 200:
            return False
        text = child.log.read_text(encoding="utf-8", errors="replace") if child.log.exists() else ""
        for marker in NO_MODEL_MARKERS:
            if marker in text:
                raise no_model(child, marker)
        return True
    probe.describe = f"GET {url}{'status' if token else ''}"  # type: ignore[attr-defined]
    return probe


def log_says(marker: str) -> Callable[[Child], bool]:
    def probe(child: Child) -> bool:
        try:
            return marker in child.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    probe.describe = f"the log line {marker!r}"  # type: ignore[attr-defined]
    return probe


def send_check_dm(standin_port: int, user: str, logs: Path) -> Tuple[float, str]:
    """A DM from `user` typed into the stand-in's page (its JSON API), which delivers it to the bot
    signed, as Slack would; then the page's view of that DM until the bot's reply is in it.
    (seconds, reply text)."""
    origin = f"http://127.0.0.1:{standin_port}"

    def call(path: str, body: Optional[dict] = None) -> dict:
        request = urllib.request.Request(
            origin + path, data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"} if body is not None else {})
        try:
            with _OPENER.open(request, timeout=35) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read()).get("error")
            except ValueError:
                error = None
            raise Failed(f"the stand-in refused {path}: HTTP {exc.code} {error or ''}".rstrip()) from None
        except (OSError, ValueError) as exc:
            raise Failed(f"the stand-in did not answer {path}: {exc}") from None

    def dm(state: dict) -> dict:
        return next(c for c in state["conversations"] if c["kind"] == "dm")

    state = call(f"/ui/api/state?user={urllib.parse.quote(user)}")
    channel = dm(state)["id"]
    replies_before = sum(1 for item in dm(state)["items"] if item["bot"])
    started = time.monotonic()
    call("/ui/api/message", {"user": user, "channel": channel, "text": CHECK_TEXT})
    while time.monotonic() - started < CHECK_REPLY_TIMEOUT_S:
        state = call(f"/ui/api/state?user={urllib.parse.quote(user)}&since={state['version']}&wait=5")
        replies = [item for item in dm(state)["items"] if item["bot"]]
        if len(replies) > replies_before:
            return time.monotonic() - started, replies[-1]["text"] or "(blocks only)"
    raise Failed(f"no reply from the bot in the DM within {CHECK_REPLY_TIMEOUT_S:.0f} s; see {_shown_path(logs)}/")


def write_handover(rasa_url: str, token: str) -> None:
    from dialogues.reload import HANDOVER

    HANDOVER.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(HANDOVER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the token: owner only
    with os.fdopen(fd, "w") as out:
        json.dump({"url": rasa_url, "token": token}, out)


def remove_handover() -> None:
    from dialogues.reload import HANDOVER

    HANDOVER.unlink(missing_ok=True)


def main(check: bool = False, logs: Optional[Path] = None) -> int:
    try:
        return Up(check=check, logs=(logs or DEFAULT_LOGS).resolve()).run()
    except Interrupted:  # a second signal while an error was being printed; the clean-up has run
        return EXIT_INPUT
