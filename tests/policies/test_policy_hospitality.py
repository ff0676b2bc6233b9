"""The hospitality category of the ESDC pack (issue 16): food and drink for meetings and events,
allowed on the card, named the way staff write it in both languages, cited to the TB directive."""
from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest

from policies import APPROVAL_REQUIRED

from policy_kit import problems_of, total_exact

EXAMPLE = Path(__file__).resolve().parents[2] / "policies" / "examples" / "workshop_lunches.json"


def _folded(text: str) -> str:
    """Lower case, no accents, single spaces: how a name is compared with what staff write."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def test_hospitality_is_an_allowed_service_cited_to_the_directive(kit):
    hospitality = kit.rules.categories["hospitality"]
    assert hospitality.status == "allowed" and hospitality.kind == "services"
    assert (kit.text(hospitality.name, "en"), kit.text(hospitality.name, "fr")) == ("Hospitality", "Accueil")
    assert "Directive on Travel, Hospitality, Conference and Event Expenditures" in kit.text(hospitality.source, "en")
    assert "Directive sur les dépenses de voyages, d'accueil, de conférences et d'événements" in kit.text(
        hospitality.source, "fr")
    # No figure the directive's text was not read for: no per-person or total cap, no extra level.
    assert hospitality.max_total is None and not hospitality.extra_approval and not hospitality.requires


@pytest.mark.parametrize("language, words", [
    ("en", ["catering", "refreshments", "coffee and muffins", "working lunch", "lunch for the team",
            "meals for participants", "pizza for the meeting", "snacks for the meeting"]),
    ("fr", ["traiteur", "rafraîchissements", "boîtes à lunch", "dîner d'équipe", "repas", "collations pour la réunion",
            "café et viennoiseries"]),
])
def test_hospitality_is_named_the_way_staff_write_it(kit, language, words):
    synonyms = {_folded(word) for word in kit.rules.categories["hospitality"].synonyms[language]}
    assert {_folded(word) for word in words} <= synonyms


def test_no_name_or_synonym_points_at_two_categories(kit):
    """Coffee and snacks moved from personal items to hospitality: a word names one category."""
    owner: dict = {}
    for key, category in kit.rules.categories.items():
        words = [*category.name.values(), *(w for ws in category.synonyms.values() for w in ws)]
        for word in {_folded(w) for w in words}:
            assert owner.setdefault(word, key) == key, f"'{word}' names {owner[word]} and {key}"


def test_the_workshop_lunches_example_goes_to_the_section_32_manager(kit):
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert data["category"] == "hospitality"
    result = kit.judge_data(data)
    assert result.outcome == APPROVAL_REQUIRED, [f.to_dict() for f in problems_of(result)]
    subtotal = data["quantity"] * Decimal(data["unit_price"])
    assert result.total == total_exact(subtotal, kit.percent(data["province"]))
    assert [step.level for step in result.approval_route] == ["manager"]


def test_coffee_for_oneself_stays_a_personal_item(kit):
    personal = {_folded(w) for ws in kit.rules.categories["personal_items"].synonyms.values() for w in ws}
    assert {"coffee", "cafe", "snacks", "collations"} <= personal
    assert kit.rules.categories["personal_items"].status == "banned"
