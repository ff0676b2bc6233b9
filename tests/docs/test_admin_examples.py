"""The worked examples of docs/admin.md, run: each snippet is read from the page itself.

Each example on the page is a fenced block preceded by an HTML comment naming it:

    <!-- example: raise-limit before -->      what the file holds now
    <!-- example: raise-limit after -->       what it holds after the edit

A policy snippet is YAML from the top of the file down to the keys it changes. "before" must be
part of policies/esdc.yml as it is (so the page cannot drift from the pack). "after" is applied
to a copy: mappings are merged key by key, and a list or a value shown replaces the one in the
file; a new key goes where the snippet puts it (after the key shown before it). The copy is
written out and loaded with `policies.load_policy`, as the programs do, and judged by the engine
with no spending history: the effect the page describes must be there, and must not be there
under the pack unedited.
"""
from __future__ import annotations

import asyncio
import copy
import io
import json
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

import policies
from dialogues import policy_nlu, services, training
from dialogues.actions import questions
from dialogues.consistency import check_project
from dialogues.draft import Draft
from policies import BLOCK, BLOCKED

ROOT = Path(__file__).resolve().parents[2]
ADMIN_MD = ROOT / "docs" / "admin.md"
PACK = ROOT / "policies" / "esdc.yml"
DIALOGUES = ROOT / "dialogues"
PROJECT = DIALOGUES / "project"  # the Rasa project
EXAMPLES = ROOT / "policies" / "examples"
REQUESTER = "U09NADIA"  # approves nothing in the ESDC pack

_MARKED = re.compile(
    r"<!-- example: (?P<name>[a-z0-9-]+) (?P<part>before|after) -->\s*\n"
    r"(?P<indent>[ \t]*)```(?P<lang>\w*)\n(?P<body>.*?)\n(?P=indent)```",
    re.DOTALL,
)


# --- reading the page ----------------------------------------------------------------------------
def snippets(text: Optional[str] = None) -> Dict[str, str]:
    """{"raise-limit after": yaml text, ...}, every marked block of docs/admin.md."""
    text = ADMIN_MD.read_text(encoding="utf-8") if text is None else text
    found: Dict[str, str] = {}
    for match in _MARKED.finditer(text):
        key = f"{match['name']} {match['part']}"
        assert key not in found, f"docs/admin.md marks two blocks as '{key}'"
        indent = match["indent"]
        lines = match["body"].split("\n")
        found[key] = "\n".join(line[len(indent):] if line.startswith(indent) else line for line in lines)
    return found


def snippet(key: str) -> str:
    found = snippets()
    assert key in found, f"docs/admin.md has no block marked <!-- example: {key} --> (it has: {sorted(found)})"
    return found[key]


def yaml_rt() -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # keep long lines whole
    return yaml


def load_yaml(text: str):
    return yaml_rt().load(text)


def plain(node):
    """Round-trip YAML as plain dicts and lists, for comparing."""
    if isinstance(node, dict):
        return {key: plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(value) for value in node]
    return node


# --- applying a snippet --------------------------------------------------------------------------
def assert_part_of(part, whole, path: str = "") -> None:
    """Every key of `part` is in `whole` with the same value (lists and values compared whole)."""
    if isinstance(part, dict):
        assert isinstance(whole, dict), f"{path or 'the file'}: the page shows keys, the file has {whole!r}"
        for key, value in part.items():
            assert key in whole, f"{path}{key}: shown on the page but not in the file"
            assert_part_of(value, whole[key], f"{path}{key}.")
    else:
        assert plain(part) == plain(whole), (f"{path.rstrip('.')}: the page shows {plain(part)!r}, the file has "
                                             f"{plain(whole)!r}")


def merge(target: CommentedMap, edit: CommentedMap) -> None:
    """Apply `edit` to `target` in place: mappings key by key, anything else replaced whole."""
    keys = list(edit)
    for index, key in enumerate(keys):
        value = edit[key]
        if key in target and isinstance(target[key], dict) and isinstance(value, dict):
            merge(target[key], value)
            continue
        if key in target:
            target[key] = value
            continue
        # A new key goes after the key the snippet shows before it, else before the one after it.
        before = next((k for k in reversed(keys[:index]) if k in target), None)
        after = next((k for k in keys[index + 1:] if k in target), None)
        position = list(target).index(before) + 1 if before is not None else (
            list(target).index(after) if after is not None else len(target))
        target.insert(position, key, value)


def edited_text(name: str, base_text: Optional[str] = None, check_before: bool = True) -> str:
    """policies/esdc.yml (or `base_text`) with the page's "<name> after" snippet applied."""
    base_text = PACK.read_text(encoding="utf-8") if base_text is None else base_text
    data = load_yaml(base_text)
    if check_before and f"{name} before" in snippets():
        assert_part_of(load_yaml(snippet(f"{name} before")), data)
    after = load_yaml(snippet(f"{name} after"))
    untouched = copy.deepcopy(plain(data))
    merge(data, after)
    assert plain(data) != untouched, f"the '{name} after' snippet changes nothing in {PACK.name}"
    out = io.StringIO()
    yaml_rt().dump(data, out)
    return out.getvalue()


def write(tmp_path: Path, text: str, name: str = "esdc.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited_policy(name: str, tmp_path: Path) -> policies.LoadedPolicy:
    """The documented edit applied to a copy of the pack, loaded as the programs load it."""
    return policies.load_policy(write(tmp_path, edited_text(name)))


@pytest.fixture(scope="module")
def original() -> policies.LoadedPolicy:
    return policies.load_policy(PACK)


# --- requests ------------------------------------------------------------------------------------
def request_data(**overrides) -> dict:
    data = {
        "requester": REQUESTER,
        "cost_centre": "100200",
        "category": "office_supplies",
        "description": "Printer paper and toner for the team",
        "supplier": "Grand & Toy",
        "quantity": 1,
        "unit_price": "100.00",
        "province": "ON",
        "needed_by": "2027-06-30",
        "data_classification": "unclassified",
        "payment_method": "acquisition_card",
        "supplier_indigenous": False,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def judge(policy: policies.LoadedPolicy, data: dict, on: date = date(2026, 11, 25), language: str = "en"):
    """The engine's verdict with no spending history (workflow.judging adds the stored one)."""
    return policies.evaluate(policy, policies.parse_request(data, policy), [], on=on, language=language)


def example_request(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def blocks(evaluation, rule: str):
    return [f for f in evaluation.findings if f.rule == rule and f.severity == BLOCK]


def route(evaluation):
    return [(step.level, tuple(step.approvers)) for step in evaluation.approval_route]


def text_of(local: dict, language: str = "en") -> str:
    return " ".join(str(local[language]).split())


def page_text() -> str:
    """docs/admin.md with its line breaks and indentation as single spaces, for quotes."""
    return " ".join(ADMIN_MD.read_text(encoding="utf-8").split())


# --- the harness itself --------------------------------------------------------------------------
def test_every_example_is_on_the_page():
    found = snippets()
    for name in ("raise-limit", "ban-category", "add-tier", "add-question", "reword-question"):
        assert f"{name} before" in found and f"{name} after" in found, name
    assert "training-phrases after" in found


def test_writing_the_pack_back_out_changes_no_rule(original, tmp_path):
    """Applying nothing gives the same rules: what the tests see is the edit alone."""
    data = load_yaml(PACK.read_text(encoding="utf-8"))
    out = io.StringIO()
    yaml_rt().dump(data, out)
    assert policies.load_policy(write(tmp_path, out.getvalue())).rules == original.rules


def test_a_snippet_that_no_longer_matches_the_pack_fails():
    """The check that keeps the page true: a "before" the pack does not hold is an error."""
    drifted = snippet("raise-limit before").replace("amount: 10000", "amount: 9000")
    with pytest.raises(AssertionError, match="amounts"):
        assert_part_of(load_yaml(drifted), load_yaml(PACK.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", ["raise-limit", "ban-category", "add-tier", "add-question"])
def test_policy_examples_need_no_training(name, original, tmp_path):
    """The page says none of the policy examples needs `microbuy train`: the examples the
    model learns from (dialogues/project/data/nlu_policy.yml) are the same before and after."""
    assert policy_nlu.build(edited_policy(name, tmp_path)) == policy_nlu.build(original)


# --- a. raise the limit per purchase from a date -------------------------------------------------
def test_raise_limit_from_a_date(original, tmp_path):
    policy = edited_policy("raise-limit", tmp_path)
    conference = example_request("conference_over_limit.json")  # $10,120.00 with HST
    eve, day = date(2027, 3, 31), date(2027, 4, 1)

    before = judge(policy, conference, on=eve)
    assert before.total == Decimal("10120.00")
    assert before.outcome == BLOCKED
    [finding] = blocks(before, "limits.per_transaction")
    assert "$10,000.00 limit per purchase" in finding.message
    assert "The total including HST is $10,120.00, which is $120.00 over" in finding.message

    after = judge(policy, conference, on=day)
    assert not blocks(after, "limits.per_transaction")
    assert after.outcome == "approval_required"
    # Over $10,000: the last tier. The requester (Amina) is the manager, so that step goes up.
    assert [level for level, _ in route(after)] == ["director", "director_general"]
    assert any(f.rule == "disclosure.proactive" for f in after.findings)

    # The new amount is a limit too, and the pack unedited still blocks on the day.
    over = judge(policy, request_data(unit_price="13300.00"), on=day)  # $15,029.00 with HST
    assert "$15,000.00 limit per purchase" in blocks(over, "limits.per_transaction")[0].message
    assert blocks(judge(original, conference, on=day), "limits.per_transaction")


# --- b. ban a category ---------------------------------------------------------------------------
def test_ban_a_category(original, tmp_path):
    policy = edited_policy("ban-category", tmp_path)
    after = load_yaml(snippet("ban-category after"))["categories"]["publications"]
    book = request_data(category="publications", description="CSA B651 accessible design standard",
                        supplier="CSA Group", unit_price="150.00")

    assert judge(original, book).outcome == "approval_required"
    for language in ("en", "fr"):
        evaluation = judge(policy, book, language=language)
        assert evaluation.outcome == BLOCKED
        [finding] = blocks(evaluation, "category.allowed")
        assert text_of(after["reason"], language) in finding.message
        assert text_of(after["alternative"], language) in finding.message
    english = blocks(judge(policy, book), "category.allowed")[0].message
    assert english.startswith("Books and publications cannot be bought this way: ")
    assert english in page_text()  # the page quotes what users read, word for word


# --- c. add an approver tier ---------------------------------------------------------------------
def test_add_an_approver_tier(original, tmp_path):
    policy = edited_policy("add-tier", tmp_path)
    small = request_data(unit_price="100.00")  # $113.00 with HST, under the new tier's $500

    assert route(judge(original, small)) == [("manager", ("U01AMINA",))]
    evaluation = judge(policy, small)
    assert evaluation.total == Decimal("113.00")
    assert route(evaluation) == [("team_leader", ("U10LEILA",))]
    # What the summary before Submit shows, as the page quotes it.
    shown = questions.route_text(evaluation, Draft(policy, REQUESTER, date(2026, 11, 25)))
    assert shown == "Leila Nasser (Team leader)"
    assert f'"Approval: {shown}"' in page_text()
    assert route(judge(policy, request_data(cost_centre="100300", unit_price="100.00"))) == \
        [("team_leader", ("U11GABRIEL",))]
    assert policy.rules.people["U10LEILA"].name == "Leila Nasser"
    # Above $500 nothing changes.
    larger = request_data(unit_price="1000.00")
    assert route(judge(policy, larger)) == route(judge(original, larger)) == [("manager", ("U01AMINA",))]
    # A team leader's own purchase goes to their manager (escalates_to).
    own = judge(policy, request_data(requester="U10LEILA", unit_price="100.00"))
    assert route(own) == [("manager", ("U01AMINA",))]
    assert any(f.rule == "routing" and f.data.get("to_level") == "manager" for f in own.findings)


def test_add_a_tier_without_an_approver_is_refused_as_the_page_says(tmp_path):
    """Leave out one cost centre's team leader: `policy check` names it, in the page's words."""
    after = snippet("add-tier after")
    broken = re.sub(r"\n        team_leader: \[U11GABRIEL\][^\n]*", "", after)
    assert broken != after
    data = load_yaml(PACK.read_text(encoding="utf-8"))
    merge(data, load_yaml(broken))
    out = io.StringIO()
    yaml_rt().dump(data, out)
    with pytest.raises(policies.PolicyError) as refused:
        policies.load_policy(write(tmp_path, out.getvalue()))
    report = refused.value.report()
    problem = ("approval.cost_centres.100300.approvers: no approver for level 'team_leader': "
               "name one here or under approval.approvers")
    assert problem in report
    assert problem in page_text()


# --- d. add a question (a requirement) -----------------------------------------------------------
def open_source_request(**overrides) -> dict:
    data = example_request("open_source_fix.json")
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_add_a_question_is_asked_and_checked(original, tmp_path):
    policy = edited_policy("add-question", tmp_path)
    requirement = load_yaml(snippet("add-question after"))["requirements"]["no_internal_capacity"]
    slot = requirement["field"]
    today = date(2026, 11, 25)

    def questions_for(loaded):
        return Draft(loaded, REQUESTER, today, values={"category": "open_source_code_work"}).required_slots()

    assert slot not in questions_for(original)
    asked = questions_for(policy)
    assert slot in asked, f"open-source code work does not ask '{slot}': {asked}"
    # Asked first among the category's own questions, after the supplier questions.
    assert asked.index("supplier_indigenous") < asked.index(slot) < asked.index("ip_agreement")
    # Other categories do not ask it.
    assert slot not in Draft(policy, REQUESTER, today, values={"category": "training"}).required_slots()

    # The engine: not confirmed is blocked with the policy's message; confirmed passes.
    on = date(2027, 4, 1)
    assert judge(original, open_source_request(), on=on).outcome == "approval_required"
    missing = judge(policy, open_source_request(), on=on)
    assert missing.outcome == BLOCKED
    [finding] = blocks(missing, "category.requirements")
    assert finding.field == slot and finding.message == text_of(requirement["message"])
    answered_no = judge(policy, open_source_request(**{slot: False}), on=on)
    assert blocks(answered_no, "category.requirements")
    confirmed = judge(policy, open_source_request(**{slot: True}), on=on)
    assert confirmed.outcome == "approval_required" and not blocks(confirmed, "category.requirements")

    # No change to the dialogue files: the consistency checks pass with the edited policy.
    assert check_project(PROJECT, policy) == []


def test_add_a_question_reaches_a_running_action_server(original, tmp_path, monkeypatch):
    """The action server's policy (re-read when the file changes) asks the new question, worded
    by the policy, with Yes/No buttons, with no restart; the summary names it by its label."""
    path = write(tmp_path, PACK.read_text(encoding="utf-8"))
    monkeypatch.setattr(services, "POLICY", policies.PolicyInForce(path))
    monkeypatch.setenv("MICROBUY_TODAY", "2026-11-25")
    requirement = load_yaml(snippet("add-question after"))["requirements"]["no_internal_capacity"]
    # The action server asks it with action_ask_<field>, one of questions.AskRequirement (run
    # here on its own: no new Action subclass, which rasa_sdk would pick up as an action).
    domain = load_yaml((PROJECT / "domain.yml").read_text(encoding="utf-8"))
    assert f"action_ask_{requirement['field']}" in domain["actions"], \
        f"the dialogue has no question for '{requirement['field']}'"
    ask = SimpleNamespace(slot=requirement["field"])
    tracker = Tracker.from_dict({"sender_id": f"T1:{REQUESTER}", "slots": {
        "category": "open_source_code_work", requirement["field"]: "yes"}})

    def asked():
        dispatcher = CollectingDispatcher()
        asyncio.run(questions.AskRequirement.run(ask, dispatcher, tracker, {}))
        [message] = dispatcher.messages
        return message

    assert asked()["response"] == "utter_ask_generic"  # the pack in force does not word it
    write(tmp_path, edited_text("add-question"))
    message = asked()
    assert message["response"] == "utter_ask_requirement"
    assert message["question"] == text_of(requirement["question"])
    assert [b["payload"] for b in message["buttons"]] == ["yes", "no"]

    draft = Draft(services.POLICY.get(), REQUESTER, date(2026, 11, 25),
                  values={"category": "open_source_code_work", requirement["field"]: True})
    assert requirement["field"] in draft.required_slots()
    assert f"• {text_of(requirement['label'])}: yes" in questions.answer_lines(draft)
    assert f'"{text_of(requirement["label"])}: yes"' in page_text()


# --- rewording a question, adding training phrases (the dialogue files) --------------------------
def dialogue_copy(tmp_path: Path) -> Path:
    """A copy of the Rasa project, in a copy of the dialogues package around it (the actions)."""
    copy = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, copy, ignore=shutil.ignore_patterns("models", "__pycache__", "tests"))
    return copy / "project"


def test_reword_a_question(original, tmp_path):
    project = dialogue_copy(tmp_path)
    domain = project / "domain.yml"
    data = load_yaml(domain.read_text(encoding="utf-8"))
    assert_part_of(load_yaml(snippet("reword-question before")), data)
    merge(data, load_yaml(snippet("reword-question after")))
    out = io.StringIO()
    yaml_rt().dump(data, out)
    domain.write_text(out.getvalue(), encoding="utf-8")

    new = load_yaml(domain.read_text(encoding="utf-8"))["responses"]["utter_ask_justification"][0]["text"]
    assert new == load_yaml(snippet("reword-question after"))["responses"]["utter_ask_justification"][0]["text"]
    assert new != load_yaml(snippet("reword-question before"))["responses"]["utter_ask_justification"][0]["text"]
    assert check_project(project, original) == []


def add_training_phrases(project: Path) -> list:
    """Put the page's phrases at the end of their intent's examples in data/nlu.yml, as the page
    says; returns the phrases."""
    block = snippet("training-phrases after").split("\n")
    intent_line = block[0]
    intent = re.fullmatch(r"  - intent: (\w+)", intent_line)
    assert intent, f"the training-phrases block starts with {intent_line!r}, not '  - intent: NAME'"
    assert block[1] == "    examples: |"
    added = block[2:]
    assert added and all(line.startswith("      - ") for line in added), added

    nlu = project / "data" / "nlu.yml"
    lines = nlu.read_text(encoding="utf-8").split("\n")
    start = lines.index(intent_line)  # the page's lines are indented as the file's
    assert lines[start + 1] == "    examples: |"
    end = start + 2
    while end < len(lines) and lines[end].startswith("      - "):
        end += 1
    lines[end:end] = added
    nlu.write_text("\n".join(lines), encoding="utf-8")
    return intent[1], [line[len("      - "):] for line in added]


def test_add_training_phrases(original, tmp_path, monkeypatch):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    project = dialogue_copy(tmp_path)
    before = RasaYAMLReader().read(str(PROJECT / "data" / "nlu.yml"))
    intent, phrases = add_training_phrases(project)
    after = RasaYAMLReader().read(str(project / "data" / "nlu.yml"))

    domain = load_yaml((project / "domain.yml").read_text(encoding="utf-8"))
    assert intent in domain["intents"]
    known = {m.get("text") for m in before.intent_examples}
    generated = RasaYAMLReader().read(str(PROJECT / "data" / "nlu_policy.yml"))
    known |= {m.get("text") for m in generated.intent_examples}
    new = [m for m in after.intent_examples if m.get("text") not in known]
    assert len(new) == len(phrases) == len(after.intent_examples) - len(before.intent_examples)
    for message in new:  # each phrase read as Rasa reads it: its intent and marked entities
        assert message.get("intent") == intent
        entities = message.get("entities") or []
        assert entities, f"{message.get('text')!r} marks no entity"
        assert {e["entity"] for e in entities} <= set(domain["entities"])

    assert check_project(project, original) == []
    # `microbuy train` trains again: what the model is made from has changed.
    monkeypatch.setattr(training, "PROJECT", project)
    changed = training.fingerprint()
    monkeypatch.setattr(training, "PROJECT", PROJECT)
    assert changed != training.fingerprint()
