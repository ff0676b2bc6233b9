"""How long the rules engine takes to judge one request, by size of the spending history.

    .venv/bin/python bench/engine.py [--runs N]

Prints milliseconds per evaluation (median of N timed runs) for histories of 0 to 2,000 past
purchases in the request's cost centre, and the time to load and check the policy pack. The
histories' descriptions are worded as staff word them (a few hundred distinct ones), all in the
request's category, so the same-need measure (policies/same_need.py) reads every one. "cold" is
the first evaluation of a history, before the measure's caches hold its descriptions (a process
that has just started); later ones, the usual case, find them read.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from policies import PastPurchase, evaluate, load_policy, parse_request, same_need

ROOT = Path(__file__).resolve().parent.parent
ON = date(2026, 11, 25)


THINGS = ["ergonomic chairs", "whiteboard markers", "sticky notes", "printer paper", "binders", "staplers",
          "chaises ergonomiques", "stylos à bille", "cahiers", "tableaux blancs", "desk lamps", "footrests",
          "monitor stands", "name badges", "flip chart pads", "agrafeuses", "papier pour imprimante", "bloc-notes"]
DECORATIONS = ["{thing} for the Digital Service team", "{n} {thing}, needed by Friday", "{thing} (urgent) x{n}",
               "{thing} pour l'équipe, {n}", "re-order: {thing}", "{thing} for the new hires, batch {n}"]


def history(size: int) -> list:
    # 40 suppliers, a year of purchases, one of them the request's own supplier now and then.
    suppliers = [f"Supplier {n} Inc." for n in range(39)] + ["Staples Canada"]
    return [
        PastPurchase(f"MB-{i:06d}", "U09NADIA", "100200", None, suppliers[i % 40], "office_supplies",
                     DECORATIONS[i % len(DECORATIONS)].format(thing=THINGS[i % len(THINGS)], n=i % 25 + 1),
                     Decimal("35.00"), ON - timedelta(days=i % 365))
        for i in range(size)
    ]


def cold(policy, request, past) -> float:
    """One evaluation with the same-need measure's caches emptied first."""
    for cache in (same_need._need_of, same_need._stem, same_need._misspelt_cached, same_need.similarity):
        cache.cache_clear()
    return timed(lambda: evaluate(policy, request, past, ON), 1)


def timed(function, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    policy = load_policy()
    request = parse_request(json.loads((ROOT / "policies/examples/whiteboard_markers.json").read_text()), policy)
    print(f"{'history':>8}  {'ms/evaluation':>14}  {'cold':>8}")
    for size in (0, 50, 500, 2000):
        past = history(size)
        first = cold(policy, request, past)
        warm = timed(lambda: evaluate(policy, request, past, ON), args.runs)  # noqa: B023 - timed now
        print(f"{size:>8}  {warm:>14.3f}  {first:>8.2f}")
    print(f"load_policy (parse + validate esdc.yml): {timed(load_policy, 20):.1f} ms")


if __name__ == "__main__":
    main()
