"""`microbuy dialogue check`: the consistency checks on broken copies of the dialogue files.

The shipped project passing `rasa data validate` is tests/dialogues/test_rasa_project.py's job;
here Rasa runs once, on a copy with an error Rasa itself only warns about.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dialogues.consistency import (
    check_category_phrases,
    check_fields_file,
    check_policy_fields,
    check_project,
    check_questions,
    check_responses,
    rasa_validate,
)
from microbuy.cli import main
from policies import load_policy

REPO = Path(__file__).resolve().parents[2]
DIALOGUES = REPO / "dialogues"
PROJECT = DIALOGUES / "project"  # the Rasa project; the actions are in DIALOGUES
ESDC = REPO / "policies" / "esdc.yml"
US_FAR = REPO / "policies" / "us-far.yml"


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the Rasa project, in a copy of the dialogues package around it (the actions, without
    trained models), to break."""
    copy = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, copy, ignore=shutil.ignore_patterns("models", ".rasa", "__pycache__"))
    return copy / "project"


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def pack(tmp_path: Path, old: str, new: str, base: Path = ESDC) -> Path:
    path = tmp_path / "pack.yml"
    text = base.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    load_policy(path)  # the pack itself is valid: only the dialogue disagrees with it
    return path


def lines(problems) -> list:
    return [str(problem) for problem in problems]


def test_the_shipped_project_agrees_with_the_policy():
    assert lines(check_project(PROJECT, load_policy(ESDC))) == []


def test_a_question_dropped_from_the_form(project):
    edit(project / "domain.yml", "      - supplier_indigenous\n", "")
    found = lines(check_questions(project, load_policy(ESDC)))
    assert len(found) == 1
    assert "domain.yml" in found[0] and "'supplier_indigenous'" in found[0]
    assert "not in forms.purchase_form.required_slots: add it" in found[0]


def test_a_field_the_policy_reads_but_this_pack_never_asks(project):
    # The US pack has no payment method that needs a reason, so the question is not asked, but
    # the payment rule still reads the answer: the form must keep it.
    edit(project / "domain.yml", "      - payment_reason\n", "")
    found = lines(check_policy_fields(project, load_policy(US_FAR)))
    assert found == [next(line for line in found if "'payment_reason'" in line)]
    assert "payment.method" in found[0] and "required_slots does not list the slot 'payment_reason'" in found[0]
    assert lines(check_policy_fields(PROJECT, load_policy(US_FAR))) == []


def test_a_requirement_on_a_field_the_dialogue_cannot_ask(project, tmp_path):
    # A category now requires an answer (a valid request field) that has no slot, question or
    # place in the form.
    requirement = ("requirements:\n  small_business:\n    field: supplier_small_business\n    kind: attestation\n"
                   "    question: {en: Is the supplier a small business?, fr: Le fournisseur est-il une PME?}\n"
                   "    message: {en: Say whether it is a small business., fr: Dites si c'est une PME.}\n"
                   "    source: {en: Test, fr: Essai}\n")
    path = pack(tmp_path, "requirements:\n", requirement)
    assert lines(check_questions(project, load_policy(path))) == []  # no category requires it yet
    edit(path, "    kind: goods\n    status: allowed\n",
         "    kind: goods\n    status: allowed\n    requires: [small_business]\n")
    policy = load_policy(path)
    found = lines(check_questions(project, policy))
    assert len(found) == 3 and all("'supplier_small_business'" in line for line in found)
    assert any("is not under slots" in line for line in found)
    assert any("required_slots" in line for line in found)
    assert any("utter_ask_supplier_small_business" in line for line in found)
    assert lines(check_fields_file(project, policy)) == []  # the policy words its own question


def test_a_misspelt_entry_of_fields_yml(project):
    edit(project / "fields.yml", "\nsupplier:\n", "\nsuplier:\n")
    found = lines(check_fields_file(project, load_policy(ESDC)))
    assert all(f"{project / 'fields.yml'}" in line for line in found)
    assert any("'suplier' is not a slot of" in line and "correct the name or delete the entry" in line
               for line in found)
    assert any("the form asks 'supplier' but it has no entry here" in line for line in found)
    assert len(found) == 2


def test_a_text_missing_in_one_language(project):
    edit(project / "fields.yml", "  label: {en: quantity, fr: quantité}\n", "  label: {en: quantity}\n")
    found = lines(check_fields_file(project, load_policy(ESDC)))
    assert len(found) == 1 and "quantity.label: missing the fr text" in found[0]
    line = next(n for n, text in enumerate((project / "fields.yml").read_text().splitlines(), 1) if text == "quantity:")
    assert f"fields.yml:{line}:" in found[0]


def test_a_new_category_without_training_phrases(project, tmp_path):
    furniture = ("categories:\n  furniture:\n    name: {en: Ergonomic furniture, fr: Mobilier ergonomique}\n"
                 "    synonyms: {en: [kneeling chair], fr: [chaise à genoux]}\n    kind: goods\n    status: allowed\n"
                 "    source: {en: Test, fr: Essai}\n")
    policy = load_policy(pack(tmp_path, "categories:\n", furniture))
    found = lines(check_category_phrases(project, policy))
    assert len(found) == 1 and "nlu_policy.yml" in found[0]
    assert "the category 'furniture' has no training phrases" in found[0]
    assert "python -m dialogues.policy_nlu" in found[0]


def test_generated_phrases_out_of_date(project, tmp_path):
    policy = load_policy(pack(tmp_path, "ON: {name: {en: Ontario,", "ON: {name: {en: Ontario province,"))
    found = lines(check_category_phrases(project, policy))
    assert len(found) == 1 and "out of date with" in found[0] and str(tmp_path / "pack.yml") in found[0]


def test_an_action_sends_a_response_the_domain_lacks(project):
    edit(project.parent / "actions" / "detours.py", '"utter_explain_nothing"', '"utter_explain_nothin"')
    found = lines(check_responses(project))
    line = next(n for n, text in enumerate((project.parent / "actions" / "detours.py").read_text().splitlines(), 1)
                if "utter_explain_nothin" in text)
    assert len(found) == 1 and f"actions/detours.py:{line}:" in found[0]
    assert "'utter_explain_nothin'" in found[0] and "add it under responses:" in found[0]


def test_a_response_named_per_slot(project):
    # AskChoice sends f"utter_choose_{self.slot}"; dropping one of those responses is found too.
    edit(project / "domain.yml", "  utter_choose_province:\n", "  utter_choose_provinces:\n")
    found = lines(check_responses(project))
    assert len(found) == 1 and "actions/questions.py:" in found[0] and "'utter_choose_province'" in found[0]


def run(args):
    return CliRunner().invoke(main, ["dialogue", "check", *args], env={"MICROBUY_POLICY": str(ESDC)},
                              catch_exceptions=False)


def test_command_exit_codes(project):
    ok = run(["--no-rasa"])
    assert ok.exit_code == 0, ok.stderr
    assert "✓ the consistency checks found no problem" in ok.stdout
    edit(project / "fields.yml", "\nsupplier:\n", "\nsuplier:\n")
    edit(project.parent / "actions" / "detours.py", '"utter_explain_nothing"', '"utter_explain_nothin"')
    bad = run(["--no-rasa", "--dir", str(project)])
    assert bad.exit_code == 1
    problems = [line for line in bad.stderr.splitlines() if not line.startswith("error:")]
    assert len(problems) == 3 and "error: 3 problem(s) in the dialogue files" in bad.stderr
    broken = run(["--no-rasa", "--policy", str(project / "nope.yml")])
    assert broken.exit_code == 3


def test_rasa_warnings_that_are_errors_fail_the_check(project):
    # `rasa data validate` exits 0 when a rule runs a response that does not exist; the check does not.
    edit(project / "data" / "rules.yml", "      - action: utter_goodbye\n", "      - action: utter_goodby\n")
    problems, notes = rasa_validate(project)
    assert len(problems) == 1
    assert "rasa data validate: The action 'utter_goodby' is used in the stories" in str(problems[0])
    # A response sent by an action looks unused to Rasa; it is not reported. One no longer used is a note.
    assert not any("utter_explain_nothing" in note for note in notes)
    assert any("'utter_goodbye' is sent by no rule, story or action" in note for note in notes)
