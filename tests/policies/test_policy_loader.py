"""Loading a pack: a broken file is refused with file, line and what is wrong; never half-loaded."""
import hashlib
from pathlib import Path

import pytest

import policies
from policies import PolicyError, load_policy, parse_policy


def _line_of(text: str, marker: str) -> int:
    """The 1-based line of the (only) occurrence of `marker` in `text`."""
    assert text.count(marker) == 1, f"{marker!r} must occur exactly once"
    return text[: text.index(marker)].count("\n") + 1


def _refused(kit, old: str, new: str, marker: str, name: str = "broken.yml") -> tuple:
    """Break the pack by replacing `old` with `new`; return (problems, the line of `marker`)."""
    text = kit.variant_text((old, new))
    line = _line_of(text, marker)
    with pytest.raises(PolicyError) as info:
        parse_policy(text.encode("utf-8"), name)
    error = info.value
    assert error.file == name
    assert error.problems
    report = str(error)
    for problem in error.problems:
        where = f"{name}:{problem.line}" if problem.line else name
        assert where in report
        assert problem.message in report
    return error.problems, line


def _the_problem_at(problems, line):
    at = [p for p in problems if p.line == line]
    assert at, f"nothing reported at line {line}: {[(p.line, p.path, p.message) for p in problems]}"
    return at[0]


def test_an_unknown_key(kit):
    problems, line = _refused(
        kit,
        "    status: allowed\n    source:\n      en: ESDC acquisition card quick reference guide\n"
        "      fr: Guide de référence rapide sur la carte d'achat d'EDSC\n  publications:",
        "    status: allowed\n    colour: blue\n    source:\n      en: ESDC acquisition card quick reference guide\n"
        "      fr: Guide de référence rapide sur la carte d'achat d'EDSC\n  publications:",
        "colour: blue",
    )
    problem = _the_problem_at(problems, line)
    assert problem.path == "categories.office_supplies.colour"
    assert "unknown key 'colour'" in problem.message


def test_the_replaced_description_match_says_what_replaces_it(kit):
    # A pack written before issue 19 names requirement_similarity: it is told to use same_need.
    problems, line = _refused(kit, "  same_need:\n", "  requirement_similarity: 85\n  same_need:\n",
                              "requirement_similarity: 85")
    problem = _the_problem_at(problems, line)
    assert problem.path == "splitting.requirement_similarity"
    assert "replaced by same_need" in problem.message


def test_a_misspelt_key_gets_a_suggestion(kit):
    problems, line = _refused(kit, "  short_notice_days: 3\n", "  short_notice_dayz: 3\n", "short_notice_dayz")
    problem = _the_problem_at(problems, line)
    assert "did you mean 'short_notice_days'" in problem.message


@pytest.mark.parametrize("old, new, at, path, says", [
    ("  short_notice_days: 3\n", "  short_notice_days: soon\n", "short_notice_days: soon",
     "needed_by.short_notice_days", "integer"),
    ("- {from: 2019-04-01, amount: 10000}", "- {from: 2019-04-01, amount: -10000}", "amount: -10000",
     "limits.per_transaction.amounts.0.amount", "negative"),
    ("- {up_to: 5000, levels: [manager]}", "- {up_to: 5000, levels: [team_lead]}", "team_lead",
     "approval.tiers.0.levels.0", "'team_lead'"),
], ids=["a wrong type", "a negative limit", "a tier naming a level that does not exist"])
def test_a_bad_value_is_named_by_path_and_line(kit, old, new, at, path, says):
    problems, line = _refused(kit, old, new, at)
    problem = _the_problem_at(problems, line)
    assert problem.path == path
    assert says in problem.message
    if path.startswith("approval.tiers"):  # the levels that do exist are offered
        for level in kit.rules.approval.levels:
            assert level in problem.message


def test_a_category_naming_a_standing_offer_that_does_not_exist(kit):
    problems, line = _refused(kit, "    standing_offer: proservices\n", "    standing_offer: prosrvices\n",
                              "standing_offer: prosrvices")
    problem = _the_problem_at(problems, line)
    assert problem.path == "categories.professional_services.standing_offer"
    assert "'prosrvices'" in problem.message and "proservices" in problem.message


def test_a_missing_french_text(kit):
    problems, line = _refused(kit, "name: {en: Office supplies, fr: Fournitures de bureau}",
                              "name: {en: Office supplies}", "name: {en: Office supplies}")
    problem = _the_problem_at(problems, line)
    assert problem.path == "categories.office_supplies.name"
    assert "fr" in problem.message and "missing" in problem.message


def test_a_source_missing_its_french_wording(kit):
    # A plain string is the default language's wording only: refused in a bilingual pack, like any text.
    old = "  source:\n    en: ESDC micro-acquisition process\n    fr: Processus de micro-acquisition d'EDSC\n"
    problems, line = _refused(kit, old, "  source: ESDC micro-acquisition process\n",
                              "source: ESDC micro-acquisition process")
    problem = _the_problem_at(problems, line)
    assert (problem.path, problem.message) == ("needed_by.source", "missing the fr text")
    problems, line = _refused(kit, old, "  source: {en: ESDC micro-acquisition process}\n",
                              "source: {en: ESDC micro-acquisition process}")
    assert _the_problem_at(problems, line).path == "needed_by.source"


def test_a_source_too_short_in_one_language(kit):
    problems, line = _refused(kit, "    fr: Processus de micro-acquisition d'EDSC\n", "    fr: EX\n", "fr: EX")
    problem = _the_problem_at(problems, line)
    assert (problem.path, problem.message) == ("needed_by.source.fr", "must be 3 to 500 characters, not 2")


def test_a_one_language_pack_cites_its_sources_in_plain_text():
    us = load_policy(Path(policies.__file__).parent / "us-far.yml")
    assert us.rules.pack.languages == ["en"]
    source = us.rules.needed_by.source
    assert source.get_text("en", "en").startswith("Agency purchase card procedures")


def test_a_message_using_an_unknown_value(kit):
    problems, line = _refused(kit, "at or under {{ max_pretax }}, or ask", "at or under {{ max_price }}, or ask",
                              "{{ max_price }}")
    problem = _the_problem_at(problems, line)
    assert problem.path == "messages.over_transaction_limit.en"
    assert "max_price" in problem.message and "max_pretax" in problem.message


def test_a_message_with_broken_template_syntax(kit):
    problems, line = _refused(kit, "at or under {{ max_pretax }}, or ask", "at or under {{ max_pretax }, or ask",
                              "{{ max_pretax }, or ask")
    assert "template" in _the_problem_at(problems, line).message


def test_a_yaml_syntax_error(kit):
    problems, line = _refused(kit, "  short_notice_days: 3\n", "  short_notice_days: 3: 4\n", "short_notice_days: 3: 4")
    assert len(problems) == 1
    assert problems[0].line == line
    assert "YAML" in problems[0].message


def test_a_cost_centre_code_written_unquoted(kit):
    problems, line = _refused(kit, "    '100300':\n", "    0100300:\n", "0100300:")
    problem = _the_problem_at(problems, line)
    assert "quotes" in problem.message
    assert problem.path.startswith("approval.cost_centres")
    assert "0100300" in problem.message or "leading zero" in problem.message


def test_every_problem_is_reported_in_line_order(kit):
    text = kit.variant_text(
        ("  short_notice_days: 3\n", "  short_notice_days: soon\n"),
        ("- {from: 2019-04-01, amount: 10000}", "- {from: 2019-04-01, amount: -10000}"),
    )
    with pytest.raises(PolicyError) as info:
        parse_policy(text.encode(), "two.yml")
    lines = [p.line for p in info.value.problems]
    assert lines == sorted(lines)
    assert _line_of(text, "amount: -10000") in lines
    assert _line_of(text, "short_notice_days: soon") in lines


def test_not_utf8_and_not_a_mapping(kit):
    with pytest.raises(PolicyError, match="UTF-8"):
        parse_policy(b"\xff\xfe\x00", "bad.yml")
    with pytest.raises(PolicyError, match="mapping"):
        parse_policy(b"- just\n- a list\n", "list.yml")


# --- a valid pack -------------------------------------------------------------------------------------
def test_the_default_pack_loads_with_the_sha256_of_its_bytes(kit):
    raw = policies.DEFAULT_POLICY.read_bytes()
    assert kit.policy.version == hashlib.sha256(raw).hexdigest()
    assert kit.policy.short_version == kit.policy.version[:12]
    assert kit.policy.content == raw.decode("utf-8")
    assert kit.rules.pack.id == "esdc"


def test_a_changed_file_gets_a_different_version(kit, tmp_path):
    changed = tmp_path / "changed.yml"
    changed.write_text(kit.yaml + "\n# reviewed by finance\n", encoding="utf-8")
    loaded = load_policy(changed)
    assert loaded.version == hashlib.sha256(changed.read_bytes()).hexdigest()
    assert loaded.version != kit.policy.version
    assert loaded.file == str(changed)
    same = tmp_path / "same.yml"
    same.write_bytes(policies.DEFAULT_POLICY.read_bytes())
    assert load_policy(same).version == kit.policy.version


def test_the_environment_chooses_the_pack(tmp_path):
    assert policies.policy_path({}) == policies.DEFAULT_POLICY
    other = tmp_path / "other.yml"
    assert policies.policy_path({"MICROBUY_POLICY": str(other)}) == Path(other)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nowhere.yml")


def test_never_half_loaded(kit, tmp_path):
    good = tmp_path / "policy.yml"
    good.write_text(kit.yaml, encoding="utf-8")
    before = load_policy(good)
    good.write_text(kit.variant_text(("- {up_to: 5000, levels: [manager]}", "- {up_to: 5000, levels: [nobody]}")),
                    encoding="utf-8")
    loaded = None
    with pytest.raises(PolicyError):
        loaded = load_policy(good)
    assert loaded is None  # nothing came back
    # What was loaded before is untouched and still works.
    assert before.version == kit.policy.version
    assert [t.levels for t in before.rules.approval.tiers] == [t.levels for t in kit.rules.approval.tiers]
    result = kit.judge(policy=before)
    assert result.policy_version == kit.policy.version
