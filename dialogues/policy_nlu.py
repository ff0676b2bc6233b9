"""Training examples made from the policy file, so a category or province an admin adds is
understood without anyone touching the NLU data by hand.

    python -m dialogues.policy_nlu            # rewrite dialogues/project/data/nlu_policy.yml
    python -m dialogues.policy_nlu --check    # exit 1 if it is out of date with the policy

`microbuy train` runs it before training. Each category name and synonym becomes an example of
asking for that thing (start_purchase or can_i_buy, in turn); each province name an answer to
"where will it be delivered?". In each language of the pack that has phrasings below (English,
French); the French blocks carry `metadata: {language: fr}`, which the NLU cross-validation uses
to report each language's scores.
"""
from __future__ import annotations

import argparse
import re
import sys
from typing import Dict, List

from policies import LoadedPolicy, load_policy

from . import PROJECT

OUTPUT = PROJECT / "data" / "nlu_policy.yml"

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

# The same in French; {de} is "de " or "d'" before a vowel. Province names take different
# prepositions in French (en Ontario, au Québec), so the phrasings avoid them.
START_FR = [
    "j'ai besoin {de}[{item}](item)",
    "achat {de}[{item}](item) pour l'équipe",
    "nouvel achat : [{item}](item)",
    "je voudrais faire un achat {de}[{item}](item)",
    "commande {de}[{item}](item) pour le bureau",
    "demande d'achat : [{item}](item)",
    "peux-tu m'aider à faire un achat {de}[{item}](item)",
]
CAN_I_FR = [
    "est-ce que je peux payer un achat {de}[{item}](item) avec ma carte?",
    "l'achat {de}[{item}](item) est-il permis avec la carte d'achat?",
    "ai-je le droit de faire un achat {de}[{item}](item) avec la carte",
    "un achat {de}[{item}](item), c'est permis sur la carte?",
    "est-ce correct de payer un achat {de}[{item}](item) avec la carte",
    "la carte peut-elle servir pour un achat {de}[{item}](item)?",
]
WHERE_FR = ["{name}", "livraison : {name}", "c'est pour notre bureau, {name}", "{name}, au bureau régional",
            "à livrer à notre bureau, {name}"]
PHRASINGS: Dict[str, Dict[str, List[str]]] = {
    "en": {"start": START, "can_i": CAN_I, "where": WHERE},
    "fr": {"start": START_FR, "can_i": CAN_I_FR, "where": WHERE_FR},
}


def _quote(text: str) -> str:
    return text.replace("\\", " ").replace("[", "(").replace("]", ")").replace("\n", " ").strip()


def _de(word: str) -> str:
    return "d'" if re.match(r"(?i)[aeiouyhàâéèêëîïôûü]", word) else "de "


def _examples(policy: LoadedPolicy, language: str) -> Dict[str, List[str]]:
    rules = policy.rules
    phrasings = PHRASINGS[language]
    out: Dict[str, List[str]] = {"start_purchase": [], "can_i_buy": [], "inform": []}
    turn = 0
    for category in rules.categories.values():
        words = [category.name.get(language) or "", *category.synonyms.get(language, [])]
        for word in dict.fromkeys(w for w in words if w):
            word = _quote(word)
            kind, intent = ("start", "start_purchase") if turn % 2 == 0 else ("can_i", "can_i_buy")
            templates = phrasings[kind]
            out[intent].append(templates[(turn // 2) % len(templates)].format(item=word, de=_de(word)))
            turn += 1
    for n, place in enumerate(rules.tax.jurisdictions.values()):
        name = place.name.get(language)
        if name:
            out["inform"].append(phrasings["where"][n % len(phrasings["where"])].format(name=_quote(name)))
    return out


def build(policy: LoadedPolicy) -> str:
    """The generated examples: for each language of the pack with phrasings, one block per intent."""
    lines = [
        "# GENERATED from the policy file by `python -m dialogues.policy_nlu` (run by `microbuy train`).",
        "# Do not edit: change the categories and provinces in the policy, then retrain.",
        'version: "3.1"',
        "nlu:",
    ]
    pack = policy.rules.pack
    languages = [language for language in dict.fromkeys([pack.default_language, *pack.languages])
                 if language in PHRASINGS]
    for language in languages:
        for intent, examples in _examples(policy, language).items():
            if not examples:
                continue
            lines += [f"  - intent: {intent}"]
            if language != "en":
                lines += [f"    metadata: {{language: {language}}}"]
            lines += ["    examples: |", *(f"      - {example}" for example in examples)]
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
