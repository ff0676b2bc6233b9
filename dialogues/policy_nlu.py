"""Training examples made from the policy file, so a category or province an admin adds is
understood without anyone touching the NLU data by hand.

    python -m dialogues.policy_nlu            # rewrite dialogues/data/nlu_policy.yml
    python -m dialogues.policy_nlu --check    # exit 1 if it is out of date with the policy

`microbuy train` runs it before training. Each category name and synonym becomes an example of
asking for that thing (start_purchase or can_i_buy, in turn); each province name an answer to
"where will it be delivered?".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

from policies import LoadedPolicy, load_policy

OUTPUT = Path(__file__).parent / "data" / "nlu_policy.yml"

# Phrasings in turn; {item} is a category name or synonym from the policy.
START = [
    "I need to buy [{item}](item)",
    "I'd like to order [{item}](item) for the team",
    "can you help me purchase [{item}](item)",
    "we need [{item}](item)",
    "I want to buy [{item}](item) please",
    "new purchase: [{item}](item)",
    "looking to get [{item}](item) for our office",
]
CAN_I = [
    "can I buy [{item}](item) on my card?",
    "am I allowed to buy [{item}](item) with the acquisition card",
    "is [{item}](item) allowed on the card?",
    "can I put [{item}](item) on my card",
    "is it ok to purchase [{item}](item) with the card",
    "are we allowed to buy [{item}](item)?",
]
# Province answers are read by the form from the whole message (buttons or typed names), so the
# examples teach only the intent, not an entity.
WHERE = ["{name}", "it goes to {name}", "deliver it to {name}", "in {name}", "our office is in {name}"]


def _quote(text: str) -> str:
    return text.replace("\\", " ").replace("[", "(").replace("]", ")").replace("\n", " ").strip()


def build(policy: LoadedPolicy, language: str = "en") -> str:
    rules = policy.rules
    start: List[str] = []
    can_i: List[str] = []
    turn = 0
    for category in rules.categories.values():
        words = [category.name.get(language) or "", *category.synonyms.get(language, [])]
        for word in dict.fromkeys(w for w in words if w):
            word = _quote(word)
            if turn % 2 == 0:
                start.append(START[(turn // 2) % len(START)].format(item=word))
            else:
                can_i.append(CAN_I[(turn // 2) % len(CAN_I)].format(item=word))
            turn += 1
    where: List[str] = []
    synonyms = {}
    for n, (code, place) in enumerate(rules.tax.jurisdictions.items()):
        names = [_quote(name) for name in dict.fromkeys(place.name.values())]
        synonyms[code] = names
        for m, name in enumerate(names):
            where.append(WHERE[(n + m) % len(WHERE)].format(name=name))
    lines = [
        "# GENERATED from the policy file by `python -m dialogues.policy_nlu` (run by `microbuy train`).",
        "# Do not edit: change the categories and provinces in the policy, then retrain.",
        'version: "3.1"',
        "nlu:",
        "  - intent: start_purchase",
        "    examples: |",
        *(f"      - {example}" for example in start),
        "  - intent: can_i_buy",
        "    examples: |",
        *(f"      - {example}" for example in can_i),
        "  - intent: inform",
        "    examples: |",
        *(f"      - {example}" for example in where),
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    parser.add_argument("--policy", help="the policy file (default: MICROBUY_POLICY or policies/esdc.yml)")
    args = parser.parse_args(argv)
    wanted = build(load_policy(args.policy))
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
    if args.check:
        if current != wanted:
            print(f"{OUTPUT} is out of date with the policy; run: python -m dialogues.policy_nlu", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        OUTPUT.write_text(wanted, encoding="utf-8")
        print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
