"""Benchmark of the whole stack through Slack's protocol: N simulated requesters completing
purchases at once, approvers approving them, and the same conversations straight to Rasa.

    .venv/bin/python bench/slack_load.py                 # 50 requesters, sweep 1,5,10,25,50 (about 15 min)
    .venv/bin/python bench/slack_load.py --quick         # a smoke run: 4 requesters, sweep 1,4
    .venv/bin/python bench/slack_load.py --sqlite --sweep 50 --reuse-model   # on the SQLite file instead
    .venv/bin/python bench/slack_load.py --scale-out     # 2 bots, 2 Rasa, 2 action servers, Redis locks

Trains the dialogue model from scratch into a temporary folder (timed), creates a fresh PostgreSQL
database (MICROBUY_TEST_POSTGRES_URL's server, dropped afterwards; --sqlite: a SQLite file), starts
the action server, Rasa and the bot (`python -m bot`, HTTP mode) as child processes with the Slack
stand-in in this process (so the bot's replies are timed by this process's clock), and waits until
all are healthy (cold start). A warm-up purchase through each path is not counted.

Then, for each concurrency of the sweep: that many requesters talk to Rasa's REST webhook (bare
Rasa), then as many talk to the bot through Slack (signed Events API deliveries and button
clicks), each buying from its own supplier and answering whatever is asked (bench/conversation.py),
with a think time between a reply and the next message; once submitted, the cost centre's
approver clicks Approve in the approval channel and the requester waits to be told. Last, a
capacity run: N requesters with no think time. Afterwards the stand-in and the database are
checked: every message answered once, one approval post and one decision per request, every stored
request with its requester's own answers, every Rasa conversation holding exactly what its person
sent.

--scale-out: two bots, each with its own Rasa and action server, on PostgreSQL with the
conversation locks in Redis (MICROBUY_BENCH_REDIS_URL, default db 13, emptied first); each
person's messages go to the bots in turn, and one answer is typed twice at once, one copy to each.

Prints tables, writes bench/results/slack_load.json (slack_load_sqlite.json, slack_scale_out.json)
and bench/results/latency_vs_concurrency.png. Exit code 0 when nothing was lost, duplicated or
wrong; the latency targets are reported, not asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.conversation import purchases  # noqa: E402
from bench.dialogue import percentile  # noqa: E402
from bench.fullstack import (  # noqa: E402
    Findings,
    FullStack,
    Outcome,
    RestRequester,
    SlackRequester,
    database_problems,
    driver_findings,
    slack_findings,
)

RESULTS = ROOT / "bench" / "results"
POSTGRES_ADMIN_URL = os.environ.get("MICROBUY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("MICROBUY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
TARGETS = {"ack_p99_ms": 100.0, "p50_ratio": 1.5, "full_p95_ms": 1000.0}
DOUBLE_SEND = "Is the supplier a former public servant"  # scale-out: this answer is typed twice at once, to both bots


# -- the database ------------------------------------------------------------------------------

class Database:
    """A fresh SQLite file in `folder`, or a fresh PostgreSQL database dropped afterwards."""

    def __init__(self, folder: Path, postgres: bool):
        self.postgres = postgres
        self.name = f"microbuy_bench_{uuid.uuid4().hex[:12]}"
        if postgres:
            from sqlalchemy.engine import make_url

            self.url = make_url(POSTGRES_ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)
        else:
            self.url = f"sqlite:///{folder / 'microbuy.db'}"

    def create(self) -> "Database":
        import storage

        if self.postgres:
            self._admin(f'CREATE DATABASE "{self.name}"')
            # PostgreSQL has no default audit key; every process of the run inherits this one.
            os.environ.setdefault("MICROBUY_AUDIT_KEY", secrets.token_hex(32))
        storage.upgrade(self.url)
        return self

    def drop(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @staticmethod
    def _admin(sql: str) -> None:
        from sqlalchemy import create_engine

        engine = create_engine(POSTGRES_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(sql)
        finally:
            engine.dispose()


class ConnectionCount:
    """The most connections PostgreSQL had open to the run's database, sampled every second."""

    def __init__(self, database: Database):
        self.database, self.peak, self._stop = database, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "ConnectionCount":
        if self.database.postgres:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()

    def _sample(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(POSTGRES_ADMIN_URL, future=True, pool_size=1)
        try:
            while not self._stop.wait(1.0):
                with engine.connect() as connection:
                    count = connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"),
                                               {"d": self.database.name}).scalar()
                self.peak = max(self.peak, int(count or 0))
        except Exception:  # noqa: BLE001 - a missing figure, not a failed benchmark
            pass
        finally:
            engine.dispose()


def table_rows(url: str) -> Dict[str, int]:
    """Rows in the tables that grow with use (for sizing the database)."""
    from sqlalchemy import text

    import storage

    engine = storage.make_engine(url)
    try:
        with engine.connect() as connection:
            return {table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar())
                    for table in ("events", "purchase_requests", "decisions", "audit_log", "processed_events")}
    finally:
        engine.dispose()


def clear_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


# -- one phase: N people at once -----------------------------------------------------------------

@dataclass
class Phase:
    kind: str  # "rest" (bare Rasa) or "slack" (the whole stack)
    concurrency: int
    think_s: float
    outcomes: List[Outcome] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: Dict[str, float] = field(default_factory=dict)  # CPU seconds each process used in the phase

    def ours_cpu_s(self) -> float:
        return sum(v for k, v in self.cpu_s.items() if k != "machine")

    def turn_ms(self) -> List[float]:
        """Conversation turns (the approval click apart; a double-sent answer apart)."""
        return [t.latency_ms for o in self.outcomes for t in o.turns if t.latency_ms is not None and t.expected == 1]

    def double_ms(self) -> List[float]:
        return [t.latency_ms for o in self.outcomes for t in o.turns if t.latency_ms is not None and t.expected > 1]

    def ack_ms(self) -> List[float]:
        acks = [t.ack_ms for o in self.outcomes for t in o.turns if t.ack_ms is not None]
        return acks + [o.approve_ack_ms for o in self.outcomes if o.approve_ack_ms is not None]

    def stats(self) -> dict:
        turns, acks = self.turn_ms(), self.ack_ms()
        done = sum(o.done for o in self.outcomes)
        found = driver_findings(self.outcomes)
        result = {
            "requesters": len(self.outcomes), "completed": done, "turns": len(turns), "wall_s": round(self.wall_s, 1),
            "turn_ms": summary(turns), "purchases_per_min": round(done / self.wall_s * 60, 1) if self.wall_s else None,
            "errors": found.errors, "lost": found.lost,
            "cpu_ms_per_turn": {name: round(s * 1000 / max(1, len(turns)), 1) for name, s in self.cpu_s.items()
                                if name != "machine"},
            # Cores busy on average: ours (the stack and this process) and everything else on the machine.
            "cores_busy_ours": round(self.ours_cpu_s() / self.wall_s, 2) if self.wall_s else None,
            "cores_busy_others": round(max(0.0, self.cpu_s.get("machine", 0) - self.ours_cpu_s()) / self.wall_s, 2)
            if self.wall_s else None,
        }
        if self.kind == "slack":
            result["ack_ms"] = summary(acks)
            result["first_reply_ms"] = summary([t.first_ms for o in self.outcomes for t in o.turns
                                                if t.first_ms is not None and t.expected == 1])
            result["approval_post_ms"] = summary([o.approval_post_ms for o in self.outcomes if o.approval_post_ms])
            result["approved_told_ms"] = summary([o.approved_ms for o in self.outcomes if o.approved_ms])
            if self.double_ms():
                result["double_sent_turn_ms"] = summary(self.double_ms())
        return result


def summary(values: Sequence[float]) -> Optional[dict]:
    if not values:
        return None
    return {"n": len(values), "p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1),
            "p99": round(percentile(values, 99), 1), "max": round(max(values), 1)}


class Load:
    """Runs phases against one stack, giving each requester a new id and supplier."""

    def __init__(self, stack: FullStack, timeout: float, double_send: Optional[str] = None):
        self.stack, self.timeout, self.double_send = stack, timeout, double_send
        self.used = 0
        self.outcomes: List[Outcome] = []

    def run(self, kind: str, concurrency: int, think_s: float, seed: int) -> Phase:
        phase = Phase(kind, concurrency, think_s)
        bought = purchases(concurrency, offset=self.used)
        first = self.used
        self.used += concurrency
        people = []
        for i, purchase in enumerate(bought):
            user = f"U{'S' if kind == 'slack' else 'R'}{first + i:05d}"
            rng = random.Random(seed * 100_003 + i)  # the same think times for bare Rasa and Slack
            think = (lambda r=rng: r.uniform(0.5 * think_s, 1.5 * think_s)) if think_s else (lambda: 0.0)
            start = rng.uniform(0, think_s) if think_s else rng.uniform(0, 0.2)
            if kind == "slack":
                self.stack.add_requester(user, f"Requester {first + i}")
                person = SlackRequester(self.stack, user, purchase, think=think, first_bot=i, timeout=self.timeout,
                                        double_send=self.double_send)
            else:
                person = RestRequester(self.stack.rasa_urls[i % len(self.stack.rasa_urls)], user, purchase,
                                       secret=self.stack.rasa_secret, think=think, timeout=self.timeout)
            people.append((start, person))

        def go(start_and_person):
            start, person = start_and_person
            time.sleep(start)
            return person.run()

        cpu_before = self.stack.cpu()
        started = time.time()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            phase.outcomes = list(pool.map(go, people))
        phase.wall_s = max(o.finished for o in phase.outcomes) - started
        phase.cpu_s = {name: round(used - cpu_before.get(name, 0.0), 2) for name, used in self.stack.cpu().items()}
        self.outcomes += phase.outcomes
        self.stack.check_alive()
        return phase


# -- the run ---------------------------------------------------------------------------------------

def others_running() -> List[str]:
    """Other busy processes on the machine (what else competed for the 2 cores)."""
    mine = {os.getpid()}
    try:
        lines = subprocess.run(["ps", "-eo", "pid,pcpu,etimes,args", "--sort=-pcpu"], capture_output=True, text=True,
                               check=True).stdout.splitlines()[1:]
    except (OSError, subprocess.CalledProcessError):
        return []
    busy = []
    for line in lines:
        pid, cpu, _, args = line.split(None, 3)
        if int(pid) in mine or float(cpu) < 5.0:
            continue
        busy.append(f"{float(cpu):.0f}% {args[:90]}")
    return busy[:8]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requesters", type=int, default=50, help="requesters at once in the main run (default 50)")
    parser.add_argument("--sweep", help="concurrencies for the latency curve (default 1,5,10,25,50; with --scale-out "
                                        "only --requesters)")
    parser.add_argument("--think", type=float, default=5.0,
                        help="mean seconds a person takes to read a reply and answer (uniform 0.5x-1.5x; default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 4 requesters, sweep 1,4, think 1 s, no capacity run")
    parser.add_argument("--scale-out", action="store_true",
                        help="2 bots, 2 Rasa, 2 action servers on PostgreSQL with Redis locks; each person's messages "
                             "go to the bots in turn and one answer is sent twice at once")
    parser.add_argument("--sqlite", action="store_true",
                        help="a fresh SQLite file (what `make run` uses) instead of a fresh PostgreSQL database")
    parser.add_argument("--no-redis", action="store_true",
                        help="with --scale-out: conversation locks in each Rasa's memory instead of Redis, to see "
                             "what the shared lock prevents (the run then reports lost or mixed-up messages)")
    parser.add_argument("--no-capacity", action="store_true", help="skip the run with no think time")
    parser.add_argument("--reuse-model", action="store_true",
                        help="use dialogues/models (trained if need be) instead of training from scratch")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds without a reply before a message is lost")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.requesters, args.sweep, args.think, args.no_capacity = 4, args.sweep or "1,4", 1.0, True
    if args.sweep is None:
        args.sweep = str(args.requesters) if args.scale_out else "1,5,10,25,50"
    sweep = sorted({int(x) for x in args.sweep.split(",") if x.strip()} | {args.requesters})
    if args.sqlite and args.scale_out:
        parser.error("--scale-out needs PostgreSQL: several processes share the database")
    postgres = not args.sqlite

    from rich.console import Console

    from dialogues import training

    console = Console(width=None if sys.stdout.isatty() else 140)
    stamp = datetime.now(timezone.utc)
    logs = ROOT / ".run" / "bench" / f"slack-load-{stamp:%Y%m%d-%H%M%S}"
    logs.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="microbuy-bench-"))
    others_before = others_running()
    load_before = os.getloadavg()
    console.print(f"logs in {logs.relative_to(ROOT)}/")

    training_s = None
    if args.reuse_model:
        model = training.train().model
    else:
        console.print("training the dialogue model from scratch …")
        trained = training.train(out=scratch / "models")
        model, training_s = trained.model, trained.seconds
        console.print(f"  trained in {training_s:.1f} s")

    database = Database(scratch, postgres).create()
    topology = dict(bots=2, rasas=2, actions=2) if args.scale_out else dict(bots=1, rasas=1, actions=1)
    redis_url = REDIS_URL if args.scale_out and not args.no_redis else None
    if redis_url:
        clear_redis(redis_url)
    stack = FullStack(database.url, model, logs, redis_url=redis_url, **topology)
    phases: List[Phase] = []
    capacity: Dict[str, Phase] = {}
    findings = Findings()
    connections = ConnectionCount(database).__enter__()
    try:
        console.print(f"starting {', '.join(f'{n} {k}' for k, n in stack.counts.items())} on "
                      f"{'PostgreSQL' if postgres else 'SQLite'}{' with Redis locks' if redis_url else ''} …")
        cold_s = stack.start()
        console.print(f"  all healthy after {cold_s:.1f} s ({stack.ready_after})")
        api_from = len(stack.workspace.api_log)  # what the bots did as they started is not counted
        load = Load(stack, args.timeout, DOUBLE_SEND if args.scale_out else None)
        warm = [load.run("rest", 1, 0.0, seed=0), load.run("slack", 1, 0.0, seed=0)]
        for level, concurrency in enumerate(sweep, start=1):
            for kind in (("slack",) if args.scale_out else ("rest", "slack")):
                console.print(f"  {concurrency:>3} requesters, {'bare Rasa' if kind == 'rest' else 'Slack + bot'} …")
                phases.append(load.run(kind, concurrency, args.think, seed=level))
                console.print(f"      {short(phases[-1])}")
        if not args.no_capacity:
            for kind in (("slack",) if args.scale_out else ("rest", "slack")):
                console.print(f"  capacity: {args.requesters} requesters, no think time, "
                              f"{'bare Rasa' if kind == 'rest' else 'Slack + bot'} …")
                capacity[kind] = load.run(kind, args.requesters, 0.0, seed=999)
                console.print(f"      {short(capacity[kind])}")
        time.sleep(2.0)  # anything late or doubled arrives now
        counted = [o for p in warm + phases + list(capacity.values()) for o in p.outcomes]
        findings = (driver_findings(counted).add(slack_findings(counted, stack, api_from))
                    .add(database_problems(database.url, counted)))
        memory = stack.memory()
        rows = table_rows(database.url)
        deliveries = [len(d.deliveries) for d in stack.deliverers]
    finally:
        connections.__exit__()
        stack.stop()
        database.drop()
        shutil.rmtree(scratch, ignore_errors=True)

    report = build_report(args, sweep, stamp, training_s, cold_s, stack, phases, capacity, findings, memory,
                          others_before, load_before, postgres, redis_url)
    report["deliveries_per_bot"] = deliveries
    report["database_rows"] = {**rows, "purchases": len(counted)}
    report["postgres_connections_peak"] = connections.peak if postgres else None
    print_report(console, report, findings)
    if args.quick and args.out == RESULTS:
        args.out = logs  # a smoke run's figures are not the benchmark's
    args.out.mkdir(parents=True, exist_ok=True)
    name = ("slack_scale_out" + ("_no_redis" if args.no_redis else "") if args.scale_out
            else "slack_load" + ("_sqlite" if args.sqlite else "") + ("_quick" if args.quick else ""))
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")
    if not args.scale_out and not args.quick and len(sweep) > 1:
        draw(report, args.out / f"latency_vs_concurrency{'_sqlite' if args.sqlite else ''}.png")
    written = args.out / f"{name}.json"
    console.print(f"wrote {written.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0 if findings.clean else 1


def short(phase: Phase) -> str:
    s = phase.stats()
    t = s["turn_ms"] or {}
    extra = f", ack p99 {s['ack_ms']['p99']} ms" if s.get("ack_ms") else ""
    return (f"{s['completed']}/{s['requesters']} done, {s['turns']} turns, p50 {t.get('p50')} ms, p95 {t.get('p95')} ms"
            f"{extra}, {s['errors']} errors, {s['lost']} lost, {s['wall_s']} s")


def build_report(args, sweep, stamp, training_s, cold_s, stack, phases, capacity, findings, memory, others_before,
                 load_before, postgres, redis_url) -> dict:
    levels = []
    for concurrency in sweep:
        row = {"concurrency": concurrency}
        for phase in phases:
            if phase.concurrency == concurrency:
                row["bare_rasa" if phase.kind == "rest" else "full_stack"] = phase.stats()
        bare, full = row.get("bare_rasa"), row.get("full_stack")
        if bare and full and bare["turn_ms"] and full["turn_ms"]:
            row["p50_ratio"] = round(full["turn_ms"]["p50"] / bare["turn_ms"]["p50"], 2)
        levels.append(row)
    main_row = next(r for r in levels if r["concurrency"] == args.requesters)
    full = main_row.get("full_stack") or {}
    met = {
        "ack_p99_under_100ms": bool(full.get("ack_ms")) and full["ack_ms"]["p99"] < TARGETS["ack_p99_ms"],
        "p50_within_1.5x_bare": main_row.get("p50_ratio") is not None and main_row["p50_ratio"] <= TARGETS["p50_ratio"],
        "p95_under_1s": bool(full.get("turn_ms")) and full["turn_ms"]["p95"] < TARGETS["full_p95_ms"],
    }
    if args.scale_out:
        met = {k: v for k, v in met.items() if k != "p50_within_1.5x_bare"}
    return {
        "benchmark": "bench/slack_load.py",
        "command": "bench/slack_load.py " + " ".join(sys.argv[1:]),
        "date": stamp.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "other_busy_processes_before": others_before, "other_busy_processes_after": others_running()},
        "settings": {"requesters": args.requesters, "sweep": sweep, "think_s": args.think,
                     "think": "uniform 0.5x-1.5x the mean, between a reply and the next message, and before approving",
                     "reply_timeout_s": args.timeout, "database": "PostgreSQL" if postgres else "SQLite",
                     "lock_store": "Redis" if redis_url else "in memory", "processes": stack.counts,
                     "double_send": DOUBLE_SEND if args.scale_out else None},
        "training_s": round(training_s, 1) if training_s is not None else None,
        "cold_start_s": round(cold_s, 1), "ready_after_s": stack.ready_after,
        "peak_rss_mb": memory,
        "main": {"concurrency": args.requesters, **main_row},
        "levels": levels,
        "capacity": {("bare_rasa" if k == "rest" else "full_stack"): p.stats() for k, p in capacity.items()},
        "findings": {"errors": findings.errors, "lost": findings.lost, "duplicated": findings.duplicated,
                     "extra_replies": findings.extra, "problems": findings.problems[:50]},
        "targets": {**TARGETS, "met": met},
    }


def print_report(console, report: dict, findings: Findings) -> None:
    from rich.table import Table

    def ms(stats, key="turn_ms", q="p50"):
        value = ((stats or {}).get(key) or {}).get(q)
        return "—" if value is None else f"{value:,.0f}"

    main = report["main"]
    full, bare = main.get("full_stack") or {}, main.get("bare_rasa") or {}
    table = Table(title=f"microbuy through Slack, {main['concurrency']} requesters at once "
                        f"(think {report['settings']['think_s']} s; {report['settings']['database']}, "
                        f"{', '.join(f'{n} {k}' for k, n in report['settings']['processes'].items())})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    met = report["targets"]["met"]
    mark = lambda key: "" if key not in met else ("✓ met" if met[key] else "✗ missed")  # noqa: E731
    table.add_row("acknowledgement p50 / p95 / p99 / max (ms)",
                  " / ".join(ms(full, "ack_ms", q) for q in ("p50", "p95", "p99", "max")),
                  f"p99 < 100 {mark('ack_p99_under_100ms')}")
    table.add_row("turn, full stack p50 / p95 / p99 / max (ms)",
                  " / ".join(ms(full, "turn_ms", q) for q in ("p50", "p95", "p99", "max")),
                  f"p95 < 1,000 {mark('p95_under_1s')}")
    if bare:
        table.add_row("turn, bare Rasa p50 / p95 / p99 / max (ms)",
                      " / ".join(ms(bare, "turn_ms", q) for q in ("p50", "p95", "p99", "max")), "")
        table.add_row("full stack / bare Rasa, p50", f"{main.get('p50_ratio')}x",
                      f"≤ 1.5x {mark('p50_within_1.5x_bare')}")
    if full.get("double_sent_turn_ms"):
        table.add_row("double-sent answer, p50 / max (ms)",
                      f"{ms(full, 'double_sent_turn_ms')} / {ms(full, 'double_sent_turn_ms', 'max')}", "")
    table.add_row("Submit -> approval post p50 (ms)", ms(full, "approval_post_ms"), "")
    table.add_row("Approve -> requester told p50 / p95 (ms)",
                  f"{ms(full, 'approved_told_ms')} / {ms(full, 'approved_told_ms', 'p95')}", "")
    table.add_row("purchases completed (approved) per minute", f"{full.get('purchases_per_min')}", "")
    for kind, stats in report["capacity"].items():
        name = "full stack" if kind == "full_stack" else "bare Rasa"
        table.add_row(f"capacity, no think time, {name}: purchases/min; turn p50 / p95 (ms)",
                      f"{stats['purchases_per_min']}; {ms(stats)} / {ms(stats, q='p95')}", "")
    cpu = full.get("cpu_ms_per_turn") or {}
    if cpu:
        table.add_row("CPU per turn (ms): " + " / ".join(cpu), " / ".join(f"{v:.0f}" for v in cpu.values()), "")
        table.add_row("cores busy: ours / everything else on the machine",
                      f"{full.get('cores_busy_ours')} / {full.get('cores_busy_others')}", "")
    table.add_row("errors / lost / duplicated / extra replies",
                  f"{findings.errors} / {findings.lost} / {findings.duplicated} / {findings.extra}", "0 / 0 / 0 / 0")
    table.add_row("cold start to all healthy (s)", f"{report['cold_start_s']}", "")
    if report.get("postgres_connections_peak"):
        table.add_row("PostgreSQL connections, peak", f"{report['postgres_connections_peak']}", "")
    if len(report.get("deliveries_per_bot") or []) > 1:
        table.add_row("deliveries to each bot", " / ".join(map(str, report["deliveries_per_bot"])), "")
    training = "—" if report["training_s"] is None else f"{report['training_s']}"
    table.add_row("dialogue training from scratch (s)", training, "")
    for name, mb in report["peak_rss_mb"].items():
        table.add_row(f"peak RSS {name} (MB)", f"{mb:,.0f}", "")
    console.print(table)

    sweep = Table(title="latency by concurrency (turn ms; ack ms)")
    for column in ("requesters", "bare p50", "bare p95", "full p50", "full p95", "full p99", "ratio p50", "ack p99",
                   "purchases/min", "err/lost"):
        sweep.add_column(column, justify="right")
    for row in report["levels"]:
        b, f = row.get("bare_rasa"), row.get("full_stack") or {}
        sweep.add_row(str(row["concurrency"]), ms(b), ms(b, q="p95"), ms(f), ms(f, q="p95"), ms(f, q="p99"),
                      f"{row.get('p50_ratio', '—')}", ms(f, "ack_ms", "p99"), f"{f.get('purchases_per_min')}",
                      f"{f.get('errors', 0) + (b or {}).get('errors', 0)}/"
                      f"{f.get('lost', 0) + (b or {}).get('lost', 0)}")
    console.print(sweep)
    for problem in findings.problems[:30]:
        console.print(f"  [red]problem[/red] {problem}")


def draw(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["concurrency"] for r in report["levels"]]

    def series(kind, q, key="turn_ms"):
        return [((r.get(kind) or {}).get(key) or {}).get(q) for r in report["levels"]]

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(xs, series("full_stack", "p50"), "o-", color="tab:blue", label="full stack (Slack → bot → Rasa), p50")
    ax.plot(xs, series("full_stack", "p95"), "o--", color="tab:blue", label="full stack, p95")
    ax.plot(xs, series("bare_rasa", "p50"), "s-", color="tab:orange", label="bare Rasa (REST webhook), p50")
    ax.plot(xs, series("bare_rasa", "p95"), "s--", color="tab:orange", label="bare Rasa, p95")
    ax.plot(xs, series("full_stack", "p99", "ack_ms"), "^:", color="tab:green", label="bot acknowledgement, p99")
    ax.axhline(1000, color="grey", lw=0.8, ls=":")
    ax.text(xs[0], 1010, "p95 target 1 s", color="grey", fontsize=8, va="bottom")
    ax.set_xlabel("requesters at once")
    ax.set_ylabel("milliseconds")
    ax.set_xscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels([str(x) for x in xs])
    ax.set_title(f"microbuy turn latency vs concurrency (think {report['settings']['think_s']} s, "
                 f"{report['machine']['cpus']} CPUs, {report['date'][:10]})", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
