"""How bench/first_message.py judges a conversation: a stated fact against the answer the dialogue
kept, a purchase started or not, what each turn of a tracker says. Hand-made cases; no process."""
from __future__ import annotations

from bench.first_message import (
    Entry,
    Turn,
    answer_for,
    fact_kept,
    figures,
    judge,
    main_words,
    stated_answer,
    turn_from_tracker,
)

SLOTS = ["item", "category", "cost_centre", "supplier", "quantity", "unit_price", "province", "needed_by",
         "justification"]
CATEGORIES = {"it hardware and peripherals": "it_hardware", "office supplies": "office_supplies"}
WEBCAMS = Entry("en-900", "en", "3 webcams from Best Buy at $89.99 each, cc 100200", True,
                {"item": "webcams", "category": "it_hardware", "quantity": 3, "supplier": "Best Buy",
                 "unit_price": "89.99", "cost_centre": "100200"})


def turn(requested=None, active=True, replies=(), given=None, block=None, guessed=None, **slots) -> Turn:
    return Turn(sent="", replies=list(replies), requested=requested, active=active,
                slots={name: slots.get(name) for name in SLOTS}, given=dict(given or {}), block=block,
                guessed_category=guessed)


# -- one fact -------------------------------------------------------------------------------------

def test_a_supplier_is_compared_without_case_or_spaces():
    facts = {"supplier": "Best Buy"}
    assert fact_kept("supplier", "Best Buy", {"supplier": "best buy"}, facts)
    assert fact_kept("supplier", "Grand & Toy", {"supplier": "grand &toy"}, facts)
    assert not fact_kept("supplier", "Best Buy", {"supplier": "Best Buy at $89.99"}, facts)
    assert not fact_kept("supplier", "Best Buy", {"supplier": None}, facts)


def test_an_item_is_kept_when_it_holds_the_main_noun_and_not_the_whole_message():
    facts = {"item": "Logitech C920 webcams", "supplier": "Best Buy"}
    assert fact_kept("item", "Logitech C920 webcams", {"item": "webcam"}, facts)
    assert fact_kept("item", "Logitech C920 webcams", {"item": "3 Logitech C920 webcams"}, facts)
    assert not fact_kept("item", "Logitech C920 webcams", {"item": "webcams from Best Buy"}, facts)
    assert fact_kept("item", "cours Udemy", {"item": "cours Udemy"}, {"supplier": "Udemy"}, "fr")
    assert not fact_kept("item", "Logitech C920 webcams", {"item": "headsets"}, facts)
    assert fact_kept("item", "boîtes-repas", {"item": "30 boîtes-repas"}, {}, "fr")
    assert main_words("copy of Team Topologies") == ["team", "topology"]
    assert not fact_kept("item", "box of pens", {"item": "box"}, {})  # a box of what?


def test_amounts_are_compared_as_decimals():
    assert fact_kept("unit_price", "89.99", {"unit_price": "89.990"}, {})
    assert fact_kept("unit_price", "40.00", {"unit_price": "40"}, {})
    assert not fact_kept("unit_price", "420.00", {"unit_price": "42.00"}, {})
    assert fact_kept("unit_price", "6.49", {"unit_price": "6,49 $"}, {}, "fr")  # a raw answer, read as French
    assert not fact_kept("unit_price", "420.00", {"unit_price": "four hundred or so"}, {})  # not an amount


def test_a_total_is_quantity_times_the_unit_price():
    facts = {"quantity": 3, "total": "40.00"}
    assert fact_kept("total", "40.00", {"quantity": 3, "unit_price": "13.33"}, facts)  # asked per unit, rounded
    assert not fact_kept("total", "40.00", {"quantity": 3, "unit_price": "40.00"}, facts)  # read as a unit price
    assert fact_kept("total", "120.00", {"unit_price": "120.00"}, {"total": "120.00"})  # one unit
    assert not fact_kept("total", "40.00", {"quantity": 3}, facts)


def test_quantities_provinces_and_choices():
    assert fact_kept("quantity", 3, {"quantity": 3}, {})
    assert fact_kept("quantity", 3, {"quantity": "3"}, {})
    assert not fact_kept("quantity", 2, {"quantity": 1}, {})
    assert fact_kept("province", "ON", {"province": "on"}, {})
    assert fact_kept("cost_centre", "100300", {"cost_centre": "100300"}, {})
    assert not fact_kept("cost_centre", "100300", {"cost_centre": "100200"}, {})
    assert fact_kept("needed_by", "2026-12-18", {"needed_by": "2026-12-18"}, {})


# -- a conversation ---------------------------------------------------------------------------

def test_a_fallback_first_reply_is_not_a_start_and_every_fact_is_lost():
    first = turn(active=False, replies=[("utter_default", "Sorry, I didn't get that.")])
    result = judge(WEBCAMS, [first], "not started")
    assert not result.started
    assert set(result.facts.values()) == {"not started"}
    assert result.problems[0] == "not started: not understood (fallback)"
    assert figures([result])["started"]["share"] == 0.0


def test_a_message_that_is_not_a_purchase_is_right_not_to_start():
    hello = Entry("en-901", "en", "hello there", False, {})
    quiet = judge(hello, [turn(active=False, replies=[("utter_greet", "Hi!")])], "not started")
    assert not quiet.started and not quiet.problems
    started = judge(hello, [turn(requested="item")], "started")
    assert started.problems == ["started a purchase (first question: item)"]
    assert figures([quiet, started])["not_purchases_not_started"]["share"] == 0.5


def test_facts_kept_asked_again_wrong_and_first_question():
    values = {"item": "webcams", "category": "it_hardware", "quantity": 1, "unit_price": "89.99",
              "cost_centre": "100200"}
    first = turn(requested="supplier", **values)  # the supplier was lost; quantity read wrong
    summary = turn(requested="confirm_submit", supplier="Best Buy", **values)
    result = judge(WEBCAMS, [first, summary], "summary")
    assert result.started
    assert result.facts == {"item": "kept", "category": "kept", "quantity": "wrong", "supplier": "asked again",
                            "unit_price": "kept", "cost_centre": "kept"}
    assert result.first_asks_stated and result.first_question == "supplier"
    assert result.category_right
    numbers = figures([result])
    assert numbers["facts_kept"] == {"count": 4, "share": round(4 / 6, 3)}
    assert numbers["first_question_already_stated"]["count"] == 1
    assert numbers["by_fact"]["supplier"] == {"stated": 1, "kept": 0, "asked again": 1}


def test_an_answer_the_dialogue_could_not_read_is_unreadable():
    entry = Entry("en-902", "en", "one chair from Staples, $420, cc 100300", True,
                  {"item": "chair", "supplier": "Staples", "unit_price": "420.00", "cost_centre": "100300"})
    first = turn(requested="category", replies=[("utter_not_understood_answer", "..."), ("utter_choose_category", "")],
                 given={"unit_price": "$420,"}, item="chair", supplier="Staples", cost_centre="100300")
    later = turn(requested="confirm_submit", item="chair", supplier="Staples", cost_centre="100300",
                 unit_price="420.00", category="office_supplies")
    result = judge(entry, [first, later], "summary")
    assert result.facts["unit_price"] == "unreadable"
    assert result.facts["item"] == "kept"
    assert not result.first_asks_stated  # the category was not stated


def test_a_category_blocked_by_the_policy_is_judged_as_guessed_and_not_asked_again():
    block = {"rule": "category.allowed", "field": "category"}
    first = turn(requested="category", replies=[("utter_category_guessed", ""), ("utter_blocked_ask_again", "")],
                 block=block, guessed="it_hardware", item="webcams", quantity=3, supplier="Best Buy",
                 unit_price="89.99", cost_centre="100200")
    result = judge(WEBCAMS, [first], "blocked")
    assert result.started and result.block == "category.allowed"
    assert result.facts["category"] == "kept" and result.category == "it_hardware"
    assert result.first_question is None and result.asked == []
    assert all(status == "kept" for status in result.facts.values())


def test_a_category_the_dialogue_had_to_ask_is_not_right():
    values = {"item": "webcams", "quantity": 3, "supplier": "Best Buy", "unit_price": "89.99", "cost_centre": "100200"}
    first = turn(requested="category", **values)
    second = turn(requested="confirm_submit", category="it_hardware", **values)
    result = judge(WEBCAMS, [first, second], "summary")
    assert result.facts["category"] == "asked again"
    assert result.category is None and result.category_right is False


# -- the tracker -------------------------------------------------------------------------------

def test_a_turn_is_read_from_the_tracker_events_after_the_last_message():
    tracker = {
        "slots": {"requested_slot": "cost_centre", "item": "webcams", "unit_price": None, "category": None},
        "active_loop": {"name": "purchase_form"},
        "events": [
            {"event": "user", "text": "an earlier message"},
            {"event": "slot", "name": "supplier", "value": "Earlier"},
            {"event": "user", "text": "webcams, $420,"},
            {"event": "slot", "name": "item", "value": "webcams"},
            {"event": "slot", "name": "unit_price", "value": "$420,"},
            {"event": "bot", "text": "I've filed this under *IT hardware and peripherals*.",
             "metadata": {"utter_action": "utter_category_guessed", "category_name": "IT hardware and peripherals"}},
            {"event": "slot", "name": "unit_price", "value": None},
            {"event": "slot", "name": "last_block", "value": {"rule": "category.allowed", "field": "category"}},
            {"event": "bot", "text": "Not on the card.", "metadata": {"utter_action": "utter_blocked_ask_again"}},
        ],
    }
    read = turn_from_tracker(tracker, "webcams, $420,", SLOTS, CATEGORIES)
    assert read.active and read.requested == "cost_centre"
    assert read.actions == ["utter_category_guessed", "utter_blocked_ask_again"] and read.blocked
    assert read.guessed_category == "it_hardware"
    assert read.given == {"item": "webcams", "unit_price": "$420,"} and read.refused == ["unit_price"]
    assert read.block == {"rule": "category.allowed", "field": "category"}
    closed = turn_from_tracker({"slots": {}, "active_loop": {}, "events": []}, "hi", SLOTS, CATEGORIES)
    assert not closed.active and closed.requested is None


# -- answering ---------------------------------------------------------------------------------

def test_a_question_about_a_stated_fact_gets_the_stated_value():
    assert stated_answer(WEBCAMS, "supplier") == "Best Buy"
    assert stated_answer(WEBCAMS, "quantity") == "3"
    assert stated_answer(WEBCAMS, "province") is None
    french = Entry("fr-900", "fr", "3 cahiers, 40 $ en tout", True, {"quantity": 3, "total": "40.00"})
    assert stated_answer(french, "unit_price") == "13,33 $"
    treats = Entry("en-903", "en", "muffins", True, {"category": "hospitality"})
    assert stated_answer(treats, "category") is None  # not a choice yet: the default is given


def test_an_answer_clicks_the_button_that_says_it():
    buttons = [("100200 Digital Service", "100200"), ("100300 Benefits Delivery Modernization", "100300")]
    reply = answer_for(WEBCAMS, "cost_centre", buttons)
    assert reply.clicks and reply.sent == "100200"
    typed = answer_for(WEBCAMS, "supplier", [])
    assert not typed.clicks and typed.sent == "Best Buy"
    assert answer_for(WEBCAMS, "needed_by", []).sent == "2026-12-15"  # a default
    assert answer_for(WEBCAMS, "supplier_former_public_servant", [("No", "no"), ("Yes", "yes")]).sent == "no"
