"""The same request read in French: French wording from the pack, French money and dates."""
import re
from datetime import timedelta

import pytest
from babel.numbers import get_group_symbol

from policies import BLOCKED

from policy_kit import CENT, ON, findings, largest_pretax, only


def test_french_over_the_limit_message_with_french_money(kit):
    limit = kit.transaction_limit()
    price = kit.price_for_total(limit + CENT)
    english = kit.judge(unit_price=str(price))
    french = kit.judge(unit_price=str(price), language="fr")
    assert french.language == "fr"
    assert (french.outcome, french.total) == (english.outcome, english.total) == (BLOCKED, limit + CENT)
    finding = only(french, "limits.per_transaction")
    best = largest_pretax(limit, kit.percent("ON"))
    figures = [kit.money(limit, "fr"), kit.money(limit + CENT, "fr"), kit.money(CENT, "fr"), kit.money(best, "fr")]
    kit.assert_worded(finding, "over_transaction_limit", "fr", kit.text(kit.rules.tax.kinds["hst"], "fr"), *figures)
    # French amounts group digits with a no-break space and put the symbol after: 10 000,00 $
    group = get_group_symbol(kit.rules.pack.locales["fr"])
    assert group.isspace() and group != " "
    assert f"10{group}000,00" in kit.money(limit, "fr") and kit.money(limit, "fr").endswith("$")
    assert kit.money(limit, "en") not in finding.message
    assert not re.search(r"\d \d", finding.message)  # never an ordinary space inside a number
    assert finding.message != only(english, "limits.per_transaction").message


def test_french_tax_label_and_dates(kit):
    yesterday = ON - timedelta(days=1)
    result = kit.judge(needed_by=yesterday.isoformat(), language="fr")
    assert result.tax_label == kit.text(kit.rules.tax.kinds["hst"], "fr")
    assert result.tax_label != kit.text(kit.rules.tax.kinds["hst"], "en")
    finding = only(result, "needed_by")
    kit.assert_worded(finding, "needed_by_past", "fr", kit.day(yesterday, "fr"), kit.day(ON, "fr"))
    assert kit.day(ON, "fr") != kit.day(ON, "en")


def test_french_monthly_message_names_the_month_in_french(kit):
    limit = kit.monthly_limit()
    history = [kit.purchase(total=limit / 5, on=ON.replace(day=day), supplier=f"Fournisseur {day}")
               for day in range(1, 6)]
    finding = only(kit.judge(history, language="fr"), "limits.monthly")
    kit.assert_worded(finding, "over_monthly_limit", "fr", kit.day(ON, "fr", "MMMM y"), kit.money(limit, "fr"))


@pytest.mark.parametrize("category, key", [("travel", "category_banned"), ("it_hardware", "category_standing_offer")])
def test_french_category_messages(kit, category, key):
    finding = only(kit.judge(category=category, language="fr"), "category.allowed")
    kit.assert_worded(finding, key, "fr", kit.text(kit.rules.categories[category].name, "fr"))


def test_french_requirement_and_routing_messages(kit):
    data = kit.open_source_data(requester=kit.rules.approval.cost_centres["100200"].approvers["manager"][0])
    del data["licence"]
    result = kit.judge_data(data, language="fr")
    requirement = only(result, "category.requirements")
    assert requirement.message == kit.text(kit.rules.requirements["licence"].message, "fr")
    rerouted = [f for f in findings(result, "routing") if f.data.get("to_level")]
    assert len(rerouted) == 1
    levels = kit.rules.approval.levels
    kit.assert_worded(rerouted[0], "self_approval_rerouted", "fr",
                      kit.text(levels["manager"].name, "fr"), kit.text(levels["director"].name, "fr"))
    extra = [f for f in findings(result, "routing") if not f.data]
    kit.assert_worded(extra[0], "category_extra_approval", "fr", kit.text(levels["finance"].name, "fr"))
    assert [s.name for s in result.approval_route] == [kit.text(levels[s.level].name, "fr")
                                                       for s in result.approval_route]


def test_french_indigenous_message(kit):
    rule = kit.rules.indigenous_business
    finding = only(kit.judge(supplier_indigenous=None, language="fr"), "indigenous_business")
    kit.assert_worded(finding, "indigenous_unknown", "fr", str(rule.directory_url))


def test_a_language_the_pack_does_not_have_falls_back_to_the_default(kit):
    result = kit.judge(needed_by=(ON - timedelta(days=1)).isoformat(), language="de")
    default = kit.rules.pack.default_language
    assert result.language == default
    kit.assert_worded(only(result, "needed_by"), "needed_by_past", default)


def test_a_french_finding_cites_its_source_in_french(kit):
    rules = kit.rules
    french = kit.judge(needed_by=(ON - timedelta(days=1)).isoformat(), language="fr")
    english = kit.judge(needed_by=(ON - timedelta(days=1)).isoformat())
    assert only(french, "needed_by").source == rules.needed_by.source["fr"] == "Processus de micro-acquisition d'EDSC"
    assert only(english, "needed_by").source == rules.needed_by.source["en"]
    # Every finding, whatever its rule, carries the wording of its own language.
    english_sources = {f.source for f in english.findings}
    assert french.findings and not english_sources & {f.source for f in french.findings}
