"""The custom actions of the purchase conversation, run on trackers saved from real conversations.

Each test loads the tracker Rasa sent to the action server just before an action ran
(trackers/*.json, see actions_kit.py), runs the action with a CollectingDispatcher and checks
the events it returns and the responses it used. The actions use a fresh migrated database
(DATABASE_URL) and the day the trackers were captured (MICROBUY_TODAY=2026-11-25).
"""
import re
from datetime import date
from decimal import Decimal

import pytest
from rasa_sdk import Tracker

import storage
import workflow
from dialogues import services
from dialogues.actions.changes import ActionChangeAnswer
from dialogues.actions.detours import (
    ActionCancelPurchase,
    ActionCanIBuy,
    ActionCheckStatus,
    ActionExplain,
    ActionResume,
)
from dialogues.actions.language import ActionSwitchLanguage
from dialogues.actions.purchase_form import ValidatePurchaseForm
from dialogues.actions.questions import AskConfirmSubmit, AskStandalone
from dialogues.actions.submit import ActionSubmitPurchase
from dialogues.draft import ANSWER_SLOTS
from policies import load_policy

from actions_kit import (
    TRACKERS,
    custom_payloads,
    domain,
    followups,
    load_tracker,
    loop_changes,
    message,
    next_action,
    point_actions_at,
    release_action_engines,
    render,
    responses,
    run,
    seed_purchase,
    slot_set_names,
    slot_sets,
    stored_requests,
    tracker_state,
)

# Databases the actions cannot reach: a SQLite file in a folder that does not exist, and a
# PostgreSQL server on a port nobody listens on.
UNREACHABLE = [
    pytest.param("sqlite:////nonexistent-microbuy-folder/actions.db", id="sqlite-missing-folder"),
    pytest.param("postgresql://postgres@127.0.0.1:1/microbuy", id="postgres-closed-port"),
]


@pytest.fixture(scope="module")
def policy():
    """The policy in the repo, read on its own (not through the actions' cache)."""
    return load_policy()


@pytest.fixture
def database(monkeypatch, sqlite_url):
    """The actions on a fresh migrated SQLite database; yields its URL."""
    point_actions_at(monkeypatch, sqlite_url)
    yield sqlite_url
    release_action_engines()


@pytest.fixture
def any_database(monkeypatch, db_url):
    """The actions on a fresh migrated database, once on SQLite and once on PostgreSQL."""
    point_actions_at(monkeypatch, db_url)
    yield db_url
    release_action_engines()


@pytest.fixture
def no_database(monkeypatch):
    """For actions that must not need the database: any use of it fails."""
    point_actions_at(monkeypatch, UNREACHABLE[0].values[0])
    yield
    release_action_engines()


def validate(name, **slots):
    assert next_action(name) == "validate_purchase_form"
    return run(ValidatePurchaseForm(), load_tracker(name, **slots))


def submit(name, **slots):
    assert next_action(name) == "action_submit_purchase"
    return run(ActionSubmitPurchase(), load_tracker(name, **slots))


# -- the saved trackers -------------------------------------------------------------------------

def test_every_saved_tracker_is_used_and_names_an_action_of_the_domain():
    names = sorted(path.stem for path in TRACKERS.glob("*.json"))
    assert len(names) >= 30
    source = open(__file__, encoding="utf-8").read()
    actions = set(domain()["actions"])
    for name in names:
        state = tracker_state(name)
        assert state["_next_action"] in actions, name
        assert state["sender_id"] and state["events"], name
        assert f'"{name}"' in source, f"trackers/{name}.json is not used by any test"


# -- checking each answer: validate_purchase_form ----------------------------------------------

def test_opening_message_fills_what_it_names_and_guesses_the_category(database, policy):
    events, said = validate("form_opening_message")

    assert slot_sets(events) == {
        # the entities found "Toy"; the opening's reading (dialogues/opening.py) the whole name, and "a": one
        "item": "whiteboard", "supplier": "Grand and Toy", "province": "ON", "quantity": 1,
        "category": "office_supplies", "requested_slot": "cost_centre",
    }
    assert responses(said) == ["utter_category_guessed"]
    assert message(said, "utter_category_guessed")["category_name"] == \
        policy.rules.categories["office_supplies"].name.get_text("en", "en")


def test_an_opening_read_where_the_nlu_found_nothing_is_read_like_an_answer(database):
    """A day the entities missed ("Thursday's session") is kept as the date it means, the way a
    typed answer is: the opening gives it as typed, the form reads it (captured on Wednesday
    2026-11-25, so Thursday is the 26th)."""
    state = tracker_state("form_opening_message")
    text = "I need a whiteboard from Grand and Toy delivered to Ontario for Thursday's session"
    state["latest_message"]["text"] = text
    next(e for e in reversed(state["events"]) if e["event"] == "user")["text"] = text
    events, said = run(ValidatePurchaseForm(), Tracker.from_dict(state))

    assert slot_sets(events)["needed_by"] == "2026-11-26"
    assert slot_sets(events)["item"] == "whiteboard"


def test_an_opening_that_cannot_be_read_still_gets_its_entities_and_a_question(database, monkeypatch):
    """A reading of the first message that fails (a bug in its heuristics) costs its extra facts,
    never the reply: the entities' answers are kept and the next question is asked."""
    import dialogues.actions.purchase_form as purchase_form

    def broken(*args, **kwargs):
        raise ValueError("a reading that went wrong")

    monkeypatch.setattr(purchase_form, "read_opening", broken)
    events, said = validate("form_opening_message")

    slots = slot_sets(events)
    assert slots["item"] == "whiteboard" and slots["province"] == "ON"
    assert slots["supplier"] == "Toy"  # the entity's piece of the name, as the NLU found it
    assert slots["requested_slot"] == "cost_centre"


def test_price_over_the_limit_is_cleared_and_explained_in_the_policys_words(database, policy):
    events, said = validate("form_price_over_limit")

    slots = slot_sets(events)
    assert slots["unit_price"] is None
    assert slots["requested_slot"] == "unit_price"  # the same question again
    assert slots["confirm_submit"] is None
    assert responses(said) == ["utter_blocked_ask_again"]
    told = message(said, "utter_blocked_ask_again")["message"]
    # 9,500.00 + 13 % HST = 10,735.00, over the 10,000.00 limit per purchase (taxes in).
    assert "$10,735.00" in told and "$10,000.00" in told
    assert slots["last_block"] == {
        "rule": "limits.per_transaction",
        "label": policy.rules.labels.limits__per_transaction.get_text("en", "en"),
        "message": told,
        "source": policy.rules.limits.per_transaction.source["en"],
        "field": "unit_price",
    }


def test_price_under_the_limit_is_kept(database):
    # The same request priced 8000: 9,040.00 with HST, so the block above comes from the amount.
    events, said = validate("form_price_under_limit")

    assert slot_sets(events) == {"unit_price": "8000.00", "requested_slot": "needed_by"}
    assert responses(said) == []


@pytest.mark.parametrize("unreachable", UNREACHABLE)
def test_price_is_taken_unjudged_when_the_database_is_down(monkeypatch, unreachable):
    # Past spending cannot be read, so the checks wait for submission (which judges again).
    point_actions_at(monkeypatch, unreachable)
    try:
        events, said = validate("form_price_over_limit")
    finally:
        release_action_engines()

    assert slot_sets(events) == {"unit_price": "9500.00", "requested_slot": "needed_by"}
    assert responses(said) == []


def test_entity_noticed_in_passing_does_not_overwrite_an_answer(database):
    # At the price question: "it's $80 each from Best Buy"; the supplier was already "Toy".
    events, said = validate("form_price_with_supplier_in_passing")

    assert slot_sets(events) == {"supplier": "Toy", "unit_price": "80.00", "requested_slot": "needed_by"}
    assert responses(said) == []


def test_entity_discarded_in_passing_is_not_judged(database):
    # Best Buy, named in passing and discarded, has 9,950.00 on record for this cost centre;
    # the supplier kept is "Toy", with nothing on record, so nothing should be blocked.
    seed_purchase(database, supplier="Best Buy", cost_centre="100300", total="9950.00")

    events, said = validate("form_price_with_supplier_in_passing")

    assert slot_sets(events) == {"supplier": "Toy", "unit_price": "80.00", "requested_slot": "needed_by"}
    assert responses(said) == []


def test_asking_for_a_change_replaces_the_answer(database):
    # At the needed-by question: "actually it's 3 of them" (intent change_answer); it was 1.
    events, said = validate("form_change_quantity_in_passing")

    assert slot_sets(events) == {"quantity": 3, "requested_slot": "needed_by"}
    assert responses(said) == ["utter_changing_to"]
    assert message(said, "utter_changing_to")["value"] == "3"


def test_unreadable_date_is_asked_again_with_the_reason(database):
    events, said = validate("form_needed_by_unreadable")

    assert slot_sets(events) == {"needed_by": None, "requested_slot": "needed_by"}
    assert responses(said) == ["utter_not_understood_answer"]
    assert '"sometime"' in message(said, "utter_not_understood_answer")["problem"]


def test_answer_that_is_not_a_choice_is_refused_and_the_amount_in_it_ignored(database):
    # At the province question the requester typed "$4.50"; the price was already 12.00.
    events, said = validate("form_province_answered_with_amount")

    assert slot_sets(events) == {"unit_price": "12.00", "province": None, "requested_slot": "province"}
    assert responses(said) == ["utter_not_understood_answer"]
    assert "not one of the choices" in message(said, "utter_not_understood_answer")["problem"]


def test_whole_message_is_the_answer_to_the_question_asked_only(database):
    # At the quantity question: "$25" (NLU: amount). The price question has not been asked, so
    # the amount fills nothing; needed_by "sometime", stored unread, is cleared to be asked again.
    events, said = validate("form_quantity_answered_with_amount")

    slots = slot_sets(events)
    assert slots["unit_price"] is None
    assert slots["needed_by"] is None


def test_amount_of_money_is_not_a_quantity(database):
    events, said = validate("form_quantity_answered_with_amount")

    assert slot_sets(events)["quantity"] is None
    assert responses(said) == ["utter_not_understood_answer"]


def test_vague_quantity_is_asked_again(database):
    events, said = validate("form_quantity_a_few")

    assert slot_sets(events)["quantity"] is None
    assert responses(said) == ["utter_not_understood_answer"]


def test_justification_naming_another_supplier_keeps_the_supplier(database):
    # At the justification question: "I need to buy notebooks from Staples because ..."
    # (NLU: start_purchase, supplier Staples); the supplier answered earlier was "Grand Toy".
    events, said = validate("form_justification_names_other_supplier")

    slots = slot_sets(events)
    assert slots["justification"].startswith("I need to buy notebooks from Staples")
    assert slots.get("supplier", "Grand Toy") == "Grand Toy"


def test_category_requirement_answered_no_is_blocked_with_its_source(database, policy):
    events, said = validate("form_ip_agreement_no")

    requirement = policy.rules.requirements["ip_agreement"]
    slots = slot_sets(events)
    assert slots["ip_agreement"] is None
    assert slots["requested_slot"] == "ip_agreement"
    assert message(said, "utter_blocked_ask_again")["message"] == requirement.message.get_text("en", "en")
    assert slots["last_block"]["rule"] == "category.requirements"
    assert slots["last_block"]["source"] == requirement.source["en"]


@pytest.mark.parametrize("on_record, next_question", [
    pytest.param(None, "confirm_submit", id="no-recent-purchase"),
    pytest.param("Staples Canada Inc.", "attest_standalone", id="recent-staples-purchase"),
    pytest.param("Best Buy", "confirm_submit", id="recent-purchase-from-another-supplier"),
])
def test_standalone_question_is_asked_only_after_a_recent_purchase_from_the_supplier(
        database, on_record, next_question):
    if on_record:
        seed_purchase(database, supplier=on_record, cost_centre="100200", total="84.75")

    events, said = validate("form_indigenous_answered_staples")

    assert slot_sets(events) == {"supplier_indigenous": False, "requested_slot": next_question}
    assert responses(said) == []


def test_standalone_attestation_answered_no_is_blocked(database):
    reference = seed_purchase(database, supplier="Staples", cost_centre="100200", total="84.75")

    events, said = validate("form_attest_standalone_no")

    slots = slot_sets(events)
    assert slots["attest_standalone"] is None
    assert slots["requested_slot"] == "attest_standalone"
    assert slots["last_block"]["rule"] == "splitting.attestation"
    assert reference in message(said, "utter_blocked_ask_again")["message"]


def test_summary_answered_submit_ends_the_form(database):
    events, said = validate("summary_answer_submit")

    assert slot_sets(events) == {"confirm_submit": True, "requested_slot": None}
    assert responses(said) == []


def test_summary_answered_no_asks_which_answer_to_change(database):
    events, said = validate("summary_answer_no")

    slots = slot_sets(events)
    assert slots["confirm_submit"] is None
    assert slots["requested_slot"] == "confirm_submit"  # the summary stays the open question
    assert responses(said) == ["utter_change_which"]
    payloads = [b["payload"] for b in message(said, "utter_change_which")["buttons"]]
    assert '/change_answer{"slot_name": "unit_price"}' in payloads


def test_summary_answered_with_an_answers_name_reopens_that_question(database):
    events, said = validate("summary_answer_the_vendor")  # "the vendor"

    assert slot_sets(events) == {"confirm_submit": None, "supplier": None, "requested_slot": "supplier"}
    assert message(said, "utter_changing")["field_label"] == "supplier"


# -- the questions worded from the policy ------------------------------------------------------

def test_summary_shows_every_answer_the_total_with_tax_and_the_approver(database):
    events, said = run(AskConfirmSubmit(), load_tracker("summary_open"))

    assert events == []
    summary = message(said, "utter_summary")
    assert (summary["subtotal"], summary["tax"], summary["total"], summary["tax_label"]) == \
        ("$75.00", "$9.75", "$84.75", "HST")  # 3 × 25.00 + 13 % HST (Ontario)
    assert summary["route"] == "Amina Haddad (Fund-centre manager (section 32))"
    assert summary["blocked"] == "no"
    lines = summary["summary"].splitlines()
    for line in ("• Supplier: Staples", "• Quantity: 3", "• Price: $25.00", "• Delivery province: Ontario",
                 "• Cost centre: 100200 Digital Service"):
        assert line in lines
    assert len(lines) == 11  # the nine base answers and the two supplier questions


def test_summary_waits_while_the_requester_picks_an_answer_to_change(database):
    # This turn already asked "which answer would you like to change?": no summary on top of it.
    events, said = run(AskConfirmSubmit(), load_tracker("summary_after_change_which"))

    assert events == []
    assert responses(said) == []


@pytest.mark.parametrize("unreachable", UNREACHABLE)
def test_summary_without_the_database_says_so_and_waits(monkeypatch, unreachable):
    point_actions_at(monkeypatch, unreachable)
    try:
        events, said = run(AskConfirmSubmit(), load_tracker("summary_open"))
    finally:
        release_action_engines()

    assert responses(said) == ["utter_checks_unavailable"]
    assert slot_sets(events) == {"requested_slot": None}


def test_standalone_question_names_the_recent_purchase(database):
    reference = seed_purchase(database, supplier="Staples", cost_centre="100200", total="84.75")

    events, said = run(AskStandalone(), load_tracker("ask_attest_standalone"))

    assert events == []
    asked = message(said, "utter_ask_standalone")
    assert reference in asked["message"] and "Staples" in asked["message"]
    assert [b["payload"] for b in asked["buttons"]] == ["yes", "no"]


# -- submitting: action_submit_purchase --------------------------------------------------------

def test_submit_stores_exactly_one_request_then_announces_it(any_database):
    events, said = submit("submit_office_supplies")

    [stored] = stored_requests(any_database)
    assert (stored.requester, stored.team_id, stored.supplier, stored.cost_centre, stored.card_id) == \
        ("U09NADIA", "TC", "Staples", "100200", "ESDC-CARD-DS-01")
    assert stored.status == "submitted"
    assert Decimal(stored.total) == Decimal("84.75")
    assert responses(said) == ["utter_submitted", None]
    assert message(said, "utter_submitted")["reference"] == stored.reference
    [payload] = custom_payloads(said)
    assert {k: payload[k] for k in ("type", "request_id", "reference")} == \
        {"type": "submitted", "request_id": stored.id, "reference": stored.reference}
    assert payload["evaluation"]["total"] == "84.75"
    # The form is closed and every answer forgotten, ready for the next request.
    assert loop_changes(events) == [None]
    assert followups(events) == []
    slots = slot_sets(events)
    assert all(slots[slot] is None for slot in ANSWER_SLOTS)
    assert slots["confirm_submit"] is None and slots["last_block"] is None


def test_submit_never_revises_someone_elses_request(any_database):
    # A tracker naming another person's request as the one being revised (as a forged call to
    # the action server would): storage refuses the change, whichever process asks, and the
    # requester is told only that it is not theirs.
    reference = seed_purchase(any_database, supplier="Staples", cost_centre="100200", total="84.75",
                              requester="U04KWAME")
    [victim] = stored_requests(any_database, requester="U04KWAME")
    state = tracker_state("submit_office_supplies")
    state["slots"]["revising"] = {"id": victim.id, "revision": victim.revision, "reference": reference}
    events, said = run(ActionSubmitPurchase(), Tracker.from_dict(state))

    [after] = stored_requests(any_database, requester="U04KWAME")
    assert (after.supplier, after.revision, after.status) == ("Staples", victim.revision, victim.status)
    assert stored_requests(any_database, requester="U09NADIA") == []
    assert responses(said) == ["utter_revision_not_possible"]
    assert custom_payloads(said) == []  # nothing for the bot to post


def _revising(url, *, approve: bool) -> dict:
    """The tracker's request submitted through the action (3 pens at 25.00, Amina's to approve),
    approved by Amina if `approve`; the `revising` slot that names it."""
    submit("submit_office_supplies")
    [stored] = stored_requests(url)
    if approve:
        engine = storage.make_engine(url)
        try:
            workflow.decide(storage.make_session_factory(engine), load_policy(), stored.id, revision=stored.revision,
                            step=0, approver="U01AMINA", outcome="approved", on=date(2026, 11, 25))
        finally:
            engine.dispose()
    return {"id": stored.id, "revision": stored.revision, "reference": stored.reference}


def _submit_revision(revising: dict, **slots):
    tracker = load_tracker("submit_office_supplies", **slots)
    tracker.slots["revising"] = revising  # as action_start_revision sets it
    return run(ActionSubmitPurchase(), tracker)


def test_submit_of_a_revision_sends_it_back_with_what_changed(database):
    revising = _revising(database, approve=False)
    events, said = _submit_revision(revising, unit_price="30.00")

    [stored] = stored_requests(database)
    assert (stored.id, stored.revision, stored.status) == (revising["id"], 2, "submitted")
    assert responses(said) == ["utter_resubmitted", None]
    told = message(said, "utter_resubmitted")
    assert (told["reference"], told["changed"]) == (revising["reference"], "price")
    [payload] = custom_payloads(said)
    assert {k: payload[k] for k in ("type", "request_id", "reference", "changes")} == \
        {"type": "resubmitted", "request_id": revising["id"], "reference": revising["reference"],
         "changes": {"unit_price": ["25.00", "30.00"]}}
    assert loop_changes(events) == [None] and followups(events) == []


def test_submit_of_a_lower_price_keeps_the_approval(database):
    revising = _revising(database, approve=True)
    events, said = _submit_revision(revising, unit_price="20.00")

    [stored] = stored_requests(database)
    assert (stored.revision, stored.status) == (2, "approved")
    assert responses(said) == ["utter_revised_still_approved", None]
    [payload] = custom_payloads(said)
    assert (payload["type"], payload["changes"]) == ("resubmitted", {"unit_price": ["25.00", "20.00"]})
    assert loop_changes(events) == [None] and followups(events) == []


def test_submitted_open_source_work_goes_to_finance_too(database):
    events, said = submit("submit_open_source")

    [stored] = stored_requests(database)
    assert [step["level"] for step in stored.route] == ["manager", "finance"]
    assert stored.answers["licence"] == "MIT"
    assert custom_payloads(said)[0]["request_id"] == stored.id


def test_submit_reads_every_answer_again_and_refuses_one_that_does_not_read(database):
    # unit_price "about 90 bucks" and needed_by "sometime" were stored unread.
    events, said = submit("submit_raw_answers")

    assert stored_requests(database) == []
    assert responses(said) == ["utter_not_understood_answer"]
    assert '"sometime"' in message(said, "utter_not_understood_answer")["problem"]
    assert custom_payloads(said) == []
    assert slot_sets(events) == {"needed_by": None, "confirm_submit": None}  # the price reads
    assert followups(events) == ["purchase_form"]
    assert loop_changes(events) == []


def test_submit_stores_what_the_raw_answers_read_as(database):
    events, said = submit("submit_raw_answers", needed_by="Dec 18")

    [stored] = stored_requests(database)
    assert Decimal(stored.answers["unit_price"]) == Decimal("90.00")  # from "about 90 bucks"
    assert stored.answers["needed_by"] == "2026-12-18"
    assert Decimal(stored.total) == Decimal("189.00")  # 2 × 90.00 + 5 % GST (Quebec)
    assert custom_payloads(said)[0]["request_id"] == stored.id


def test_submit_without_confirmation_returns_to_the_summary(database):
    events, said = submit("submit_office_supplies", confirm_submit=None)

    assert stored_requests(database) == []
    assert slot_sets(events) == {"confirm_submit": None}
    assert followups(events) == ["purchase_form"]
    assert responses(said) == []


@pytest.mark.parametrize("unreachable", UNREACHABLE)
def test_submit_with_the_database_down_keeps_the_answers(monkeypatch, unreachable):
    point_actions_at(monkeypatch, unreachable)
    try:
        events, said = submit("submit_office_supplies")
    finally:
        release_action_engines()

    assert responses(said) == ["utter_submit_failed"]
    assert message(said, "utter_submit_failed")["reason"] == "OperationalError"
    assert custom_payloads(said) == []
    assert set(slot_set_names(events)) == {"confirm_submit"}  # nothing else is forgotten
    assert slot_sets(events) == {"confirm_submit": None}
    assert followups(events) == ["purchase_form"]
    assert loop_changes(events) == []


def test_submit_judges_on_todays_date(monkeypatch, sqlite_url):
    # Needed by 2026-12-15, submitted on 2026-12-20: the date has passed.
    point_actions_at(monkeypatch, sqlite_url, today="2026-12-20")
    try:
        events, said = submit("submit_office_supplies")
    finally:
        release_action_engines()

    assert stored_requests(sqlite_url) == []
    slots = slot_sets(events)
    assert slots["needed_by"] is None
    assert slots["last_block"]["rule"] == "needed_by"
    assert responses(said) == ["utter_blocked_ask_again"]
    assert followups(events) == ["purchase_form"]


def test_submit_judges_the_spending_on_record(database):
    # 9,950.00 from Staples this month: 84.75 more would be contract splitting.
    seeded = seed_purchase(database, supplier="Staples Canada Inc.", cost_centre="100200", total="9950.00")

    events, said = submit("submit_office_supplies")

    assert [r.reference for r in stored_requests(database)] == [seeded]
    assert slot_sets(events)["supplier"] is None
    told = [m["message"] for m in said.messages if m.get("response") == "utter_blocked_ask_again"]
    assert any("$10,034.75" in text for text in told)  # 9,950.00 + 84.75
    assert followups(events) == ["purchase_form"]
    assert custom_payloads(said) == []


# -- changing an answer: action_change_answer --------------------------------------------------

def test_change_without_naming_an_answer_offers_the_answers_given(no_database):
    events, said = run(ActionChangeAnswer(), load_tracker("change_answer_which"))

    assert slot_sets(events) == {"confirm_submit": None}
    buttons = message(said, "utter_change_which")["buttons"]
    assert len(buttons) == 11  # one per answer given
    assert {"title": "needed-by date", "payload": '/change_answer{"slot_name": "needed_by"}'} in buttons


def test_change_offers_only_answers_given(no_database):
    events, said = run(ActionChangeAnswer(), load_tracker("change_answer_which", justification=None))

    payloads = [b["payload"] for b in message(said, "utter_change_which")["buttons"]]
    assert len(payloads) == 10
    assert '/change_answer{"slot_name": "justification"}' not in payloads


@pytest.mark.parametrize("name, slot, label", [
    pytest.param("change_answer_slot_name", "needed_by", "needed-by date", id="button-slot_name"),
    pytest.param("change_answer_named_in_text", "unit_price", "price", id="slot_name-in-text"),
])
def test_change_naming_an_answer_clears_only_that_answer(no_database, name, slot, label):
    events, said = run(ActionChangeAnswer(), load_tracker(name))

    assert slot_sets(events) == {"confirm_submit": None, slot: None}
    assert message(said, "utter_changing")["field_label"] == label


def test_change_with_a_new_value_keeps_it_and_says_so(no_database):
    # "change the supplier to Best Buy": the slot mapping already put Best Buy in the slot.
    tracker = load_tracker("change_answer_supplier_entity")
    assert tracker.get_slot("supplier") == "Best Buy"

    events, said = run(ActionChangeAnswer(), tracker)

    assert slot_sets(events) == {"confirm_submit": None}
    changing = message(said, "utter_changing_to")
    assert (changing["field_label"], changing["value"]) == ("supplier", "Best Buy")


def test_change_with_no_request_in_progress(no_database):
    events, said = run(ActionChangeAnswer(), load_tracker("resume_nothing"))

    assert events == []
    assert responses(said) == ["utter_nothing_to_change"]


# -- "why?": action_explain --------------------------------------------------------------------

def test_why_blocked_answers_from_the_last_block(no_database, policy):
    tracker = load_tracker("explain_block_during_form")
    block = tracker.get_slot("last_block")

    events, said = run(ActionExplain(), tracker)

    assert events == []
    explained = message(said, "utter_explain_block")
    assert (explained["rule_label"], explained["message"], explained["source"]) == \
        (block["label"], block["message"], block["source"])
    assert explained["source"] == policy.rules.limits.per_transaction.source["en"]


def test_why_blocked_tells_the_recorded_block_not_a_new_judgement(no_database):
    block = {"rule": "needed_by", "label": "Needed-by date", "message": "That date has passed.",
             "source": "ESDC micro-acquisition process", "field": "needed_by"}

    events, said = run(ActionExplain(), load_tracker("explain_block_during_form", last_block=block))

    assert render(message(said, "utter_explain_block")) == (
        'It was blocked by the rule "Needed-by date": That date has passed.\n'
        'Source: ESDC micro-acquisition process')


def test_why_blocked_with_no_question_open(no_database):
    block = {"rule": "limits.monthly", "label": "Monthly card limit", "message": "Over the monthly limit.",
             "source": "ESDC acquisition card policy, Annex C", "field": "unit_price"}

    events, said = run(ActionExplain(), load_tracker("explain_nothing", last_block=block))

    assert message(said, "utter_explain_block")["source"] == block["source"]


def test_why_this_question_explains_the_question_even_after_a_block(no_database):
    tracker = load_tracker("explain_question_after_block")
    assert tracker.get_slot("last_block") is not None

    events, said = run(ActionExplain(), tracker)

    assert responses(said) == ["utter_explain_question"]
    explained = message(said, "utter_explain_question")
    assert explained["field_label"] == services.fields()["unit_price"]["label"]["en"]
    assert explained["reason"] == services.fields()["unit_price"]["why"]["en"]


def test_why_a_category_requirement_is_asked_comes_from_the_policy(no_database, policy):
    events, said = run(ActionExplain(), load_tracker("explain_requirement"))

    requirement = policy.rules.requirements["ip_agreement"]
    explained = message(said, "utter_explain_requirement")
    assert (explained["reason"], explained["source"]) == \
        (requirement.message.get_text("en", "en"), requirement.source["en"])


def test_why_a_category_requirement_is_asked_in_french_cites_the_french_source(no_database, policy):
    events, said = run(ActionExplain(), load_tracker("explain_requirement", language="fr"))

    requirement = policy.rules.requirements["ip_agreement"]
    explained = message(said, "utter_explain_requirement")
    assert (explained["reason"], explained["source"]) == (requirement.message["fr"], requirement.source["fr"])
    assert render(explained, language="fr").endswith(
        "Source : canada-ca/micro-acquisition, conditions (entente sur la propriété intellectuelle)")


def test_why_with_nothing_blocked_and_no_question(no_database):
    events, said = run(ActionExplain(), load_tracker("explain_nothing"))

    assert events == []
    assert responses(said) == ["utter_explain_nothing"]


# -- status: action_check_status ---------------------------------------------------------------

def test_status_with_no_requests(database):
    events, said = run(ActionCheckStatus(), load_tracker("check_status"))

    assert events == []
    assert responses(said) == ["utter_status_none"]


def test_status_lists_the_requesters_own_requests(database):
    submit("submit_office_supplies")  # U09NADIA's pens, through the submit action
    seed_purchase(database, supplier="Best Buy", cost_centre="100300", total="500.00", requester="U05ELENA")
    [mine] = stored_requests(database, requester="U09NADIA")

    events, said = run(ActionCheckStatus(), load_tracker("check_status_during_form"))

    assert events == []
    rows = message(said, "utter_status")["requests"].splitlines()
    assert rows == [f"• {mine.reference} box of pens: $84.75, submitted, waiting for Amina Haddad"]


@pytest.mark.parametrize("unreachable", UNREACHABLE)
def test_status_with_the_database_down(monkeypatch, unreachable):
    point_actions_at(monkeypatch, unreachable)
    try:
        events, said = run(ActionCheckStatus(), load_tracker("check_status"))
    finally:
        release_action_engines()

    assert events == []
    assert responses(said) == ["utter_status_unavailable"]


# -- "can I buy ...?": action_can_i_buy ---------------------------------------------------------

def test_can_i_buy_a_banned_category(no_database, policy):
    events, said = run(ActionCanIBuy(), load_tracker("can_i_buy_banned"))  # a flight

    travel = policy.rules.categories["travel"]
    answer = message(said, "utter_can_i_buy_no")
    assert events == []
    assert answer["category"] == "Travel"
    assert answer["message"] == \
        f'{travel.reason.get_text("en", "en")} {travel.alternative.get_text("en", "en")}'
    assert answer["source"] == travel.source["en"]


def test_can_i_buy_a_standing_offer_category(no_database, policy):
    events, said = run(ActionCanIBuy(), load_tracker("can_i_buy_standing_offer"))  # a webcam

    offer = policy.rules.standing_offers["n70"]
    answer = message(said, "utter_can_i_buy_standing_offer")
    assert answer["category"] == "IT hardware and peripherals"
    assert answer["message"].startswith(offer.name.get_text("en", "en"))
    assert answer["source"] == offer.source["en"]


def test_can_i_buy_an_allowed_category(no_database):
    events, said = run(ActionCanIBuy(), load_tracker("can_i_buy_allowed"))  # sticky notes

    answer = message(said, "utter_can_i_buy_yes")
    assert (answer["category"], answer["limit"], answer["monthly"]) == \
        ("Office supplies", "$10,000.00", "$25,000.00")


def test_can_i_buy_something_of_no_known_category(no_database, policy):
    events, said = run(ActionCanIBuy(), load_tracker("can_i_buy_unknown"))  # a kayak

    answer = message(said, "utter_can_i_buy_unknown")
    allowed = [c.name.get_text("en", "en") for c in policy.rules.categories.values() if c.status == "allowed"]
    assert answer["item"] == "kayak"
    assert answer["allowed"].split(", ") == allowed


def test_can_i_buy_without_naming_a_thing_gives_the_limits(no_database):
    events, said = run(ActionCanIBuy(), load_tracker("can_i_buy_no_item"))

    answer = message(said, "utter_can_i_buy_limits")
    assert (answer["limit"], answer["monthly"]) == ("$10,000.00", "$25,000.00")


# -- cancel and resume -------------------------------------------------------------------------

def test_cancel_closes_the_form_and_forgets_every_answer(no_database):
    tracker = load_tracker("cancel_during_form")
    assert tracker.get_slot("supplier") and tracker.get_slot("last_block")

    events, said = run(ActionCancelPurchase(), tracker)

    assert responses(said) == ["utter_cancelled"]
    assert loop_changes(events) == [None]
    slots = slot_sets(events)
    assert set(ANSWER_SLOTS) <= set(slots)
    assert all(value is None for value in slots.values())
    assert {"confirm_submit", "requested_slot", "last_block"} <= set(slots)


def test_cancel_with_nothing_in_progress(no_database):
    events, said = run(ActionCancelPurchase(), load_tracker("cancel_nothing"))

    assert events == []
    assert responses(said) == ["utter_nothing_to_cancel"]


def test_yes_with_nothing_in_progress_asks_what_to_buy(no_database):
    events, said = run(ActionResume(), load_tracker("resume_nothing"))

    assert events == []
    assert responses(said) == ["utter_how_can_i_help"]


def test_yes_with_answers_kept_goes_back_to_the_form(no_database):
    events, said = run(ActionResume(), load_tracker("resume_nothing", item="box of pens"))

    assert events == [{"event": "followup", "timestamp": None, "name": "purchase_form"}]
    assert responses(said) == []


# -- in French: trackers of conversations held in French (the Slack app sent language fr) ------

def spaced(text: str) -> str:
    """French money and dates with ordinary spaces ("1 234,50 $"), for comparing."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_the_issues_french_example_is_read_then_judged_in_french(database, policy):
    # "j'ai besoin d'acheter un clavier chez Bureau en Gros pour 80 $": a keyboard is IT hardware,
    # which must go through a standing offer.
    events, said = validate("fr_form_opening_keyboard")

    slots = slot_sets(events)
    assert (slots["item"], slots["supplier"], slots["unit_price"]) == ("clavier", "Bureau en Gros", "80.00")
    assert slots["category"] is None and slots["requested_slot"] == "category"
    assert responses(said) == ["utter_category_guessed", "utter_blocked_ask_again"]
    hardware = policy.rules.categories["it_hardware"].name
    assert message(said, "utter_category_guessed")["category_name"] == hardware.get_text("fr", "en")
    told = message(said, "utter_blocked_ask_again")["message"]
    offer = policy.rules.standing_offers["n70"]
    assert offer.name.get_text("fr", "en") in told and offer.how_to_order.get_text("fr", "en") in told
    assert offer.name.get_text("en", "en") not in told
    assert slots["last_block"]["label"] == policy.rules.labels.category__allowed.get_text("fr", "en")
    assert slots["last_block"]["source"] == offer.source["fr"]  # "why was that blocked?" cites it in French


def test_a_french_amount_is_read_in_the_french_locale(database):
    events, said = validate("fr_form_price_french_amount")  # "1 234,50 $"

    assert slot_sets(events) == {"unit_price": "1234.50", "requested_slot": "province"}
    assert responses(said) == []


def test_a_refused_french_amount_is_explained_in_french(database):
    events, said = validate("fr_form_price_refused")  # "1 234.50 $": a point where French writes a comma

    assert slot_sets(events) == {"unit_price": None, "requested_slot": "unit_price"}
    problem = spaced(message(said, "utter_not_understood_answer")["problem"])
    assert problem == ("Je ne peux pas lire « 1 234.50 $ » comme un prix : ses chiffres ne sont pas groupés de la "
                       "façon habituelle (par exemple 1 234,50). Écrivez-le comme 89,99.")
    # In an English conversation the same answer is an amount (en_CA groups digits with a space too).
    events, said = validate("fr_form_price_refused", language="en")
    assert slot_sets(events)["unit_price"] == "1234.50" and responses(said) == []


def test_an_unreadable_date_is_explained_in_french(database):
    events, said = validate("fr_form_needed_by_unreadable")  # "un de ces jours"

    assert slot_sets(events) == {"needed_by": None, "requested_slot": "needed_by"}
    problem = message(said, "utter_not_understood_answer")["problem"]
    assert problem.startswith("Je ne peux pas lire « un de ces jours » comme une date")
    assert "15 décembre" in problem and "Dec 15" not in problem


def test_summary_in_french_with_french_money_and_dates(database):
    events, said = run(AskConfirmSubmit(), load_tracker("fr_summary_open"))

    summary = {key: spaced(value) for key, value in message(said, "utter_summary").items() if isinstance(value, str)}
    assert (summary["subtotal"], summary["tax"], summary["total"], summary["tax_label"]) == \
        ("75,00 $", "9,75 $", "84,75 $", "TVH")  # 3 × 25,00 $ + 13 % TVH (Ontario)
    assert summary["route"] == "Amina Haddad (Gestionnaire du centre financier (article 32))"
    lines = summary["summary"].splitlines()
    for line in ("• Fournisseur : Bureau en Gros", "• Quantité : 3", "• Prix : 25,00 $",
                 "• Province de livraison : Ontario", "• Centre de coûts : 100200 Service numérique",
                 "• Catégorie : Fournitures de bureau", "• Date de besoin : 15 décembre 2026",
                 "• Le fournisseur est un ancien fonctionnaire : non",
                 "• Le fournisseur est une entreprise autochtone : non"):
        assert line in lines
    assert len(lines) == 11


def test_submit_in_french_stores_the_answers_as_given(database):
    events, said = submit("fr_submit_office_supplies")

    [stored] = stored_requests(database)
    assert (stored.supplier, stored.cost_centre, Decimal(stored.total)) == \
        ("Bureau en Gros", "100200", Decimal("84.75"))
    assert stored.answers["justification"] == "pour les séances de planification de l'équipe"  # as typed
    submitted = message(said, "utter_submitted")
    assert (submitted["reference"], spaced(submitted["total"])) == (stored.reference, "84,75 $")
    assert submitted["approver"] == "Amina Haddad (Gestionnaire du centre financier (article 32))"
    assert spaced(render(submitted, language="fr")).startswith(
        f"Soumise {stored.reference} : boîte de stylos, 84,75 $.")
    assert custom_payloads(said)[0]["type"] == "submitted"


def test_status_in_french(database):
    submit("fr_submit_office_supplies")
    [mine] = stored_requests(database, requester="U09NADIA")

    events, said = run(ActionCheckStatus(), load_tracker("fr_check_status"))

    rows = spaced(message(said, "utter_status")["requests"]).splitlines()
    assert rows == [f"• {mine.reference} boîte de stylos : 84,75 $, soumise, en attente de Amina Haddad"]


def test_can_i_buy_in_french(no_database, policy):
    events, said = run(ActionCanIBuy(), load_tracker("fr_can_i_buy_banned"))  # un billet d'avion

    travel = policy.rules.categories["travel"]
    answer = message(said, "utter_can_i_buy_no")
    assert answer["category"] == travel.name.get_text("fr", "en")
    assert answer["message"] == f'{travel.reason.get_text("fr", "en")} {travel.alternative.get_text("fr", "en")}'
    assert answer["source"] == travel.source["fr"] == "Guide de référence rapide sur la carte d'achat d'EDSC"


def test_why_this_question_in_french(no_database):
    events, said = run(ActionExplain(), load_tracker("fr_explain_question"))  # at the supplier question

    explained = message(said, "utter_explain_question")
    assert explained["field_label"] == services.fields()["supplier"]["label"]["fr"]
    assert explained["reason"] == services.fields()["supplier"]["why"]["fr"]
    assert render(explained, language="fr").startswith("Je vous demande cette information (fournisseur) parce que")


def test_switching_language_keeps_the_language_the_message_named(no_database):
    # "en français svp" while the Slack app still sent en: the slot mapping already set fr.
    tracker = load_tracker("switch_language_during_form")
    assert tracker.get_slot("language") == "fr"

    events, said = run(ActionSwitchLanguage(), tracker)

    assert events == []
    assert custom_payloads(said) == [{"type": "language", "language": "fr"}]


def test_switching_language_without_naming_one_takes_the_other(no_database):
    events, said = run(ActionSwitchLanguage(), load_tracker("switch_language_unnamed"))  # "changer de langue"

    assert slot_sets(events) == {"language": "en"}
    assert custom_payloads(said) == [{"type": "language", "language": "en"}]


@pytest.mark.parametrize("name", ["summary_open", "check_status", "can_i_buy_allowed", "explain_question_after_block"])
def test_an_english_tracker_in_french_says_nothing_in_english(database, name):
    """The same conversations with the language slot fr: every response the actions send renders
    in French, and the texts they build (summary, status, limits) are French too."""
    action = {"summary_open": AskConfirmSubmit(), "check_status": ActionCheckStatus(),
              "can_i_buy_allowed": ActionCanIBuy(), "explain_question_after_block": ActionExplain()}[name]
    english_events, english = run(action, load_tracker(name))
    french_events, french = run(action, load_tracker(name, language="fr"))

    assert responses(french) == responses(english)
    for sent_en, sent_fr in zip(english.messages, french.messages, strict=True):
        shown_en, shown_fr = render(sent_en), render(sent_fr, language="fr")
        assert shown_fr != shown_en
        assert not re.search(r"\$\s?\d", shown_fr), shown_fr  # "84,75 $", never "$84.75"
        for word in ("Supplier", "Quantity", "Price", "waiting for", "Here is your request", "per purchase", "because"):
            assert word not in shown_fr, (word, shown_fr)
