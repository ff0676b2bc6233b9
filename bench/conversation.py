"""The simulated requester the benchmarks share: what each one buys, how the conversation opens,
and how it answers whatever the bot asks.

The same strategy drives Rasa's REST webhook (bench/dialogue.py, the bare-Rasa half of
bench/slack_load.py) and Slack (bench/slack_load.py): it reads the question's text and its
buttons; when a button says the answer it is clicked (over REST: its payload is sent, which is what
the Slack app relays for a click), otherwise the answer is typed.

    purchase = Purchase(supplier="Zorvane", quantity=2, cost_centre="100200")
    text = purchase.opening()
    reply = answer(question_text, [("No", "no"), ("Yes", "yes")], purchase)   # Reply or None
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

# Real suppliers first (bench/dialogue.py has always used these), then made-up one-word names.
KNOWN_SUPPLIERS = ["Staples", "Best Buy", "Indigo", "Grand & Toy", "Costco", "Bureau en Gros", "Amazon", "Walmart",
                   "Canadian Tire", "Home Depot", "Chapters", "Dollarama", "London Drugs", "Office Depot", "Lee Valley",
                   "Rona", "Uline", "Canada Computers", "Mountain Equipment Company", "Sport Chek"]
# Made-up names the dialogue mishandles when typed as the answer to "Who will you buy it from?",
# left out so that every simulated purchase can finish (report them in bench/README.md). None since
# the detour check (dialogues/rasa_plugins/nlu_detours.py): "Ganner", "Mexpulti", "Kilpuxmi", "Mulnus" and
# "Monselpas" were taken for cancel or help; all 400 names complete (checked 2026-12-02). Any
# name the dialogue refuses shows as an error.
REFUSED_BY_DIALOGUE: frozenset = frozenset()
COST_CENTRES = ("100200", "100300")  # approved by U01AMINA and U04KWAME (policies/esdc.yml)
UNIT_PRICE = 12
OPENING = "I need to buy {quantity} boxes of pens from {supplier} for ${unit_price} each"
# (words in the question, the answer). The summary first: its notes may quote other questions'
# words. An answer that names a button (its title or payload) clicks it.
ANSWERS: Sequence[Tuple[str, str]] = (
    ("Here is your request", "Submit"),
    ("Which cost centre", "{cost_centre}"),
    ("Who will you buy it from", "{supplier}"),
    ("How many", "{quantity}"),
    ("How much does one cost", "{unit_price}"),
    ("Where will it be delivered", "Ontario"),
    ("By what date", "2026-12-15"),
    ("Why is it needed", "for the team's workshops"),
    ("former public servant", "No"),
    ("Indigenous Business Directory", "Not sure"),
    ("stand-alone", "Yes"),
)
MAX_TURNS = 15  # a conversation that needs more is stuck


@dataclass(frozen=True)
class Purchase:
    supplier: str
    quantity: int
    cost_centre: str = COST_CENTRES[0]
    unit_price: int = UNIT_PRICE

    def opening(self) -> str:
        return OPENING.format(**self.values())

    def values(self) -> dict:
        return {"supplier": self.supplier, "quantity": self.quantity, "cost_centre": self.cost_centre,
                "unit_price": self.unit_price}


@dataclass(frozen=True)
class Reply:
    """What the requester does: click the button with `payload`, or type `text`."""

    text: str
    payload: Optional[str] = None  # set when a button is clicked
    title: Optional[str] = None

    @property
    def clicks(self) -> bool:
        return self.payload is not None

    @property
    def sent(self) -> str:
        """What reaches Rasa: a click's payload, or the typed text."""
        return self.payload if self.payload is not None else self.text


def answer(question: str, buttons: Sequence[Tuple[str, str]], purchase: Purchase) -> Optional[Reply]:
    """The requester's reply to the bot's last message (its text and its (title, payload)
    buttons), or None when it asks something the requester has no answer for."""
    for prompt, template in ANSWERS:
        if prompt in question:
            return reply_with(template.format(**purchase.values()), buttons)
    return None


def reply_with(text: str, buttons: Sequence[Tuple[str, str]]) -> Reply:
    """`text` as the requester gives it: the button whose title or payload says it is clicked,
    otherwise the text is typed."""
    wanted = text.strip().casefold()
    for title, payload in buttons:
        if wanted in ((title or "").strip().casefold(), (payload or "").strip().casefold()):
            return Reply(text, payload=payload, title=title)
    return Reply(text)


def rest_question(replies: Sequence[dict]) -> Tuple[str, List[Tuple[str, str]]]:
    """The question in a REST webhook answer: the last reply's text and buttons."""
    last = replies[-1] if replies else {}
    buttons = [(b.get("title") or "", b.get("payload") or "") for b in last.get("buttons") or []]
    return last.get("text") or "", buttons


def submitted(replies: Sequence[dict]) -> Optional[dict]:
    """The {"type": "submitted", ...} payload of a REST answer, if the request was submitted."""
    return next((r["custom"] for r in replies if isinstance(r.get("custom"), dict)
                 and r["custom"].get("type") == "submitted"), None)


def suppliers(count: int, seed: int = 7) -> List[str]:
    """`count` supplier names no two of which the policy's contract-splitting rule takes for the
    same supplier (policies/rules/splitting.py, with the pack's threshold and ignored words), so
    no purchase asks the splitting question. Deterministic for a seed."""
    from policies import load_policy
    from policies.rules.splitting import is_same_supplier

    rule = load_policy().rules.splitting
    names: List[str] = []
    for name in itertools.chain(KNOWN_SUPPLIERS, _made_up(random.Random(seed))):
        if len(names) == count:
            return names
        if name in REFUSED_BY_DIALOGUE:
            continue
        if not any(is_same_supplier(name, other, rule.supplier_similarity, rule.supplier_ignore_words)
                   for other in names):
            names.append(name)
    return names


def _made_up(rng: random.Random):
    """Pronounceable one-word names: Zorvane, Kelimor, ..."""
    onsets, vowels, codas = "bdfgklmnprstvz", "aeiou", ["", "n", "r", "l", "x", "s"]
    while True:
        syllables = [rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(rng.choice((2, 3)))]
        yield "".join(syllables).capitalize()


def purchases(count: int, offset: int = 0, seed: int = 7) -> List[Purchase]:
    """Purchases number `offset` .. `offset + count - 1` of a run: each from its own supplier,
    one to five boxes, the cost centres taken in turn."""
    names = suppliers(offset + count, seed)
    return [Purchase(supplier=names[i], quantity=1 + i % 5, cost_centre=COST_CENTRES[i % len(COST_CENTRES)])
            for i in range(offset, offset + count)]
