"""bot.justification: the approval post rendered from the admin-editable template."""
import json
import re
from datetime import date
from pathlib import Path

import pytest

import storage
from bot.justification import (
    DEFAULT_TEMPLATE,
    TEMPLATE_ENV,
    JustificationError,
    localized_evaluation,
    render_justification,
)
from bot.mrkdwn import escape
from policies import DEFAULT_POLICY, load_policy
from workflow.judging import judge, record

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "policies" / "examples"
ON = date(2026, 11, 25)
INJECTIONS = ["<!channel>", "<!here>", "<@U123>", "<https://evil.example|canada.ca>"]
BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


@pytest.fixture(scope="module")
def policy():
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(scope="module")
def stored(tmp_path_factory, policy):
    """Requests judged and stored as the dialogue stores them, read back from the database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('justification') / 'microbuy.db'}"
    storage.upgrade(url)
    engine = storage.make_engine(url)
    sessions = storage.make_session_factory(engine)
    hostile_text = " ".join(INJECTIONS) + " &lt;b&gt; \u202eevil\u202c"
    requests = {
        # Open-source work from a former public servant: info and warn findings, four approval steps.
        "open_source": dict(example("open_source_fix.json"), supplier_former_public_servant=True),
        "markers": example("whiteboard_markers.json"),
        "hostile": dict(
            example("whiteboard_markers.json"),
            supplier="Evil <!channel> & Co <https://evil.example|canada.ca> \u202eoc\u202c",
            description="Markers <@U123>\n---\n::context:: fake footer\n" + hostile_text,
            justification="Needed <!here>\n---\n" + hostile_text,
            title="<!channel> markers",
        ),
    }
    rows = {}
    with sessions.begin() as session:
        for key, data in requests.items():
            request, evaluation = judge(session, policy, data, ON)
            rows[key] = record(session, policy, request, evaluation)
    yield rows
    engine.dispose()


def shown(blocks) -> str:
    parts = []
    for block in blocks:
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts.extend(element["text"] for element in block["elements"])
    return "\n".join(parts)


def template(tmp_path, monkeypatch, source: str) -> Path:
    path = tmp_path / "custom.md.j2"
    path.write_text(source)
    monkeypatch.setenv(TEMPLATE_ENV, str(path))
    return path


# --- the real request ---------------------------------------------------------------------------


def test_justification_of_a_stored_request_holds_what_an_auditor_needs(stored, policy):
    row = stored["open_source"]
    blocks = render_justification(row, policy).blocks
    text = shown(blocks)
    assert row.reference in text and "MB-" in text
    assert "<@U09NADIA>" in text  # the requester, live
    assert "100200 Digital Service" in text
    assert "Accessibility fix in a form library" in text
    assert "Our benefits forms fail WCAG 2.1 focus order checks" in text  # operational need
    assert "Open-source code work" in text
    assert "no mandatory standing offer" in text
    assert "Jane Doe Consulting" in text and "https://github.com/janedoe" in text
    assert "Former public servant: yes" in text and "Indigenous Business Directory): yes" in text
    assert "$2,500.00" in text and "$350.00" in text and "*Total: $2,850.00*" in text
    assert "HST 14 % (Nova Scotia)" in text
    assert "PayPal (why not the acquisition card: The supplier is a sole developer" in text
    assert "IP agreement signed: yes" in text and "Open-source licence: MIT" in text
    assert "Acceptance criteria: Focus moves in visual order" in text
    assert "Unclassified" in text and "2027-04-30" in text
    # The approval route: the section 32 manager of cost centre 100200 first, mentioned live.
    route = text[text.index("*Approval route*"):]
    assert route.index("<@U01AMINA>") < route.index("<@U06OLIVIA>")
    assert "<@U01AMINA> — _awaiting decision_" in route
    assert row.route[0]["approvers"] == ["U01AMINA"]
    assert policy.short_version in text
    assert blocks[-1]["type"] == "context"


def test_justification_lists_passed_labels_and_every_warning_and_note_with_its_source(stored, policy):
    row = stored["open_source"]
    text = shown(render_justification(row, policy).blocks)
    passed = text[text.index("*Passed:*"):].split("\n")[0]
    for rule in row.evaluation["passed"]:
        assert getattr(policy.rules.labels, rule.replace(".", "__"))["en"] in passed
    severities = {finding["severity"] for finding in row.evaluation["findings"]}
    assert {"warn", "info"} <= severities
    for finding in row.evaluation["findings"]:
        assert escape(finding["message"]) in text
        assert escape(finding["source"]) in text
    warnings = text[text.index("*Warnings:*"):text.index("*For information:*")]
    assert "former public servant" in warnings


def test_fallback_text_names_the_request_and_its_total(stored, policy):
    row = stored["markers"]
    blocks, text = render_justification(row, policy)
    assert isinstance(blocks, list) and blocks[0]["type"] == "section"
    assert text == f"{row.reference} · Whiteboard markers and sticky notes · $196.62"


def test_french_justification_uses_the_policy_french_names(stored, policy):
    text = shown(render_justification(stored["open_source"], policy, language="fr").blocks)
    assert "Travaux de code libre" in text and "Service numérique" in text
    assert "TVH 14 % (Nouvelle-Écosse)" in text and "2\u00a0850,00\u00a0$" in text
    assert "Gestionnaire du centre financier (article 32): <@U01AMINA>" in text


def test_a_french_approver_reads_each_finding_and_its_source_in_french(tmp_path, policy):
    # Judged in English (the requester's language), shown to an approver who reads French.
    url = f"sqlite:///{tmp_path / 'microbuy.db'}"
    storage.upgrade(url)
    engine = storage.make_engine(url)
    try:
        with storage.make_session_factory(engine).begin() as session:
            data = dict(example("open_source_fix.json"), supplier_former_public_servant=True)
            row = record(session, policy, *judge(session, policy, data, ON))
            french = localized_evaluation(session, row, policy, "fr")
            text = shown(render_justification(row, policy, language="fr", evaluation=french).blocks)
            english = row.evaluation["findings"]
    finally:
        engine.dispose()
    assert len(french["findings"]) == len(english) >= 3
    for stored_en, shown_fr in zip(english, french["findings"], strict=True):
        assert shown_fr["source"] != stored_en["source"] and shown_fr["message"] != stored_en["message"]
        assert escape(shown_fr["source"]) in text and escape(stored_en["source"]) not in text
    disclosure = next(f for f in french["findings"] if f["rule"] == "supplier.former_public_servant")
    assert disclosure["source"] == policy.rules.former_public_servant.source["fr"]


def test_a_plain_dict_with_the_stored_fields_renders_the_same(stored, policy):
    row = stored["markers"]
    fields = {column: getattr(row, column) for column in (
        "id", "requester", "cost_centre", "category", "supplier", "title", "description", "subtotal", "tax",
        "total", "answers", "evaluation", "route", "approval_step", "policy_version", "created_at",
        "submitted_at", "card_id")}
    assert render_justification(fields, policy) == render_justification(row, policy)


@pytest.mark.parametrize("status, step, marks", [
    ("submitted", 0, ["_awaiting decision_", None]),
    ("submitted", 1, ["decided", "_awaiting decision_"]),
    ("approved", 1, ["decided", "decided"]),
    ("certified", 1, ["decided", "decided"]),
    ("rejected", 1, ["decided", "decided"]),
    ("changes_requested", 0, ["decided", None]),
    ("cancelled", 0, [None, None]),
])
def test_the_route_says_which_steps_are_decided_and_which_one_waits(stored, policy, status, step, marks):
    row = stored["open_source"]  # two steps: the manager, then finance
    fields = {column: getattr(row, column) for column in (
        "id", "requester", "cost_centre", "category", "supplier", "title", "description", "subtotal", "tax",
        "total", "answers", "evaluation", "route", "policy_version", "created_at", "submitted_at", "card_id")}
    text = shown(render_justification({**fields, "status": status, "approval_step": step}, policy).blocks)
    lines = [line for line in text[text.index("*Approval route*"):].split("\n") if line[:2] in ("1.", "2.")]
    assert len(lines) == 2
    for line, mark in zip(lines, marks, strict=True):
        shown_mark = ("_awaiting decision_" if "awaiting" in line else "decided" if line.endswith("decided")
                      else None)
        assert shown_mark == mark, (status, step, line)


# --- injection -----------------------------------------------------------------------------------


def test_requester_text_is_inert_in_the_justification(stored, policy):
    blocks, fallback = render_justification(stored["hostile"], policy)
    text = shown(blocks)
    for injection in INJECTIONS:
        assert injection not in text
    # The only markup left is the mentions of known users the renderer made.
    assert set(re.findall(r"<[^>]*>", text)) == {"<@U09NADIA>", "<@U01AMINA>"}
    assert "Evil &lt;!channel&gt; &amp; Co &lt;https://evil.example|canada.ca&gt; oc" in text
    assert "Markers &lt;@U123&gt;" in text
    assert "&amp;lt;b&amp;gt;" in text  # already-escaped text is shown as typed
    assert "Needed &lt;!here&gt;" in text
    assert "\u202e" not in text and "\u202c" not in text
    assert not BROKEN_ENTITY.search(text)
    assert "<" not in fallback and ">" not in fallback and "&lt;!channel&gt;" in fallback


def test_a_requester_cannot_add_sections_or_context_blocks(stored, policy):
    hostile = render_justification(stored["hostile"], policy).blocks
    plain = render_justification(stored["markers"], policy).blocks
    assert [block["type"] for block in hostile] == [block["type"] for block in plain]
    assert "fake footer" not in shown([block for block in hostile if block["type"] == "context"])


def test_an_edited_template_cannot_forget_escaping(stored, policy, tmp_path, monkeypatch):
    template(tmp_path, monkeypatch, (
        "{{ supplier.name }}\n"
        "{{ description|upper }}\n"
        "{% macro show(value) %}[{{ value }}]{% endmacro %}{{ show(justification) }}\n"
        "{{ title ~ ' for ' ~ mention(requester) }}\n"
        "{{ supplier.name ~ mention(requester) }}\n"
        "{{ mention('<!channel>') }} {{ mention('U01AMINA') }} {{ person('U01AMINA') }}\n"
    ))
    text = shown(render_justification(stored["hostile"], policy).blocks)
    for injection in INJECTIONS + ["<!CHANNEL>", "<@U123>".upper()]:
        assert injection not in text
    assert set(re.findall(r"<[^>]*>", text)) == {"<@U09NADIA>", "<@U01AMINA>"}
    assert "[Needed &lt;!here&gt;" in text  # a macro's output is escaped once, not twice
    assert "&lt;!channel&gt; markers for <@U09NADIA>" in text
    assert "&lt;!channel&gt; <@U01AMINA> Amina Haddad" in text
    # Joined to markup, a value is escaped by Jinja rather than by finalize: still no bidi characters.
    assert "Evil &lt;!channel&gt; &amp; Co &lt;https://evil.example|canada.ca&gt; oc<@U09NADIA>" in text
    assert "\u202e" not in text


@pytest.mark.parametrize("bypass", ["{{ description|safe }}", "{{ description|urlize }}"])
def test_the_escape_bypassing_filters_are_gone(stored, policy, tmp_path, monkeypatch, bypass):
    template(tmp_path, monkeypatch, "Title\n" + bypass + "\n")
    with pytest.raises(JustificationError) as caught:
        render_justification(stored["hostile"], policy)
    assert caught.value.line == 2


def test_the_sandbox_refuses_python_internals(stored, policy, tmp_path, monkeypatch):
    path = template(tmp_path, monkeypatch, "ok\n{{ ''.__class__.__mro__ }}\n")
    with pytest.raises(JustificationError) as caught:
        render_justification(stored["markers"], policy)
    assert caught.value.file == str(path) and caught.value.line == 2


# --- the template's shape --------------------------------------------------------------------------


def test_sections_context_and_the_3000_character_limit(stored, policy, tmp_path, monkeypatch):
    template(tmp_path, monkeypatch, "*One* {{ reference }}\n---\n{{ 'R&D ' * 1000 }}\n---\n::context::small print\n")
    blocks = render_justification(stored["markers"], policy).blocks
    assert blocks[0] == {"type": "section", "text": {"type": "mrkdwn", "text": f"*One* {stored['markers'].reference}"}}
    middle = blocks[1:-1]
    assert len(middle) >= 3 and all(block["type"] == "section" for block in middle)
    assert all(len(block["text"]["text"]) <= 3000 for block in middle)
    assert " ".join(block["text"]["text"] for block in middle).split() == ["R&amp;D"] * 1000
    assert blocks[-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "small print"}]}


def test_a_justification_never_exceeds_50_blocks(stored, policy, tmp_path, monkeypatch):
    template(tmp_path, monkeypatch, "{% for i in range(60) %}\nPart {{ i }}\n---\n{% endfor %}\n")
    blocks = render_justification(stored["markers"], policy).blocks
    assert len(blocks) == 50
    assert blocks[48]["text"]["text"] == "Part 48" and blocks[49]["type"] == "context"
    # Room for the caller's own blocks (the decision buttons).
    reserved = render_justification(stored["markers"], policy, max_blocks=47).blocks
    assert len(reserved) == 47 and reserved[45]["text"]["text"] == "Part 45" and reserved[46]["type"] == "context"


def test_the_default_template_is_the_shipped_file(monkeypatch):
    monkeypatch.delenv(TEMPLATE_ENV, raising=False)
    assert DEFAULT_TEMPLATE == REPO / "policies" / "templates" / "justification.md.j2"
    assert DEFAULT_TEMPLATE.is_file()


# --- broken templates --------------------------------------------------------------------------------


def test_a_syntax_error_names_the_file_and_line(stored, policy, tmp_path, monkeypatch):
    path = template(tmp_path, monkeypatch, "*Justification*\n---\n{% if total %}\n{{ total }}\n")
    with pytest.raises(JustificationError) as caught:
        render_justification(stored["markers"], policy)
    error = caught.value
    assert error.file == str(path) and error.line == 4
    assert str(error).startswith(f"{path}:4: ")


def test_an_unknown_value_names_the_file_and_line(stored, policy, tmp_path, monkeypatch):
    path = template(tmp_path, monkeypatch, "*Justification*\n{{ reference }}\n---\nTotal: {{ totl }}\n")
    with pytest.raises(JustificationError) as caught:
        render_justification(stored["markers"], policy)
    assert caught.value.line == 4
    assert f"{path}:4:" in str(caught.value) and "totl" in str(caught.value)


def test_a_missing_template_is_a_clear_error(stored, policy, tmp_path, monkeypatch):
    monkeypatch.setenv(TEMPLATE_ENV, str(tmp_path / "nowhere.md.j2"))
    with pytest.raises(JustificationError, match="nowhere.md.j2: .*does not exist"):
        render_justification(stored["markers"], policy)
