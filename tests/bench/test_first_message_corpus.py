"""bench/first_messages.yml, the first messages of issue 16's benchmark, and bench/first_messages_dev.yml,
the tuning set written apart from it: their make-up, their facts named as the dialogue names its
answers, both held out from the training data and from each other. No process starts."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from bench.first_message import CORPUS, DEV2_CORPUS, DEV_CORPUS, PENDING_CATEGORIES, TOTAL, answer_names, load_corpus
from policies import load_policy

ROOT = Path(__file__).resolve().parents[2]
TRAINING_DATA = ROOT / "dialogues" / "project" / "data"
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@pytest.fixture(scope="module", params=[CORPUS, DEV_CORPUS], ids=["held-out", "tuning"])
def corpus(request):
    return load_corpus(request.param)


@pytest.fixture(scope="module", params=[CORPUS, DEV_CORPUS, DEV2_CORPUS], ids=["held-out", "tuning", "tuning-2"])
def any_corpus(request):
    """Also the second tuning set, which holds purchases only (the make-up tests skip it)."""
    return load_corpus(request.param)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def normalised(text: str) -> str:
    """For comparing sentences: case and spaces do not count, nor the punctuation around them."""
    return re.sub(r"\s+", " ", text.casefold()).strip().strip(" .!?,;:")


def training_sentences() -> set:
    """Every example of the NLU training files, its entity marks removed: "[pens](item)" is "pens"."""
    found = set()
    for path in sorted(TRAINING_DATA.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            examples = block.get("examples")
            if not isinstance(examples, str):
                continue
            for line in examples.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.add(normalised(ANNOTATION.sub(r"\1", line[2:])))
    return found


def test_the_corpus_is_large_enough_and_mostly_english(corpus):
    entries = corpus.entries
    assert len(entries) >= 150
    languages = Counter(e.language for e in entries)
    assert set(languages) == {"en", "fr"}
    assert 0.55 <= languages["en"] / len(entries) <= 0.65, languages
    assert date.fromisoformat(corpus.today)


def test_ids_are_unique_and_say_the_language(any_corpus):
    ids = [e.id for e in any_corpus.entries]
    assert len(ids) == len(set(ids))
    for entry in any_corpus.entries:
        assert re.fullmatch(rf"(?:dev2?-)?{entry.language}-\d{{3}}", entry.id), entry.id
        assert entry.text.strip(), entry.id


def test_it_holds_purchases_with_and_without_facts_and_messages_that_are_not_purchases(corpus):
    entries = corpus.entries
    assert sum(not e.purchase for e in entries) >= 10
    assert sum(e.purchase and not e.facts for e in entries) >= 4
    assert sum(len(e.facts) >= 5 for e in entries) >= 30
    for entry in entries:
        if not entry.purchase:
            assert not entry.facts, f"{entry.id} is not a purchase but states facts"


def test_every_fact_is_an_answer_the_dialogue_asks(any_corpus):
    names = set(answer_names()) | {TOTAL}
    assert {"item", "category", "cost_centre", "supplier", "quantity", "unit_price", "province"} <= names
    for entry in any_corpus.entries:
        unknown = set(entry.facts) - names
        assert not unknown, f"{entry.id}: {sorted(unknown)} are not answer names"
        assert not (TOTAL in entry.facts and "unit_price" in entry.facts), f"{entry.id}: a total or a unit price"


def test_every_category_is_the_packs_or_one_it_will_have(corpus, policy):
    known = set(policy.rules.categories) | PENDING_CATEGORIES
    used = Counter(e.facts["category"] for e in corpus.entries if "category" in e.facts)
    assert set(used) <= known, set(used) - known
    # Across what staff buy: most of the pack's categories, and each kind several times.
    assert len(used) >= 10
    for common in ("office_supplies", "publications", "it_hardware", "software_licence", "training",
                   "professional_services", "hospitality"):
        assert used[common] >= 5, common


def test_facts_are_written_the_way_the_dialogue_keeps_them(any_corpus, policy):
    provinces = set(policy.rules.tax.jurisdictions)
    cost_centres = set(policy.rules.approval.cost_centres)
    for entry in any_corpus.entries:
        facts = entry.facts
        if "quantity" in facts:
            assert isinstance(facts["quantity"], int) and facts["quantity"] >= 1, entry.id
        for amount in ("unit_price", TOTAL):
            if amount in facts:
                assert isinstance(facts[amount], str) and re.fullmatch(r"\d+\.\d{2}", facts[amount]), entry.id
                assert Decimal(facts[amount]) > 0
        if "province" in facts:
            assert facts["province"] in provinces, entry.id
        if "cost_centre" in facts:
            assert facts["cost_centre"] in cost_centres, entry.id
        if "needed_by" in facts:
            assert date.fromisoformat(facts["needed_by"]) > date.fromisoformat(any_corpus.today), entry.id
        for text_fact in ("item", "supplier", "justification"):
            if text_fact in facts:
                assert isinstance(facts[text_fact], str) and facts[text_fact].strip(), entry.id


def test_cost_centres_are_also_given_by_team_name_and_provinces_by_city(corpus):
    texts = {e.id: e.text for e in corpus.entries}
    by_name = [i for i, t in texts.items() if re.search(r"Digital Service|Service numérique|BDM|Benefits Delivery|"
                                                      r"Modernisation du versement", t)]
    assert len(by_name) >= 8
    by_city = [i for i, t in texts.items() if re.search(r"Ottawa|Moncton|Gatineau|Halifax|Winnipeg", t)]
    assert len(by_city) >= 8


def test_no_message_is_in_the_training_data(any_corpus):
    training = training_sentences()
    assert len(training) > 1000  # the files were read
    copied = [f"{e.id}: {e.text}" for e in any_corpus.entries if normalised(e.text) in training]
    assert not copied, "held-out messages found in dialogues/project/data: " + "; ".join(copied)


def test_the_held_out_check_finds_a_training_sentence():
    """The check above can fail: a training example, marks and case changed, is found."""
    # nlu.yml holds "I need to buy a [webcam](item)".
    assert normalised("  I NEED to buy a   Webcam. ") in training_sentences()


def test_the_tuning_set_shares_no_message_with_the_held_out_one():
    """The opening reader is tuned on bench/first_messages_dev.yml; the benchmark's figures mean
    something only while no message of the held-out corpus is in it."""
    held_out = {normalised(e.text) for e in load_corpus(CORPUS).entries}
    shared = [e.id for path in (DEV_CORPUS, DEV2_CORPUS) for e in load_corpus(path).entries
              if normalised(e.text) in held_out]
    assert not shared
    assert len(held_out) >= 150
