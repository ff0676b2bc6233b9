"""The whole product on this machine for bench/slack_load.py and tests/scale: an in-process Slack
stand-in, and as real child processes `rasa run actions`, `rasa run` and `python -m bot`
(any number of each), all on one database; simulated requesters talking to it through the Slack
protocol (and to Rasa's REST webhook directly, for the bare-Rasa comparison); and the checks,
from the Slack side and from the database, that nothing was lost, duplicated or mixed up.

    stack = FullStack(database_url, model, logs, bots=2, rasas=2, redis_url="redis://127.0.0.1:6379/3")
    cold_start_s = stack.start()
    outcome = SlackRequester(stack, "US00001", purchase).run()
    problems = slack_problems([outcome], stack) + database_problems(database_url, [outcome])
    stack.stop()

Times: a reply's arrival is the `ts` the stand-in gave the bot's chat.postMessage (the clock in
microseconds, this process's clock), so a turn is timed from just before its delivery starts to
the moment the reply reached the Web API.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import httpx

from bench.conversation import MAX_TURNS, Purchase, Reply, answer, rest_question, submitted
from dialogues import shared_secret
from dialogues.processes import PROCESSES
from dialogues.rasa_cli import TOKEN_ENV
from dialogues.stack import free_port
from dialogues.training import rasa_env
from microbuy.up import BIN, Child, Supervisor, answers_200, rasa_ready
from standin import Deliverer, StandIn, Workspace, webapi

TODAY = "2026-11-25"  # the day requests are judged on (MICROBUY_TODAY), as in the tests
APPROVALS, ADMINS = "C0APPROVALS", "C0ADMINS"
START_TIMEOUT_S = 180.0
REPLY_TIMEOUT_S = 30.0
ACK_DEADLINE_S = 3.0  # Slack's: a slower acknowledgement is a failed delivery (and retried)
# Words of the bot's and Rasa's error replies: each occurrence is an error.
ERROR_MARKS = ("could NOT", "can't reach the purchase assistant", "Something went wrong", "I can't check answers",
               "was not recorded", "too long for me")
SUBMITTED = re.compile(r"Submitted (MB-\d+)")


# -- processes ---------------------------------------------------------------------------------

def peak_rss_mb(pid: int) -> Optional[float]:
    """The process's peak resident memory (VmHWM), in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used (all cores, since boot)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def group_members(pgid: int) -> List[int]:
    """Every live process in a process group (a child and anything it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                    members.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return members


class FullStack:
    """The stand-in Slack (in this process) and `bots` bots, `rasas` Rasa servers and `actions`
    action servers (child processes), on `database_url`. Bot i talks to Rasa i % rasas; Rasa j
    to action server j % actions. With `redis_url`, Rasa keeps its conversation locks there."""

    def __init__(self, database_url: str, model: Path, logs: Path, *, bots: int = 1, rasas: int = 1,
                 actions: int = 1, redis_url: Optional[str] = None, env: Optional[Dict[str, str]] = None,
                 people: Optional[Dict[str, Tuple[str, str]]] = None):
        from policies import load_policy

        self.database_url, self.model, self.logs = database_url, model, logs
        self.counts = {"bot": bots, "rasa": rasas, "actions": actions}
        self.redis_url = redis_url
        self.extra_env = dict(env or {})
        self.policy = load_policy()
        people = people or {uid: (p.name, p.language or "en") for uid, p in self.policy.rules.people.items()}
        self.workspace = Workspace.from_people(people, channels={APPROVALS: "microbuy-approvals",
                                                                 ADMINS: "microbuy-admins"})
        self.standin = StandIn(self.workspace)
        self.secret = secrets.token_urlsafe(24)
        # Rasa -> action server, and bot -> Rasa: passed in the environment, as `microbuy up` does.
        self.actions_secret, self.rasa_secret = shared_secret.new(), shared_secret.new()
        self.supervisor = Supervisor(logs)
        self.children: List[Child] = []
        self.rasa_urls: List[str] = []
        self.bot_urls: List[str] = []
        self.deliverers: List[Deliverer] = []
        self.ready_after: Dict[str, float] = {}
        # kind ("actions", "rasa", "bot") -> a function of the command line, e.g. to run it under a
        # profiler
        self.wrap: Dict[str, Callable[[List[str]], List[str]]] = {}

    def start(self) -> float:
        """Start everything at once and wait until each answers its health check; the seconds
        from the first spawn until all are healthy (the stand-in, in this process, starts first)."""
        # The stand-in's server keeps the standard library's listen backlog of 5: under a burst of
        # Web API calls the kernel drops connection attempts and the bot retries them a second
        # later, which Slack would not cause. Until the stand-in sets its own, the benchmark does.
        webapi._Server.request_queue_size = max(webapi._Server.request_queue_size, 128)
        self.standin.start()
        base = {k: v for k, v in rasa_env().items() if not k.startswith("SLACK_") and k not in (
            "REDIS_URL", TOKEN_ENV, shared_secret.ACTIONS_SECRET, shared_secret.RASA_SECRET)}
        base.update({"DATABASE_URL": self.database_url, "PYTHONUNBUFFERED": "1", "MICROBUY_TODAY": TODAY,
                     **self.extra_env})
        python = str(BIN / "python")
        log = lambda name: self.logs / f"{name}.log"  # noqa: E731
        action_urls = []
        for i in range(self.counts["actions"]):
            port = free_port()
            action_urls.append(f"http://127.0.0.1:{port}")
            self.children.append(Child(f"actions{i + 1}", PROCESSES["actions"].command(python, port=port),
                                       {**base, shared_secret.ACTIONS_SECRET: self.actions_secret},
                                       answers_200(f"http://127.0.0.1:{port}/health"), START_TIMEOUT_S,
                                       log(f"actions{i + 1}")))
        for i in range(self.counts["rasa"]):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            self.rasa_urls.append(url)
            env = {**base, "ACTION_ENDPOINT_URL": f"{action_urls[i % len(action_urls)]}/webhook",
                   shared_secret.ACTIONS_SECRET: self.actions_secret, shared_secret.RASA_SECRET: self.rasa_secret}
            if self.redis_url:
                env["REDIS_URL"] = self.redis_url
            self.children.append(Child(f"rasa{i + 1}", PROCESSES["rasa"].command(python, model=self.model, port=port),
                                       env, rasa_ready(f"{url}/", None), START_TIMEOUT_S, log(f"rasa{i + 1}")))
        for i in range(self.counts["bot"]):
            port = free_port()
            self.bot_urls.append(f"http://127.0.0.1:{port}/slack/events")
            env = {**base, "SLACK_API_URL": self.standin.url, "SLACK_BOT_TOKEN": self.workspace.bot_token,
                   "SLACK_SIGNING_SECRET": self.secret, "RASA_URL": self.rasa_urls[i % len(self.rasa_urls)],
                   shared_secret.RASA_SECRET: self.rasa_secret,
                   "PORT": str(port)}
            self.children.append(Child(f"bot{i + 1}", PROCESSES["web"].command(str(BIN / "python")), env,
                                       answers_200(f"http://127.0.0.1:{port}/health"), START_TIMEOUT_S,
                                       log(f"bot{i + 1}")))
        for child in self.children:
            kind = child.name.rstrip("0123456789")
            if kind in self.wrap:
                child.argv = self.wrap[kind](child.argv)
        started = time.monotonic()
        for child in self.children:
            self.supervisor.spawn(child)
        while not all(c.ready for c in self.children):
            self.supervisor.poll_ready(self.children)
            time.sleep(0.1)
        cold = time.monotonic() - started
        self.ready_after = {c.name: round(c.ready_after, 2) for c in self.children}
        self.deliverers = [Deliverer(url, self.secret, self.workspace, timeout=REPLY_TIMEOUT_S)
                           for url in self.bot_urls]
        return cold

    def pids(self) -> Dict[str, int]:
        return {c.name: c.process.pid for c in self.children if c.process is not None}

    def memory(self) -> Dict[str, float]:
        """Peak RSS in MB of each child (with anything in its process group), and of this process
        (the stand-in and the simulated people)."""
        found = {}
        for name, pid in self.pids().items():
            found[name] = round(sum(peak_rss_mb(p) or 0 for p in group_members(pid) or [pid]), 1)
        found["standin+drivers"] = round(peak_rss_mb(os.getpid()) or 0, 1)
        return found

    def cpu(self) -> Dict[str, float]:
        """CPU seconds used so far by each child (with its process group) and by this process."""
        used = {name: sum(cpu_seconds(p) for p in group_members(pid) or [pid]) for name, pid in self.pids().items()}
        used["standin+drivers"] = cpu_seconds(os.getpid())
        used["machine"] = machine_cpu_seconds()
        return used

    def check_alive(self) -> None:
        self.supervisor.check_alive()

    def stop(self) -> None:
        try:
            self.supervisor.stop()
        finally:
            self.standin.stop()

    def approver_of(self, cost_centre: str) -> str:
        approval = self.policy.rules.approval
        lowest = next(iter(approval.levels))
        return (approval.cost_centres[cost_centre].approvers.get(lowest) or approval.approvers[lowest])[0]

    def add_requester(self, user_id: str, name: str) -> None:
        self.workspace.add_user(user_id, name.lower().replace(" ", "."), real_name=name)
        for channel in (APPROVALS, ADMINS):
            self.workspace.channels[channel].members.append(user_id)


# -- reading Slack messages --------------------------------------------------------------------

def text_of(message) -> str:
    parts = [message.text or ""] if not message.blocks else []
    for block in message.blocks or []:
        if block.get("type") == "section":
            parts.append(block["text"]["text"])
        elif block.get("type") == "context":
            parts.extend(e.get("text", "") for e in block.get("elements", []))
    return "\n".join(parts)


def buttons_of(message) -> List[dict]:
    return [e for b in (message.blocks or []) if b.get("type") == "actions" for e in b.get("elements", [])]


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def ts_seconds(ts: str) -> float:
    return float(ts)


# -- what a simulated person did ----------------------------------------------------------------

@dataclass
class Turn:
    sent: str
    clicked: bool
    t0: float  # time.time() just before the delivery (or the POST) started
    ack_ms: Optional[float] = None  # the bot's acknowledgement (Slack only)
    status: Optional[int] = None
    latency_ms: Optional[float] = None  # until the reply that asks the next question (or ends)
    first_ms: Optional[float] = None  # until the turn's first reply
    expected: int = 1  # replies expected (2 for a double-sent message)
    via: int = 0  # which bot it was delivered to


@dataclass
class Outcome:
    kind: str  # "slack" or "rest"
    user: str
    sender: str  # Rasa's sender id
    purchase: Purchase
    turns: List[Turn] = field(default_factory=list)
    sent: List[str] = field(default_factory=list)  # what reached Rasa, in order
    asked: List[str] = field(default_factory=list)  # the start of each question, in order
    errors: List[str] = field(default_factory=list)
    lost: int = 0
    reference: Optional[str] = None
    submitted: bool = False
    approved: bool = False
    started: float = 0.0
    finished: Optional[float] = None
    approval_post_ms: Optional[float] = None  # Submit click -> the approval channel post
    approve_ack_ms: Optional[float] = None
    approved_ms: Optional[float] = None  # Approve click -> the requester told
    approve_t0: Optional[float] = None
    approver: Optional[str] = None

    @property
    def done(self) -> bool:
        return self.approved if self.kind == "slack" else self.submitted


Think = Callable[[], float]


def no_think() -> float:
    return 0.0


class SlackRequester:
    """One person's purchase through Slack: DMs and button clicks delivered (signed) to the bots
    in turn, each reply read from the stand-in; then the approver approves it in the approval
    channel. `double_send`: the answer to the question with these words is typed and sent twice at
    once, to two bots in turn (a double Enter): the conversation lock must keep them apart."""

    def __init__(self, stack: FullStack, user: str, purchase: Purchase, *, think: Think = no_think,
                 first_bot: int = 0, double_send: Optional[str] = None, timeout: float = REPLY_TIMEOUT_S,
                 approve: bool = True):
        self.stack, self.ws, self.user, self.purchase = stack, stack.workspace, user, purchase
        self.think, self.first_bot, self.double_send, self.timeout = think, first_bot, double_send, timeout
        self.approve = approve
        self.doubled = False
        self.outcome = Outcome("slack", user, f"{self.ws.team_id}:{user}", purchase)
        self.dm = self.ws.dm(user).id

    def _deliverer(self, n: int) -> Tuple[int, Deliverer]:
        index = (self.first_bot + n) % len(self.stack.deliverers)
        return index, self.stack.deliverers[index]

    def run(self) -> Outcome:
        out = self.outcome
        out.started = time.time()
        try:
            self._converse()
            if out.reference and self.approve:
                self._approval()
        except Exception as exc:  # noqa: BLE001 - the benchmark counts it and carries on
            out.errors.append(f"{type(exc).__name__}: {exc}")
        out.finished = time.time()
        return out

    def _converse(self) -> None:
        out = self.outcome
        reply: Reply = Reply(self.purchase.opening())
        question = None
        for n in range(MAX_TURNS):
            via, deliverer = self._deliverer(n)
            with self.ws.lock:
                mark = len(self.ws.channels[self.dm].messages)
            double = bool(self.double_send and not self.doubled and question is not None
                          and self.double_send in _unescape(text_of(question)))
            if double:
                self.doubled = True  # once per conversation
                reply = Reply(reply.text)  # typed, not clicked: a second click on a button is ignored
            turn = Turn(reply.sent, reply.clicks, time.time(), via=via)
            if reply.clicks:
                button = next(b for b in buttons_of(question) if b.get("value") == reply.payload)
                delivery = deliverer.block_action(self.user, question, button["action_id"], reply.payload)
            else:
                delivery = deliverer.message(self.user, self.dm, reply.text)
            self._acked(turn, delivery)
            out.turns.append(turn)
            out.sent.append(reply.sent)
            if double:
                _, second = self._deliverer(n + 1)
                self._acked(turn, second.message(self.user, self.dm, reply.text))
                out.sent.append(reply.sent)
                turn.expected = 2
            found = self._wait_turn(mark, turn.expected)
            if found is None:
                return
            new, kind, last = found
            turn.first_ms = (ts_seconds(new[0].ts) - turn.t0) * 1000
            turn.latency_ms = (ts_seconds(last.ts) - turn.t0) * 1000
            text = text_of(last)
            if kind == "error":
                out.errors.append(f"error reply: {text[:120]!r}")
                return
            if kind == "submitted":
                out.submitted = True
                out.reference = SUBMITTED.search(_unescape(text)).group(1)
                return
            question = last
            out.asked.append(_unescape(text)[:60])
            _sleep(self.think())
            reply = self._answer(last)
        out.errors.append(f"no purchase after {MAX_TURNS} turns; last asked {out.asked[-3:]!r}, sent {out.sent[-3:]!r}")

    def _acked(self, turn: Turn, delivery) -> None:
        ms = delivery.elapsed * 1000
        turn.ack_ms = ms if turn.ack_ms is None else max(turn.ack_ms, ms)
        turn.status = delivery.status if turn.status in (None, 200) else turn.status
        if not delivery.ok:
            self.outcome.errors.append(f"ack HTTP {delivery.status}: {delivery.response_body[:80]!r}")
        elif delivery.elapsed > ACK_DEADLINE_S:
            self.outcome.errors.append(f"ack after {delivery.elapsed:.1f} s (over Slack's 3 s)")

    def _answer(self, message) -> Reply:
        buttons = [((b.get("text") or {}).get("text", ""), b.get("value", "")) for b in buttons_of(message)]
        return answer(_unescape(text_of(message)), [(_unescape(t), v) for t, v in buttons], self.purchase)

    def _classify(self, message) -> Optional[str]:
        text = _unescape(text_of(message))
        if any(mark in text for mark in ERROR_MARKS):
            return "error"
        if SUBMITTED.search(text):
            return "submitted"
        if self._answer(message) is not None:
            return "question"
        return None

    def _wait_turn(self, mark: int, expected: int):
        """The turn's new bot messages, once `expected` have come and the last asks something
        (or ends the conversation): (messages, kind, last). None when they do not come in time."""
        channel = self.ws.channels[self.dm]

        def ready():
            new = [m for m in channel.messages[mark:] if m.bot_id and not m.deleted]
            if len(new) >= expected:
                kind = self._classify(new[-1])
                if kind:
                    return new, kind, new[-1]
            return None

        try:
            return self.ws.wait_for(ready, timeout=self.timeout)
        except TimeoutError:
            with self.ws.lock:
                new = [m for m in channel.messages[mark:] if m.bot_id]
            out = self.outcome
            if not new:
                out.lost += expected
                out.errors.append(f"lost: no reply to {out.sent[-1]!r} within {self.timeout:.0f} s")
            else:
                out.errors.append(f"no answer for {_unescape(text_of(new[-1]))[:120]!r}")
            return None

    def _approval(self) -> None:
        out, ws = self.outcome, self.ws
        channel = ws.channels[APPROVALS]
        prefix = f"{out.reference} "

        def posted():
            return next((m for m in channel.messages if m.bot_id and (m.text or "").startswith(prefix)
                         and any(b.get("action_id") == "approve" for b in buttons_of(m))), None)

        try:
            post = ws.wait_for(posted, timeout=self.timeout)
        except TimeoutError:
            out.lost += 1
            out.errors.append(f"lost: no approval post for {out.reference}")
            return
        out.approval_post_ms = (ts_seconds(post.ts) - out.turns[-1].t0) * 1000
        _sleep(self.think())
        out.approver = approver = self.stack.approver_of(self.purchase.cost_centre)
        _, deliverer = self._deliverer(len(out.turns))
        dm = ws.channels[self.dm]
        with ws.lock:
            mark = len(dm.messages)
        out.approve_t0 = time.time()
        delivery = deliverer.block_action(approver, post, "approve")
        out.approve_ack_ms = delivery.elapsed * 1000
        if not delivery.ok:
            out.errors.append(f"approve ack HTTP {delivery.status}")
        elif delivery.elapsed > ACK_DEADLINE_S:
            out.errors.append(f"approve ack after {delivery.elapsed:.1f} s (over Slack's 3 s)")
        told = f"{out.reference} was approved"
        try:
            message = ws.wait_for(
                lambda: next((m for m in dm.messages[mark:] if m.bot_id and told in text_of(m)), None),
                timeout=self.timeout)
        except TimeoutError:
            out.lost += 1
            out.errors.append(f"lost: the requester was not told {out.reference} was approved")
            return
        out.approved_ms = (ts_seconds(message.ts) - out.approve_t0) * 1000
        out.approved = True


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


class RestRequester:
    """The same conversation straight to Rasa's REST webhook (no Slack, no bot): bare Rasa."""

    def __init__(self, rasa_url: str, user: str, purchase: Purchase, *, secret: str, think: Think = no_think,
                 timeout: float = REPLY_TIMEOUT_S, team: str = "TBARE"):
        self.url = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook"
        self.headers = {"Authorization": shared_secret.bearer(secret)}  # MICROBUY_RASA_SECRET, as the bot sends it
        self.think, self.timeout = think, timeout
        self.outcome = Outcome("rest", user, f"{team}:{user}", purchase)

    def run(self) -> Outcome:
        out = self.outcome
        out.started = time.time()
        text = out.purchase.opening()
        try:
            with httpx.Client(timeout=self.timeout) as client:
                for _ in range(MAX_TURNS):
                    turn = Turn(text, False, time.time())
                    started = time.perf_counter()
                    try:
                        answer_ = client.post(self.url, json={"sender": out.sender, "message": text},
                                              headers=self.headers)
                    except httpx.TimeoutException:
                        out.lost += 1
                        out.errors.append(f"lost: no reply to {text!r} within {self.timeout:.0f} s")
                        break
                    turn.latency_ms = turn.first_ms = (time.perf_counter() - started) * 1000
                    turn.status = answer_.status_code
                    out.turns.append(turn)
                    out.sent.append(text)
                    if answer_.status_code != 200:
                        out.errors.append(f"HTTP {answer_.status_code}")
                        break
                    replies = answer_.json()
                    if any((r.get("custom") or {}).get("type") == "error" for r in replies):
                        out.errors.append(f"error reply: {replies[0].get('text', '')[:120]!r}")
                        break
                    done = submitted(replies)
                    if done:
                        out.submitted, out.reference = True, done.get("reference")
                        break
                    asked, buttons = rest_question(replies)
                    out.asked.append(asked[:60])
                    reply = answer(asked, buttons, out.purchase)
                    if reply is None:
                        out.errors.append(f"no answer for {asked[:120]!r}")
                        break
                    text = reply.sent
                    _sleep(self.think())
                else:
                    out.errors.append(f"no purchase after {MAX_TURNS} turns; last asked {out.asked[-3:]!r}, "
                                      f"sent {out.sent[-3:]!r}")
        except Exception as exc:  # noqa: BLE001
            out.errors.append(f"{type(exc).__name__}: {exc}")
        out.finished = time.time()
        return out


# -- checks afterwards ---------------------------------------------------------------------------

@dataclass
class Findings:
    """What went wrong, counted; `problems` says what, one line each."""

    errors: int = 0
    lost: int = 0
    duplicated: int = 0
    extra: int = 0  # more replies in a turn than expected, not identical
    problems: List[str] = field(default_factory=list)

    def add(self, other: "Findings") -> "Findings":
        return Findings(self.errors + other.errors, self.lost + other.lost, self.duplicated + other.duplicated,
                        self.extra + other.extra, self.problems + other.problems)

    @property
    def clean(self) -> bool:
        return not (self.errors or self.lost or self.duplicated or self.extra)


def driver_findings(outcomes: Sequence[Outcome]) -> Findings:
    """What the simulated people saw: errors, lost messages, purchases not done."""
    found = Findings()
    for out in outcomes:
        found.lost += out.lost
        real = [e for e in out.errors if not e.startswith("lost:")]
        found.errors += len(real)
        found.problems += [f"{out.user}: {e}" for e in out.errors]
        if not out.done and not out.errors:
            found.errors += 1
            found.problems.append(f"{out.user}: did not finish")
    return found


def slack_findings(outcomes: Sequence[Outcome], stack: FullStack, api_log_from: int = 0) -> Findings:
    """From the stand-in, once everything is quiet: each turn's replies counted (identical ones are
    duplicates, others extra), one approval post per request, no refusal shown to an approver,
    and no Web API call the stand-in refused."""
    ws = stack.workspace
    found = Findings()
    with ws.lock:
        posts = [m for m in ws.channels[APPROVALS].messages if m.bot_id]
        for out in (o for o in outcomes if o.kind == "slack"):
            bot = [m for m in ws.channels[ws.dm(out.user).id].messages if m.bot_id]
            for message in bot:  # an error reply anywhere, not only the last of a turn
                text = _unescape(text_of(message))
                if any(mark in text for mark in ERROR_MARKS) and not any(text[:60] in e for e in out.errors):
                    found.errors += 1
                    found.problems.append(f"{out.user}: error reply {text[:120]!r}")
            starts = [t.t0 for t in out.turns] + ([out.approve_t0] if out.approve_t0 else [])
            expected = [t.expected for t in out.turns] + ([1] if out.approve_t0 else [])
            for i, (start, want) in enumerate(zip(starts, expected, strict=True)):
                end = starts[i + 1] if i + 1 < len(starts) else float("inf")
                replies = [m for m in bot if start <= ts_seconds(m.ts) < end]
                if len(replies) > want:
                    shapes = [json.dumps([m.text, m.blocks], sort_keys=True) for m in replies]
                    dups = len(shapes) - len(set(shapes))
                    found.duplicated += dups
                    found.extra += len(replies) - want - dups
                    found.problems.append(f"{out.user}: turn {i + 1} ({out.sent[min(i, len(out.sent) - 1)]!r}) "
                                          f"got {len(replies)} replies, expected {want}")
            if out.reference:
                mine = [m for m in posts if (m.text or "").startswith(f"{out.reference} ")]
                if len(mine) > 1:
                    found.duplicated += len(mine) - 1
                    found.problems.append(f"{out.user}: {len(mine)} approval posts for {out.reference}")
            if out.approver:
                refused = [e for e in ws.ephemerals_for(out.approver) if "not recorded" in (e.text or "")]
                if refused:
                    found.errors += len(refused)
                    found.problems.append(f"{out.approver}: {refused[0].text[:100]!r}")
        for call in ws.api_log[api_log_from:]:
            if call.ok is False or call.status != 200:
                found.errors += 1
                found.problems.append(f"Web API {call.method} refused: HTTP {call.status} {call.error}")
    return found


def database_problems(database_url: str, outcomes: Sequence[Outcome]) -> Findings:
    """From the database: each requester has exactly one stored request, with their own answers
    (supplier, cost centre, quantity); a Slack one approved by exactly one decision, a REST one
    submitted and undecided; and each Rasa conversation (tracker) holds exactly the messages that
    person sent, in order, and no other person's supplier or cost centre."""
    from sqlalchemy import text

    import storage
    from storage.models import Decision, PurchaseRequest

    found = Findings()
    engine = storage.make_engine(database_url)
    try:
        sessions = storage.make_session_factory(engine)
        with sessions() as session:
            for out in outcomes:
                p = out.purchase
                requests = session.query(PurchaseRequest).filter(PurchaseRequest.requester == out.user).all()
                if len(requests) != 1:
                    if requests:
                        found.duplicated += len(requests) - 1
                    else:
                        found.lost += 1
                    found.problems.append(f"{out.user}: {len(requests)} stored requests, expected 1")
                    continue
                req = requests[0]
                wrong = []
                if req.supplier != p.supplier:
                    wrong.append(f"supplier {req.supplier!r} != {p.supplier!r}")
                if req.cost_centre != p.cost_centre:
                    wrong.append(f"cost centre {req.cost_centre!r} != {p.cost_centre!r}")
                if req.subtotal != p.quantity * p.unit_price:
                    wrong.append(f"subtotal {req.subtotal} != {p.quantity} x {p.unit_price}")
                decisions = session.query(Decision).filter(Decision.request_id == req.id).all()
                if out.kind == "slack":
                    if req.status != "approved":
                        wrong.append(f"status {req.status!r}, expected 'approved'")
                    if len(decisions) != 1:
                        found.duplicated += max(0, len(decisions) - 1)
                        wrong.append(f"{len(decisions)} decisions recorded, expected 1")
                elif decisions or req.status != "submitted":
                    wrong.append(f"status {req.status!r} with {len(decisions)} decisions, expected submitted, none")
                if wrong:
                    found.errors += 1
                    found.problems.append(f"{out.user}: request {req.reference}: " + "; ".join(wrong))
            for out in outcomes:
                rows = session.execute(text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                       {"s": out.sender}).all()
                said = [json.loads(data).get("text") for kind, data in rows if kind == "user"]
                if said != out.sent:
                    missing, extra = len(out.sent) - len(said), len(said) - len(out.sent)
                    if missing > 0:
                        found.lost += missing
                    elif extra > 0:
                        found.duplicated += extra
                    else:
                        found.errors += 1
                    found.problems.append(f"{out.user}: the conversation holds {len(said)} messages {said!r}, "
                                          f"sent {len(out.sent)} {out.sent!r}")
                expected = {"supplier": out.purchase.supplier, "cost_centre": out.purchase.cost_centre}
                for kind, data in rows:
                    event = json.loads(data)
                    wrong = kind == "slot" and event.get("name") in expected
                    if wrong and event.get("value") not in (None, expected[event["name"]]):
                        found.errors += 1
                        found.problems.append(f"{out.user}: slot {event['name']} set to {event['value']!r}, "
                                              f"expected {expected[event['name']]!r}")
    finally:
        engine.dispose()
    return found
