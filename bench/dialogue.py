"""Benchmark of the dialogue: training time, start-up time, and the latency of each turn through
the REST webhook with the real action server, on a fresh SQLite database.

    .venv/bin/python bench/dialogue.py [--conversations 20]

Prints a table; nothing is asserted (targets: training under 30 s).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.conversation import MAX_TURNS, answer, purchases, rest_question, submitted  # noqa: E402
from dialogues import training  # noqa: E402
from dialogues.stack import BIN, RasaStack  # noqa: E402
from storage.migrate import upgrade  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        started = time.monotonic()
        subprocess.run([str(BIN / "python"), "-m", "dialogues.rasa_cli", "train",
                        "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
                        "--out", str(scratch / "models"), "--fixed-model-name", "bench"],
                       cwd=training.PROJECT, check=True, capture_output=True, env=training.rasa_env())
        full_training = time.monotonic() - started
        model = scratch / "models" / "bench.tar.gz"
        training.train()  # make sure the project's own model exists
        started = time.monotonic()
        skipped = training.train()
        skip_time = time.monotonic() - started

        url = f"sqlite:///{scratch / 'bench.db'}"
        upgrade(url)
        started = time.monotonic()
        stack = RasaStack(url, model, scratch, {"MICROBUY_TODAY": "2026-11-25"}).start()
        ready = time.monotonic() - started
        turns, submitted_count = [], 0
        try:
            for i, purchase in enumerate(purchases(args.conversations)):
                who = f"TBENCH:U{i:05d}"
                text = purchase.opening()
                for _ in range(MAX_TURNS):
                    t0 = time.perf_counter()
                    replies = stack.say(who, text)
                    turns.append((time.perf_counter() - t0) * 1000)
                    if submitted(replies):
                        submitted_count += 1
                        break
                    asked, buttons = rest_question(replies)
                    reply = answer(asked, buttons, purchase)
                    if reply is None:
                        print(f"conversation {i}: no answer for {asked!r}", file=sys.stderr)
                        break
                    text = reply.sent
        finally:
            stack.stop()

    print(f"{'measure':<44}{'value':>12}")
    print(f"{'full training (rasa train, no cache)':<44}{full_training:>10.1f} s")
    print(f"{'microbuy train with nothing changed':<44}{skip_time:>10.2f} s"
          + ("" if not skipped.retrained else " (retrained!)"))
    print(f"{'cold start to ready (actions + rasa)':<44}{ready:>10.1f} s")
    print(f"{'conversations / turns':<44}{args.conversations:>7} / {len(turns)}")
    print(f"{'purchases submitted':<44}{submitted_count:>12}")
    print(f"{'turn latency p50':<44}{statistics.median(turns):>9.1f} ms")
    print(f"{'turn latency p95':<44}{percentile(turns, 95):>9.1f} ms")
    print(f"{'turn latency max':<44}{max(turns):>9.1f} ms")
    print(f"(machine: {os.cpu_count()} CPUs; one requester at a time)")
    return 0 if submitted_count == args.conversations else 1


if __name__ == "__main__":
    sys.exit(main())
