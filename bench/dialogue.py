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

from dialogues import training  # noqa: E402
from dialogues.stack import BIN, RasaStack  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

# Each requester buys from another supplier, so no purchase asks the splitting question.
SUPPLIERS = ["Staples", "Best Buy", "Indigo", "Grand & Toy", "Costco", "Bureau en Gros", "Amazon", "Walmart",
             "Canadian Tire", "Home Depot", "Chapters", "Dollarama", "London Drugs", "Office Depot", "Lee Valley",
             "Rona", "Uline", "Canada Computers", "Mountain Equipment Company", "Sport Chek"]
OPENING = "I need to buy {n} boxes of pens from {supplier} for $12 each"
# The simulated requester answers whatever the bot asks (NLU may not catch every supplier name
# in the opening, and then the bot rightly asks for it).
ANSWERS = [  # the summary first: its notes may quote other questions' words
    ("Here is your request", "yes"), ("Which cost centre", "100200"), ("Who will you buy it from", "{supplier}"), ("How many", "{n}"),
    ("How much does one cost", "12"), ("Where will it be delivered", "Ontario"), ("By what date", "2026-12-15"),
    ("Why is it needed", "for the team's workshops"), ("former public servant", "no"),
    ("Indigenous Business Directory", "not sure"), ("stand-alone", "yes"),
]
MAX_TURNS = 15


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=len(SUPPLIERS), help=f"at most {len(SUPPLIERS)}")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        started = time.monotonic()
        subprocess.run([str(BIN / "rasa"), "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
                        "--out", str(scratch / "models"), "--fixed-model-name", "bench"],
                       cwd=ROOT / "dialogues", check=True, capture_output=True, env=training.rasa_env())
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
        turns, submitted = [], 0
        try:
            for i in range(args.conversations):
                who = f"TBENCH:U{i:05d}"
                values = {"supplier": SUPPLIERS[i % len(SUPPLIERS)], "n": 1 + i % 5}
                text = OPENING.format(**values)
                for _ in range(MAX_TURNS):
                    t0 = time.perf_counter()
                    replies = stack.say(who, text)
                    turns.append((time.perf_counter() - t0) * 1000)
                    if any(r.get("custom", {}).get("type") == "submitted" for r in replies):
                        submitted += 1
                        break
                    asked = (replies[-1].get("text") or "") if replies else ""
                    text = next((answer.format(**values) for prompt, answer in ANSWERS if prompt in asked), None)
                    if text is None:
                        print(f"conversation {i}: no answer for {asked!r}", file=sys.stderr)
                        break
        finally:
            stack.stop()

    print(f"{'measure':<44}{'value':>12}")
    print(f"{'full training (rasa train, no cache)':<44}{full_training:>10.1f} s")
    print(f"{'microbuy train with nothing changed':<44}{skip_time:>10.2f} s" + ("" if not skipped.retrained else " (retrained!)"))
    print(f"{'cold start to ready (actions + rasa)':<44}{ready:>10.1f} s")
    print(f"{'conversations / turns':<44}{args.conversations:>7} / {len(turns)}")
    print(f"{'purchases submitted':<44}{submitted:>12}")
    print(f"{'turn latency p50':<44}{statistics.median(turns):>9.1f} ms")
    print(f"{'turn latency p95':<44}{percentile(turns, 95):>9.1f} ms")
    print(f"{'turn latency max':<44}{max(turns):>9.1f} ms")
    print(f"(machine: {os.cpu_count()} CPUs; one requester at a time)")
    return 0 if submitted == args.conversations else 1


if __name__ == "__main__":
    sys.exit(main())
