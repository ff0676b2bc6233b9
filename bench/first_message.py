"""Benchmark of the first message (issue 16): does a request said all at once start a purchase, and
does the dialogue keep what it said?

    .venv/bin/python bench/first_message.py [--only en|fr] [--limit N] [--json PATH]

For each entry of bench/first_messages.yml (hand-written first messages, held out from the training
data) a fresh conversation is opened through Rasa's REST webhook with the real action server (a
scratch SQLite database, the language in the message metadata as the Slack app sends it), the text
is sent, then every question the dialogue asks is answered until the summary: a question about a
fact the message stated gets the STATED value (so a fact asked again is counted but does not
derail the rest), any other a sensible default; yes where an attestation is asked. Nothing is
submitted. The slots are read from Rasa's tracker (GET /conversations/{id}/tracker) after each
turn: which question is open, what each answer holds, and at the end what the summary shows.

A conversation ends at the summary, or at a blocking finding of the policy (an IT purchase on the
card, a price over the limit): the policy asks for another answer there, and the requester of the
message has none. The facts are then judged on the answers as they stood when the block came.

Prints per language and overall:
- started: purchase messages whose first reply opened the purchase form (a question or the
  summary, not "Sorry, I didn't get that", a greeting or a help text); for the messages that are
  not purchases, the share correctly NOT started;
- facts kept: stated facts read from the first message and right at the end, never asked again;
  a fact asked again, read wrong, or lost counts against it (each kind is counted apart);
- first question already answered: started purchases whose first question asks for a fact the
  message stated (a block's re-ask excepted);
- right category: the category the dialogue found itself (not one it had to ask) is the one
  expected; an expected category the pack lacks counts as wrong, and the figure without those is
  printed too;
then the failures, one per entry: its id, its text, and what went wrong.
"""
from __future__ import annotations

import argparse
import json
import re
import secrets
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.conversation import Reply, reply_with, rest_question  # noqa: E402

CORPUS = ROOT / "bench" / "first_messages.yml"
# Written apart from CORPUS to tune the opening reader on (dialogues/opening.py); CORPUS stays the measure.
DEV_CORPUS = ROOT / "bench" / "first_messages_dev.yml"
# A second tuning set, in the styles where no "I need" introduces the item (labels, fragments, questions).
DEV2_CORPUS = ROOT / "bench" / "first_messages_dev2.yml"
DOMAIN = ROOT / "dialogues" / "project" / "domain.yml"
FORM = "purchase_form"
CONFIRM = "confirm_submit"
# A fact that is not an answer of its own: the total of several units ("3 ... $40 total"), which
# the dialogue keeps as quantity x unit price.
TOTAL = "total"
# Categories the corpus may expect before the pack has them (issue 16 asked for `hospitality`; the
# pack has it since 989c57e). Those the pack lacks when the benchmark runs count as wrong, and the
# category figure is also given without them.
PENDING_CATEGORIES = frozenset({"hospitality"})
MAX_TURNS = 30  # an open-source purchase asks about 20 questions
SAME_QUESTION_LIMIT = 3  # the same question asked this many times in a row: stuck

# The bot's replies that are not the purchase form: how a message that did not start one is told.
NOT_STARTED_REPLIES = {
    "utter_default": "not understood (fallback)",
    "utter_greet": "greeting",
    "utter_help": "help text",
    "utter_out_of_scope": "out of scope",
    "utter_how_can_i_help": "asked what to buy",
    "utter_goodbye": "goodbye",
}
BLOCK_REPLIES = ("utter_blocked_ask_again", "utter_blocked", "utter_request_stopped")

# Answers when the message stated nothing for the question; FRENCH_DEFAULTS where French is typed.
DEFAULTS: Dict[str, str] = {
    "item": "a box of pens", "category": "office_supplies", "cost_centre": "100200", "supplier": "Staples",
    "quantity": "1", "unit_price": "25", "province": "ON", "needed_by": "2026-12-15",
    "justification": "The team needs it for its day-to-day work.",
    "data_classification": "unclassified", "payment_method": "acquisition_card",
    "payment_reason": "The supplier takes no other payment.",
    "supplier_former_public_servant": "no", "supplier_indigenous": "not sure", "attest_standalone": "yes",
    "attest_no_internal_capacity": "yes", "ip_agreement": "yes", "fixed_price": "yes", "remote_only": "yes",
    "licence": "MIT", "repository": "https://github.com/cds-snc/platform-forms-client",
    "acceptance_criteria": "The fix is merged upstream and the project's tests pass.",
}
FRENCH_DEFAULTS: Dict[str, str] = {
    "item": "une boîte de stylos", "supplier": "Bureau en Gros",
    "justification": "L'équipe en a besoin pour son travail quotidien.",
    "payment_reason": "Le fournisseur n'accepte aucun autre paiement.",
    "acceptance_criteria": "La correction est fusionnée dans le projet et ses tests passent.",
}


# -- the corpus ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    id: str
    language: str
    text: str
    purchase: bool
    facts: Mapping[str, Any]

    def stated_slots(self) -> List[str]:
        """The answers the message stated: a total stands for the unit price."""
        return list(dict.fromkeys(fact_slot(name) for name in self.facts))


@dataclass(frozen=True)
class Corpus:
    today: str
    entries: List[Entry]


def load_corpus(path: Path = CORPUS) -> Corpus:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = [Entry(id=e["id"], language=e["language"], text=e["text"], purchase=bool(e["purchase"]),
                     facts=dict(e.get("facts") or {})) for e in raw["entries"]]
    return Corpus(today=str(raw["today"]), entries=entries)


def answer_names(domain: Path = DOMAIN) -> List[str]:
    """The answers the purchase form asks (its required slots), the summary left out."""
    form = yaml.safe_load(domain.read_text(encoding="utf-8"))["forms"][FORM]
    return [slot for slot in form["required_slots"] if slot != CONFIRM]


def fact_slot(name: str) -> str:
    return "unit_price" if name == TOTAL else name


# -- comparing a fact with what the dialogue kept ----------------------------------------------

def folded(text: Any) -> str:
    """Lower case, no accents, punctuation as spaces, single spaces."""
    text = unicodedata.normalize("NFKD", str(text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", re.sub(r"[^\w]+", " ", text)).strip()


def compact(text: Any) -> str:
    return folded(text).replace(" ", "")


# Words that do not name the thing bought: amounts of it, articles, links.
GENERIC_WORDS = frozenset("""
a an the of for and to with in on at my our new one pack packs box boxes case cases copy copies ream reams
set sets unit units piece pieces item items x
un une des du de la le les l d et pour au aux en avec mon notre nos boite boites exemplaire exemplaires paquet
paquets ensemble ensembles piece pieces
""".split())


def _stem(word: str) -> str:
    for ending in ("ies", "es", "s", "x"):
        if len(word) > len(ending) + 2 and word.endswith(ending):
            return word[: -len(ending)] + ("y" if ending == "ies" else "")
    return word


def main_words(item: str) -> List[str]:
    """The words of an item that name the thing (stems: "webcams" and "webcam" match)."""
    return [_stem(w) for w in folded(item).split() if w not in GENERIC_WORDS and len(w) >= 2 and not w.isdigit()]


def item_kept(expected: str, actual: Any, supplier: Optional[str] = None) -> bool:
    """The item holds a main word of the expected one, and is not the whole message (it does not
    also hold the supplier's name, unless the item's own name holds it: "Udemy course")."""
    if not actual:
        return False
    words = {_stem(w) for w in folded(actual).split()}
    named = f" {folded(supplier)} " if supplier and compact(supplier) else None
    if named and named in f" {folded(actual)} " and named not in f" {folded(expected)} ":
        return False
    return any(word in words for word in main_words(expected))


def as_decimal(value: Any, language: str = "en") -> Optional[Decimal]:
    """A slot's amount: the validated "89.99", or a raw answer as the dialogue would read it."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        pass
    from dialogues.answers import AnswerError, read_amount

    try:
        return read_amount(value, "fr_CA" if language == "fr" else "en_CA")
    except AnswerError:
        return None


def as_quantity(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    from dialogues.answers import AnswerError, read_quantity

    try:
        return read_quantity(value)
    except AnswerError:
        return None


def fact_kept(name: str, expected: Any, slots: Mapping[str, Any], facts: Mapping[str, Any],
              language: str = "en") -> bool:
    """Whether the answers `slots` hold the stated fact `name` = `expected`."""
    if name == TOTAL:
        unit = as_decimal(slots.get("unit_price"), language)
        quantity = as_quantity(slots.get("quantity")) or 1
        if unit is None:
            return False
        # A price per unit the dialogue asked for is rounded to the cent: half a cent a unit.
        return abs(unit * quantity - Decimal(str(expected))) <= Decimal("0.005") * quantity
    actual = slots.get(name)
    if actual is None:
        return False
    if name == "item":
        return item_kept(str(expected), actual, facts.get("supplier"))
    if name == "supplier":
        return compact(actual) == compact(expected)
    if name == "quantity":
        return as_quantity(actual) == int(expected)
    if name == "unit_price":
        return as_decimal(actual, language) == Decimal(str(expected))
    if name == "province":
        return str(actual).upper() == str(expected).upper()
    if name == "justification":
        return folded(expected) in folded(actual)
    return str(actual) == str(expected)


# -- a conversation as the tracker tells it --------------------------------------------------------

@dataclass
class Turn:
    """One message and what followed, from the tracker."""
    sent: str
    replies: List[Tuple[str, str]]  # (utter_action or "", text) of each bot message
    requested: Optional[str]  # the question open after it
    active: bool  # the purchase form is running
    slots: Dict[str, Any]  # every answer slot after it
    given: Dict[str, Any] = field(default_factory=dict)  # the last value other than None each slot took in the turn
    block: Optional[Dict[str, Any]] = None  # the last_block the turn set, when it told one
    guessed_category: Optional[str] = None  # the category id a "filed under" reply named

    @property
    def actions(self) -> List[str]:
        return [name for name, _ in self.replies]

    @property
    def blocked(self) -> bool:
        return any(name in BLOCK_REPLIES for name in self.actions)

    @property
    def refused(self) -> List[str]:
        """Answers the turn took and then dropped: not understood, or blocked."""
        return [slot for slot in self.given if self.slots.get(slot) is None]


def turn_from_tracker(tracker: Mapping[str, Any], sent: str, slot_names: Sequence[str],
                      category_ids: Mapping[str, str]) -> Turn:
    """The last turn of a tracker: the bot's messages since the last user message, the slots."""
    events = list(tracker.get("events") or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    replies, block, guessed, given = [], None, None, {}
    # After the user event: the slot mappings' values (as typed), then the actions' (as read).
    for event in events[last_user + 1:]:
        if event.get("event") == "bot":
            metadata = event.get("metadata") or {}
            name = metadata.get("utter_action") or ""
            replies.append((name, event.get("text") or ""))
            if name == "utter_category_guessed":
                guessed = category_ids.get(folded(metadata.get("category_name") or ""))
        elif event.get("event") == "slot" and event.get("value") is not None:
            if event.get("name") == "last_block":
                block = event["value"]
            elif event.get("name") in slot_names:
                given[event["name"]] = event["value"]
    slots = tracker.get("slots") or {}
    loop = (tracker.get("active_loop") or {}).get("name")
    return Turn(sent=sent, replies=replies, requested=slots.get("requested_slot"), active=loop == FORM,
                slots={name: slots.get(name) for name in slot_names}, given=given, block=block,
                guessed_category=guessed)


def blocked_slot(turn: Turn) -> Optional[str]:
    """The answer a blocking finding asks again: its field (`description` is the item), else the
    question open after it."""
    field_name = (turn.block or {}).get("field")
    if field_name:
        return "item" if field_name == "description" else field_name
    return turn.requested


def last_value(turns: Sequence[Turn], slot: str) -> Any:
    """The last value an answer held or was given, the category a reply named included."""
    for turn in reversed(turns):
        if turn.slots.get(slot) is not None:
            return turn.slots[slot]
        if turn.given.get(slot) is not None:
            return turn.given[slot]
        if slot == "category" and turn.guessed_category:
            return turn.guessed_category
    return None


# -- judging one conversation ------------------------------------------------------------------

@dataclass
class Result:
    id: str
    language: str
    text: str
    purchase: bool
    started: bool
    first_replies: List[str]
    first_question: Optional[str]
    asked: List[str]  # the questions asked after the first message, in order (block re-asks left out)
    ending: str  # summary, blocked, not started, started (not a purchase), closed, stuck
    turns: int = 0  # messages sent
    block: Optional[str] = None  # the rule that blocked, when it did
    facts: Dict[str, str] = field(default_factory=dict)  # fact -> its status (judge)
    expected_category: Optional[str] = None
    category: Optional[str] = None  # as the dialogue found it; None when it had to ask
    final: Dict[str, Any] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)

    @property
    def first_asks_stated(self) -> bool:
        return bool(self.started and self.first_question and self.first_question in
                    {fact_slot(name) for name in self.facts})

    @property
    def category_right(self) -> Optional[bool]:
        if self.expected_category is None:
            return None
        return self.category == self.expected_category


def first_reply_kind(turn: Turn) -> str:
    for name in turn.actions:
        if name in NOT_STARTED_REPLIES:
            return NOT_STARTED_REPLIES[name]
    names = [n for n in turn.actions if n]
    return names[0] if names else "no reply"


def questions_asked(turns: Sequence[Turn]) -> List[str]:
    """Each question the form asked, once, in order; a block's asking its answer again is left
    out (the policy refused the answer; the message did not leave it out)."""
    asked: List[str] = []
    for turn in turns:
        if not turn.active or not turn.requested or turn.requested in asked:
            continue
        if turn.blocked and blocked_slot(turn) == turn.requested:
            continue
        asked.append(turn.requested)
    return asked


def judge(entry: Entry, turns: Sequence[Turn], ending: str) -> Result:
    """What happened to `entry`'s facts over the conversation `turns` (the first is its message).

    A fact is `kept` when the answer at the end holds it and its question was never asked;
    `unreadable` when the first message gave the answer but the dialogue could not read it (and so
    asked it); `asked again` when its question was asked; `wrong` when the answer holds something
    else; `missing` when the answer is empty and was never asked (the conversation ended first);
    `not started` when the message did not start a purchase.
    """
    first = turns[0] if turns else Turn(entry.text, [], None, False, {})
    started = first.active and first.requested is not None
    ended_blocked = bool(turns) and turns[-1].blocked and ending == "blocked"
    asked = questions_asked(turns) if started else []
    # The answers as they stand at the end; a blocked answer as it was given.
    final = dict(turns[-1].slots) if turns else {}
    if ended_blocked:
        slot = blocked_slot(turns[-1])
        if slot and final.get(slot) is None:
            final[slot] = last_value(turns, slot)
    if final.get("category") is None and turns:
        final["category"] = last_value(turns, "category")
    first_question = first.requested if started else None
    if started and first.blocked and blocked_slot(first) == first.requested:
        first_question = None  # the policy asks it again; not a question the message left open
    unreadable = set(first.refused) - ({blocked_slot(first)} if first.blocked else set())
    result = Result(id=entry.id, language=entry.language, text=entry.text, purchase=entry.purchase,
                    started=started, first_replies=[name or text[:40] for name, text in first.replies],
                    first_question=first_question, asked=asked, ending=ending, turns=len(turns),
                    block=(turns[-1].block or {}).get("rule") if ended_blocked else None,
                    expected_category=entry.facts.get("category"),
                    # the category the dialogue found itself, not one it asked for
                    category=None if "category" in asked else final.get("category"),
                    final={k: v for k, v in final.items() if v is not None})
    if not entry.purchase:
        if started:
            result.problems.append(f"started a purchase (first question: {first.requested})")
        return result
    if not started:
        result.problems.append(f"not started: {first_reply_kind(first)}")
    for name, expected in entry.facts.items():
        slot = fact_slot(name)
        if not started:
            status = "not started"
        elif slot in unreadable:
            status = "unreadable"
        elif slot in asked:
            status = "asked again"
        elif fact_kept(name, expected, final, entry.facts, entry.language):
            status = "kept"
        elif final.get(slot) is None:
            status = "missing"
        else:
            status = "wrong"
        result.facts[name] = status
        if started and status != "kept":
            detail = ""
            if status == "wrong":
                detail = f" ({final.get(slot)!r})"
                if name == TOTAL:
                    detail = f" (quantity {final.get('quantity')!r} x unit price {final.get(slot)!r})"
            elif status == "unreadable":
                detail = f" ({first.given.get(slot)!r})"
            result.problems.append(f"{name} {status}{detail}, stated {expected!r}")
    if result.first_asks_stated:
        result.problems.append(f"first question asks the {first_question}, already stated")
    if started and ending not in ("summary", "blocked"):
        result.problems.append(f"ended: {ending}")
    return result


# -- figures -------------------------------------------------------------------------------------

def share(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 3) if whole else None


def figures(results: Sequence[Result], missing_categories: Collection[str] = PENDING_CATEGORIES) -> Dict[str, Any]:
    """The figures of some results; `missing_categories`: expected categories the pack lacks."""
    purchases = [r for r in results if r.purchase]
    others = [r for r in results if not r.purchase]
    started = [r for r in purchases if r.started]
    statuses = Counter(status for r in purchases for status in r.facts.values())
    stated = sum(statuses.values())
    by_fact: Dict[str, Counter] = defaultdict(Counter)
    for r in purchases:
        for name, status in r.facts.items():
            by_fact[name][status] += 1
    with_facts = [r for r in started if r.facts]
    categorised = [r for r in purchases if r.expected_category is not None]
    in_pack = [r for r in categorised if r.expected_category not in missing_categories]
    return {
        "entries": len(results),
        "purchases": len(purchases),
        "not_purchases": len(others),
        "started": {"count": len(started), "share": share(len(started), len(purchases))},
        "not_purchases_not_started": {"count": sum(not r.started for r in others),
                                      "share": share(sum(not r.started for r in others), len(others))},
        "facts_stated": stated,
        "facts_kept": {"count": statuses["kept"], "share": share(statuses["kept"], stated)},
        "facts_kept_when_started": {
            "count": statuses["kept"],
            "share": share(statuses["kept"], stated - statuses["not started"])},
        "fact_statuses": dict(statuses),
        "by_fact": {name: {"stated": sum(c.values()), "kept": c["kept"], **{k: v for k, v in c.items() if k != "kept"}}
                    for name, c in sorted(by_fact.items())},
        "first_question_already_stated": {
            "count": sum(r.first_asks_stated for r in with_facts),
            "share": share(sum(r.first_asks_stated for r in with_facts), len(with_facts)),
            "of": len(with_facts),
            "by_question": dict(Counter(r.first_question for r in with_facts if r.first_asks_stated))},
        "right_category": {"count": sum(bool(r.category_right) for r in categorised),
                           "share": share(sum(bool(r.category_right) for r in categorised), len(categorised)),
                           "of": len(categorised)},
        "right_category_in_pack": {"count": sum(bool(r.category_right) for r in in_pack),
                                   "share": share(sum(bool(r.category_right) for r in in_pack), len(in_pack)),
                                   "of": len(in_pack)},
        "endings": dict(Counter(r.ending for r in purchases)),
        "blocks": dict(Counter(r.block for r in purchases if r.block)),
    }


def failure_kinds(results: Sequence[Result]) -> Dict[str, int]:
    """Each kind of failure and how many entries show it."""
    kinds: Counter = Counter()
    for r in results:
        seen = set()
        for problem in r.problems:
            kind = re.sub(r" \(.*", "", problem)
            kind = re.sub(r", stated .*", "", kind)
            kind = re.sub(r"first question: .*", "", kind).strip()
            if kind not in seen:
                seen.add(kind)
                kinds[kind] += 1
        if r.started and r.category_right is False and not any(p.startswith("category") for p in r.problems):
            kinds["category wrong"] += 1
    return dict(kinds.most_common())


def composition(corpus: Corpus) -> Dict[str, Any]:
    entries = corpus.entries
    return {
        "entries": len(entries),
        "by_language": dict(Counter(e.language for e in entries)),
        "purchases": sum(e.purchase for e in entries),
        "not_purchases": sum(not e.purchase for e in entries),
        "purchases_without_facts": sum(e.purchase and not e.facts for e in entries),
        "by_category": dict(Counter(e.facts.get("category", "(none)") for e in entries if e.purchase).most_common()),
        "facts": dict(Counter(name for e in entries for name in e.facts).most_common()),
        "facts_by_language": {lang: dict(Counter(name for e in entries if e.language == lang for name in e.facts)
                                         .most_common()) for lang in sorted({e.language for e in entries})},
    }


# -- answering ---------------------------------------------------------------------------------

def stated_answer(entry: Entry, slot: str, missing_categories: Collection[str] = PENDING_CATEGORIES) -> Optional[str]:
    """The message's own value for a question, written as the requester would type it; None for a
    category the pack lacks (`missing_categories`), which is no choice."""
    facts = entry.facts
    if slot == "unit_price":
        if "unit_price" in facts:
            amount = Decimal(str(facts["unit_price"]))
        elif TOTAL in facts:
            amount = (Decimal(str(facts[TOTAL])) / int(facts.get("quantity", 1))).quantize(Decimal("0.01"))
        else:
            return None
        text = f"{amount:.2f}"
        return text.replace(".", ",") + " $" if entry.language == "fr" else text
    if slot == "category" and facts.get("category") in missing_categories:
        return None  # not an option: the default below
    value = facts.get(slot)
    return None if value is None else str(value)


def answer_for(entry: Entry, slot: str, buttons: Sequence[Tuple[str, str]],
               missing_categories: Collection[str] = PENDING_CATEGORIES) -> Reply:
    text = stated_answer(entry, slot, missing_categories)
    if text is None:
        text = (FRENCH_DEFAULTS.get(slot) if entry.language == "fr" else None) or DEFAULTS.get(slot) or "yes"
    return reply_with(text, buttons)


# -- running -------------------------------------------------------------------------------------

class Conversations:
    """Sends messages and reads the tracker back, over a running RasaStack with the API on."""

    def __init__(self, stack, token: str, slot_names: Sequence[str], category_ids: Mapping[str, str]):
        self.missing_categories = PENDING_CATEGORIES - set(category_ids.values())
        self.stack = stack
        self.token = token
        self.slot_names = list(slot_names)
        self.category_ids = category_ids

    def turn(self, sender: str, text: str, language: str) -> Tuple[Turn, List[dict]]:
        replies = self.stack.say(sender, text, language=language)
        answer = self.stack.client.get(f"{self.stack.rasa_url}/conversations/{sender}/tracker",
                                       params={"token": self.token})
        answer.raise_for_status()
        return turn_from_tracker(answer.json(), text, self.slot_names, self.category_ids), replies

    def run(self, entry: Entry, sender: str) -> Result:
        turn, replies = self.turn(sender, entry.text, entry.language)
        turns = [turn]
        ending = "not started"
        if not entry.purchase and turn.active:
            ending = "started"  # nothing to answer: a wrong start is all there is to see
        elif turn.active and turn.requested is not None:
            ending = "stuck"
            for _ in range(MAX_TURNS):
                if turn.blocked:
                    ending = "blocked"
                    break
                if not turn.active or turn.requested is None:
                    ending = "closed"
                    break
                if turn.requested == CONFIRM:
                    ending = "summary"
                    break
                if len(turns) >= SAME_QUESTION_LIMIT and all(t.requested == turn.requested
                                                             for t in turns[-SAME_QUESTION_LIMIT:]):
                    ending = f"stuck on {turn.requested}"
                    break
                _, buttons = rest_question(replies)
                reply = answer_for(entry, turn.requested, buttons, self.missing_categories)
                turn, replies = self.turn(sender, reply.sent, entry.language)
                turns.append(turn)
        return judge(entry, turns, ending)


def category_names() -> Dict[str, str]:
    """Each category's name in every language, folded -> its id (for "I've filed this under ...")."""
    from policies import load_policy

    out = {}
    for key, category in load_policy().rules.categories.items():
        for name in category.name.values():
            out[folded(name)] = key
    return out


def pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def print_figures(by_language: Mapping[str, Mapping[str, Any]]) -> None:
    rows: List[Tuple[str, Callable[[Mapping[str, Any]], str]]] = [
        ("entries (purchases / not)", lambda f: f"{f['entries']} ({f['purchases']} / {f['not_purchases']})"),
        ("purchase started", lambda f: f"{pct(f['started']['share'])} ({f['started']['count']})"),
        ("not a purchase, not started", lambda f: f"{pct(f['not_purchases_not_started']['share'])} "
                                                  f"({f['not_purchases_not_started']['count']})"),
        ("stated facts kept", lambda f: f"{pct(f['facts_kept']['share'])} ({f['facts_kept']['count']}"
                                        f"/{f['facts_stated']})"),
        ("  of those of started purchases", lambda f: pct(f["facts_kept_when_started"]["share"])),
        ("first question already stated", lambda f: f"{pct(f['first_question_already_stated']['share'])} "
                                                    f"({f['first_question_already_stated']['count']}"
                                                    f"/{f['first_question_already_stated']['of']})"),
        ("right category", lambda f: f"{pct(f['right_category']['share'])} ({f['right_category']['count']}"
                                     f"/{f['right_category']['of']})"),
        ("  categories in the pack only", lambda f: f"{pct(f['right_category_in_pack']['share'])} "
                                             f"({f['right_category_in_pack']['count']}"
                                             f"/{f['right_category_in_pack']['of']})"),
    ]
    names = list(by_language)
    print(f"{'':<34}" + "".join(f"{name:>18}" for name in names))
    for label, cell in rows:
        print(f"{label:<34}" + "".join(f"{cell(by_language[name]):>18}" for name in names))
    overall = by_language["overall"]
    print("\nfacts by kind (overall): stated, kept, and what happened to the others")
    for name, counts in overall["by_fact"].items():
        others = ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("stated", "kept"))
        print(f"  {name:<14}{counts['kept']:>4}/{counts['stated']:<4} {others}")
    print(f"endings: {overall['endings']}")
    print(f"blocks: {overall['blocks']}")


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def git_status() -> List[str]:
    """The working tree's changes (git status --porcelain), which the figures may include."""
    if not (ROOT / ".git").exists():
        return ["(not a git work tree: see the note)"]
    try:
        return subprocess.run(["git", "--no-optional-locks", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return ["(git status failed)"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("en", "fr"), help="only the entries in this language")
    parser.add_argument("--limit", type=int, help="only the first N entries (after --only)")
    parser.add_argument("--json", type=Path, help="write the figures, failures and each result to this file")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--note", default="", help="what was measured, kept in the JSON file")
    args = parser.parse_args(argv)

    from dialogues import training
    from dialogues.stack import RasaStack
    from storage.migrate import upgrade

    corpus = load_corpus(args.corpus)
    entries = [e for e in corpus.entries if args.only in (None, e.language)][: args.limit]
    trained = training.train()
    print(f"model {trained.model.name} ({'trained' if trained.retrained else 'already trained'}, "
          f"{trained.seconds:.1f} s)", file=sys.stderr)
    slot_names = answer_names()
    categories = category_names()
    results: List[Result] = []
    token = secrets.token_urlsafe(24)
    started_at = time.monotonic()
    talking = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'first_message.db'}"
        upgrade(url)
        stack = RasaStack(url, trained.model, Path(scratch), {"MICROBUY_TODAY": corpus.today}, token=token).start()
        ready = time.monotonic() - started_at
        print(f"ready in {ready:.1f} s", file=sys.stderr)
        try:
            talk = Conversations(stack, token, slot_names, categories)
            run = secrets.token_hex(3)
            for i, entry in enumerate(entries, 1):
                result = talk.run(entry, f"TFIRST{run}:U{i:05d}")
                results.append(result)
                mark = "ok" if not result.problems else "; ".join(result.problems)
                print(f"[{i}/{len(entries)}] {entry.id} {mark}", file=sys.stderr, flush=True)
            talking = time.monotonic() - started_at - ready
        finally:
            stack.stop()

    missing = PENDING_CATEGORIES - set(categories.values())
    by_language = {lang: figures([r for r in results if r.language == lang], missing)
                   for lang in ("en", "fr") if any(r.language == lang for r in results)}
    by_language["overall"] = figures(results, missing)
    print(f"\n{len(results)} conversations, {sum(r.turns for r in results)} messages in {talking:.1f} s "
          f"(start {ready:.1f} s)\n")
    print_figures(by_language)
    kinds = failure_kinds(results)
    print("\nfailure kinds (entries):")
    for kind, count in kinds.items():
        print(f"  {count:>4}  {kind}")
    failures = [r for r in results if r.problems or r.category_right is False]
    print(f"\nfailures ({len(failures)} of {len(results)}):")
    for r in failures:
        problems = list(r.problems)
        if r.started and r.category_right is False and not any(p.startswith("category") for p in problems):
            problems.append(f"category {r.category!r}, expected {r.expected_category!r}")
        print(f"  {r.id}  {r.text}\n        " + "\n        ".join(problems))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": git_commit(),
            "note": args.note,
            "model": trained.model.name,
            "today": corpus.today,
            "seconds": {"start": round(ready, 1), "conversations": round(talking, 1),
                        "messages": sum(r.turns for r in results)},
            "categories_the_pack_lacks": sorted(missing),
            "uncommitted": git_status(),
            "selection": {"only": args.only, "limit": args.limit},
            "corpus": composition(Corpus(corpus.today, entries)),
            "figures": by_language,
            "failure_kinds": kinds,
            "results": [{**asdict(r), "first_asks_stated": r.first_asks_stated, "category_right": r.category_right}
                        for r in results],
        }, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
