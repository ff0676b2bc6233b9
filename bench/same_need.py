"""The same-need measure against a labelled corpus of description pairs (issue 19).

    .venv/bin/python bench/same_need.py [--corpus bench/same_need_pairs.yml] [--pack policies/esdc.yml]
                                        [--measure words|characters] [--sweep] [--failures] [--json PATH]

Scores every pair with the pack's word lists (policies/same_need.py) and prints, for the pack's
two bands, per language (en, fr, cross) and overall: the block band's precision and recall (pairs
scored at or above `block`), the warning band's (from `warn` up to `block`), and the recall of
both together, with the corpus's make-up by kind. --sweep prints precision and recall at every
threshold from 20 to 100 (to choose the bands: on the tuning corpus only); --failures lists the
pairs each band gets wrong. --measure characters scores with the measure this one replaced
(rapidfuzz's token_set_ratio of the casefolded descriptions, blocked at 85), for comparison.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policies import load_policy  # noqa: E402
from policies.rules.splitting import need_words_of, score  # noqa: E402


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "n/a"


def figures(rows, block: int, warn: int) -> dict:
    same = [r for r in rows if r["same"]]
    blocked = [r for r in rows if r["score"] >= block]
    warned = [r for r in rows if warn <= r["score"] < block]
    flagged = blocked + warned
    return {
        "pairs": len(rows), "same": len(same),
        "block_precision": _ratio(sum(r["same"] for r in blocked), len(blocked)),
        "block_recall": _ratio(sum(r["same"] for r in blocked), len(same)),
        "warn_precision": _ratio(sum(r["same"] for r in warned), len(warned)),
        "warn_recall": _ratio(sum(r["same"] for r in warned), len(same)),
        "both_recall": _ratio(sum(r["same"] for r in flagged), len(same)),
        "both_precision": _ratio(sum(r["same"] for r in flagged), len(flagged)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(ROOT / "bench" / "same_need_pairs.yml"))
    parser.add_argument("--pack", default=str(ROOT / "policies" / "esdc.yml"))
    parser.add_argument("--measure", choices=["words", "characters"], default="words")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--failures", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    policy = load_policy(args.pack)
    rules = policy.rules
    band = rules.splitting.same_need
    started = time.perf_counter()
    words, drop = need_words_of(rules)
    pairs = yaml.safe_load(Path(args.corpus).read_text(encoding="utf-8"))["pairs"]
    if args.measure == "characters":
        from rapidfuzz import fuzz

        band = SimpleNamespace(block=85, warn=85)  # one band: the old requirement_similarity
        rows = [{**p, "score": fuzz.token_set_ratio(p["a"].casefold(), p["b"].casefold())} for p in pairs]
    else:
        rows = [{**p, "score": score(p["a"], p["b"], words, drop)} for p in pairs]
    took = time.perf_counter() - started
    print(f"{args.corpus}: {len(rows)} pairs scored in {took * 1000:.0f} ms; "
          f"bands: block {band.block}, warn {band.warn}")
    kinds = collections.Counter((r["same"], r["kind"]) for r in rows)
    print("make-up: " + ", ".join(f"{'same' if s else 'different'}/{k} {n}" for (s, k), n in sorted(kinds.items())))
    result = {"corpus": args.corpus, "measure": args.measure, "block": band.block, "warn": band.warn, "by_language": {}}
    for language in ("en", "fr", "cross", "all"):
        subset = [r for r in rows if language == "all" or r["language"] == language]
        result["by_language"][language] = stats = figures(subset, band.block, band.warn)
        print(f"{language:>5}: " + "  ".join(f"{k} {v}" for k, v in stats.items()))
    if args.sweep:
        print("threshold  precision  recall (pairs scored at or above it)")
        for threshold in range(20, 101, 5):
            above = [r for r in rows if r["score"] >= threshold]
            same = sum(r["same"] for r in rows)
            print(f"{threshold:>9}  {_ratio(sum(r['same'] for r in above), len(above)):>16}  "
                  f"{_ratio(sum(r['same'] for r in above), same)}")
    if args.failures:
        for r in sorted(rows, key=lambda r: r["score"]):
            wrong = (r["score"] >= band.block and not r["same"]) or (r["score"] < band.warn and r["same"]) \
                or (band.warn <= r["score"] < band.block and not r["same"])
            if wrong:
                print(f"  {r['id']} {r['score']:5.1f} same={r['same']} {r['kind']}: {r['a']!r} / {r['b']!r}")
    if args.json:
        result["scores"] = [{"id": r["id"], "score": round(r["score"], 1), "same": r["same"]} for r in rows]
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
