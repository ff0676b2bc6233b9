"""Checks that the dialogue project and the policy agree, for `microbuy dialogue check`.

Rasa's own validation (`rasa data validate`) knows the Rasa files but not the policy or our
actions; these checks cover what falls between them:
- every request field a policy rule reads is asked by the form, or filled in by the actions;
- every question the form can ask exists in the domain (slot, form, question) and is named in
  fields.yml (or worded by the policy's `requirements:`), in every language of the pack;
- every entry of fields.yml is a slot of the domain;
- every policy category has training phrases, and the generated ones are up to date;
- every response the actions send is in the domain;
- the NLU's detour check (config.yml, dialogues/rasa_plugins/nlu_detours.py) knows the same detours as the
  slots' `not_intent`;
- every response, and every text of texts.yml, exists in every language of the pack, with the same
  {placeholders} and buttons, and the `language` slot starts in the pack's default language.

Each function takes the Rasa project folder (normally dialogues/project/) and returns Problems,
each one line naming the file and what to do. The Python code that sends responses is read from
the folder the project sits in (dialogues/ for dialogues/project/: the actions and the rest).
"""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, Iterable, List, Optional, Set, Tuple, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

import workflow
from policies import Evaluation, LoadedPolicy
from policies.catalogue import entry_problems
from policies.rules import INPUTS

from . import policy_nlu
from .draft import ANSWER_SLOTS, CONFIRM, Draft, slot_of
from .languages import ENTITY as LANGUAGE_SLOT
from .training import rasa_env

FORM = "purchase_form"
# Request fields a rule reads that nobody is asked for, and why that is right.
NOT_ASKED = {
    "card_id": "a purchase goes on its cost centre's card (approval.cost_centres.*.card) unless a card is given",
}
# Rasa warnings that are not problems here: responses sent by our actions look unused to Rasa,
# and an intent the Slack app sends (/revise_request) has no typed examples.
_UNUSED_RESPONSE = re.compile(r"The utterance '([^']+)' is not used in any story or rule")
_NOTES = (_UNUSED_RESPONSE, re.compile(r"is listed in the domain file, but is not found in the NLU training data"))


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    line: Optional[int] = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


def check_project(project: Path, policy: LoadedPolicy) -> List[Problem]:
    """Every check below, in the order an admin would fix them."""
    try:
        domain = Domain.load(project)
    except ValueError as exc:
        return [Problem(_shown(project / "domain.yml"), str(exc))]
    return [
        *check_policy_fields(project, policy, domain),
        *check_questions(project, policy, domain),
        *check_fields_file(project, policy, domain),
        *check_category_phrases(project, policy),
        *check_responses(project, domain),
        *check_detours(project),
        *check_languages(project, policy),
    ]


# --- the files ------------------------------------------------------------------------------------
@dataclass
class Domain:
    file: str
    slots: Set[str]
    form_slots: List[str]
    form_line: Optional[int]
    actions: Set[str]
    responses: Set[str]

    @classmethod
    def load(cls, project: Path) -> "Domain":
        path = project / "domain.yml"
        data = _yaml(path)
        forms = data.get("forms") or {}
        form = forms.get(FORM) or {}
        return cls(
            file=_shown(path),
            slots=set(data.get("slots") or {}),
            form_slots=[str(slot) for slot in form.get("required_slots") or []],
            form_line=_line(forms, FORM),
            actions={str(action) for action in data.get("actions") or []},
            responses=set(data.get("responses") or {}),
        )

    def asks(self, slot: str) -> bool:
        """Rasa asks a form's slot with the response utter_ask_<slot> or the action action_ask_<slot>."""
        return f"utter_ask_{slot}" in self.responses or f"action_ask_{slot}" in self.actions


def _yaml(path: Path) -> CommentedMap:
    try:
        with path.open(encoding="utf-8") as handle:
            data = YAML(typ="rt").load(handle)
    except OSError as exc:
        raise ValueError(f"cannot read the file: {exc.strerror}") from None
    except YAMLError as exc:
        raise ValueError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, CommentedMap):
        raise ValueError("expected a mapping of sections")
    return data


def _line(mapping, key) -> Optional[int]:
    try:
        return mapping.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _shown(path: Path) -> str:
    """A path as the admin typed it: relative to the working directory when inside it."""
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(path)
    return str(relative) if relative != Path(".") else str(path.resolve())


# --- what the policy needs ------------------------------------------------------------------------
def askable_slots(policy: LoadedPolicy) -> Dict[str, str]:
    """Every question the form can ask under this policy -> a category that asks it.

    Asks dialogues/draft.py itself, for each category and each payment method it allows, with
    the stand-alone attestation due (it is asked only when the supplier was used recently).
    """
    # Only the findings' rule ids are read: a stand-in for an evaluation will do.
    attestation_due = cast(Evaluation, SimpleNamespace(findings=(SimpleNamespace(rule="splitting.attestation"),)))
    asked: Dict[str, str] = {}
    for category in policy.rules.categories:
        draft = Draft(policy, "U0CHECK", workflow.today(policy), values={"category": category})
        methods: List[Optional[str]] = [*draft.payment_methods()] or [None]
        for method in methods:
            draft.values["payment_method"] = method
            for slot in draft.required_slots(attestation_due):
                asked.setdefault(slot, category)
    return asked


def _requirement_slots(policy: LoadedPolicy) -> Set[str]:
    """Questions the policy words itself (`requirements:`), which need no entry in fields.yml."""
    return {slot_of(requirement.field) for requirement in policy.rules.requirements.values()}


def check_policy_fields(project: Path, policy: LoadedPolicy, domain: Optional[Domain] = None) -> List[Problem]:
    """Every request field a rule reads is asked by the form or filled in by the actions."""
    domain = domain or Domain.load(project)
    readers: Dict[str, List[str]] = {}
    for rule, fields in INPUTS.items():
        for field in fields:
            readers.setdefault(field, []).append(rule)
    for key, requirement in policy.rules.requirements.items():
        readers.setdefault(requirement.field, []).append(f"requirements.{key}")
    asked = askable_slots(policy)
    # What the actions fill in with no question: the requester, and choices the policy leaves open to one.
    filled = set(Draft(policy, "U0CHECK", workflow.today(policy)).request_data())
    problems = []
    for field, rules in sorted(readers.items()):
        slot = slot_of(field)
        if field in filled or field in NOT_ASKED or slot in asked:
            continue  # a question this policy can ask is checked by check_questions
        readers_text = f"the policy's {', '.join(sorted(rules))} read(s) the request field '{field}'"
        if slot not in ANSWER_SLOTS:
            problems.append(Problem(domain.file, (
                f"{readers_text}, but the conversation has no question for it: add the slot '{slot}' to "
                f"dialogues/draft.py (ANSWER_SLOTS, required_slots) and to forms.{FORM}.required_slots"),
                domain.form_line))
        elif slot not in domain.form_slots:
            problems.append(Problem(domain.file, (
                f"{readers_text}, but forms.{FORM}.required_slots does not list the slot '{slot}': add it"),
                domain.form_line))
    return problems


def check_questions(project: Path, policy: LoadedPolicy, domain: Optional[Domain] = None) -> List[Problem]:
    """Every question the form can ask is a slot, is in the form, and has its question."""
    domain = domain or Domain.load(project)
    problems = []
    if not domain.form_slots:
        return [Problem(domain.file, f"no form '{FORM}' with required_slots: the purchase questions are missing")]
    for slot, category in sorted(askable_slots(policy).items()):
        where = f"the slot '{slot}' (asked for the category '{category}')"
        if slot not in domain.slots:
            problems.append(Problem(domain.file,
                                    f"{where} is not under slots: add it, mapped from_text while {FORM} asks it"))
        if slot not in domain.form_slots:
            problems.append(Problem(domain.file, f"{where} is not in forms.{FORM}.required_slots: add it",
                                    domain.form_line))
        if not domain.asks(slot):
            problems.append(Problem(domain.file, f"{where} has no question: add the response utter_ask_{slot} "
                                                 f"(or the action action_ask_{slot})"))
    return problems


def check_fields_file(project: Path, policy: LoadedPolicy, domain: Optional[Domain] = None) -> List[Problem]:
    """fields.yml names every question the form asks (label, words, why) in every language of the
    pack, and names nothing that is not a slot."""
    domain = domain or Domain.load(project)
    path = project / "fields.yml"
    shown = _shown(path)
    try:
        fields = _yaml(path)
    except ValueError as exc:
        return [Problem(shown, str(exc))]
    problems = []
    for slot in fields:
        if slot not in domain.slots:
            problems.append(Problem(shown, f"'{slot}' is not a slot of {domain.file}: "
                                           "correct the name or delete the entry",
                                    _line(fields, slot)))
    worded_by_policy = _requirement_slots(policy) | {CONFIRM}
    for slot in sorted(askable_slots(policy)):
        if slot not in fields and slot not in worded_by_policy:
            problems.append(Problem(shown,
                                    f"the form asks '{slot}' but it has no entry here: add its label, words and why"))
    languages = policy.rules.pack.languages
    for slot, entry in fields.items():
        for part in ("label", "words", "why"):
            texts = entry.get(part) if isinstance(entry, dict) else None
            missing = [language for language in languages if not (isinstance(texts, dict) and texts.get(language))]
            if missing:
                problems.append(Problem(shown, f"{slot}.{part}: missing the {', '.join(missing)} text",
                                        _line(fields, slot)))
    return problems


# --- training phrases -----------------------------------------------------------------------------
_ITEM = re.compile(r"\[([^\]]+)\]\(item\)")


def check_category_phrases(project: Path, policy: LoadedPolicy) -> List[Problem]:
    """Every category has examples the NLU learns it from, and the generated file is current."""
    data = project / "data"
    items = {match.lower().strip() for path in sorted(data.glob("*.yml"))
             for match in _ITEM.findall(path.read_text(encoding="utf-8"))}
    generated = data / policy_nlu.OUTPUT.name
    shown = _shown(generated)
    regenerate = f"run: python -m dialogues.policy_nlu --policy {policy.file}, then microbuy train"
    pack = policy.rules.pack
    problems = []
    for key, category in policy.rules.categories.items():
        words = [category.name.get_text(pack.default_language, pack.default_language),
                 *(word for language in dict.fromkeys(["en", pack.default_language])
                   for word in category.synonyms.get(language, []))]
        if not any(word.lower().strip() in items for word in words):
            problems.append(Problem(shown, f"the category '{key}' has no training phrases: {regenerate}"))
    current = generated.read_text(encoding="utf-8") if generated.exists() else ""
    if not problems and current != policy_nlu.build(policy):
        problems.append(Problem(shown,
                                f"out of date with {policy.file} (categories or provinces changed): {regenerate}"))
    return problems


# --- responses the actions send -------------------------------------------------------------------
# A name ends in a letter or digit (so a prefix such as "utter_ask_" is not one); "utter_action" is
# the key under which Rasa records which response a message came from.
_RESPONSE = re.compile(r"""(?<![\w{])["'](utter_\w*[A-Za-z0-9])["']""")
_NOT_RESPONSES = {"utter_action"}
_RESPONSE_PER_SLOT = re.compile(r"""f["'](utter_\w*)\{self\.slot\}["']""")
_SLOT_ATTRIBUTE = re.compile(r"""^\s+slot\s*=\s*["'](\w+)["']""", re.MULTILINE)


def code_of(project: Path) -> Path:
    """The folder of the Python code that sends the project's responses: the one the project sits
    in (dialogues/ for dialogues/project/), with the actions in its actions/."""
    return project.parent


def responses_used(project: Path) -> List[Tuple[Path, int, str]]:
    """(file, line, response) for each response name in the Python code around the project
    (code_of); a name built per slot (f"utter_choose_{self.slot}") is expanded with the file's
    `slot = "..."`."""
    used = []
    for path in sorted(code_of(project).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        slots = _SLOT_ATTRIBUTE.findall(text)
        for number, line in enumerate(text.splitlines(), start=1):
            used += [(path, number, name) for name in _RESPONSE.findall(line) if name not in _NOT_RESPONSES]
            used += [(path, number, prefix + slot) for prefix in _RESPONSE_PER_SLOT.findall(line) for slot in slots]
    return used


DETOUR_CHECK = "dialogues.rasa_plugins.nlu_detours.DetourCheck"


def check_detours(project: Path) -> List[Problem]:
    """The detour intents DetourCheck guards are the ones the form's free-text answers exclude
    (`not_intent` of the from_text mappings): a detour it does not know can take a made-up name
    for a detour again; one the slots do not exclude is an answer, and needs no guard."""
    config_path, domain_path = project / "config.yml", project / "domain.yml"
    try:
        config, domain = _yaml(config_path), _yaml(domain_path)
    except ValueError:
        return []  # reported by rasa data validate and Domain.load
    pipeline = config.get("pipeline") or []
    index = next((i for i, c in enumerate(pipeline) if isinstance(c, dict) and c.get("name") == DETOUR_CHECK), None)
    if index is None:
        return []
    line = _line(pipeline[index], "name") if hasattr(pipeline[index], "lc") else None
    guarded = {str(intent) for intent in pipeline[index].get("intents") or []}
    excluded: Set[str] = set()
    for slot in (domain.get("slots") or {}).values():
        for mapping in (slot or {}).get("mappings") or []:
            if mapping.get("type") == "from_text":
                excluded |= {str(intent) for intent in mapping.get("not_intent") or []}
    if guarded == excluded:
        return []
    missing, extra = sorted(excluded - guarded), sorted(guarded - excluded)
    said = []
    if missing:
        said.append(f"add {', '.join(missing)} (a detour of the slots' not_intent)")
    if extra:
        said.append(f"remove {', '.join(extra)} (no slot excludes it, so it is an answer)")
    return [Problem(_shown(config_path), f"{DETOUR_CHECK} intents: {'; '.join(said)}", line)]


def check_responses(project: Path, domain: Optional[Domain] = None) -> List[Problem]:
    domain = domain or Domain.load(project)
    return [Problem(_shown(path), f"sends the response '{name}', which {domain.file} does not have: "
                                  "add it under responses: or correct the name", number)
            for path, number, name in responses_used(project) if name not in domain.responses]


# --- every language of the pack -------------------------------------------------------------------
# A response's text without a condition is the English one; each other language is a variation
# chosen by the `language` slot.
UNCONDITIONAL_LANGUAGE = "en"


def _placeholders(text: object) -> Set[str]:
    return set(re.findall(r"{([^{}]+)}", str(text or "")))


def _variation_language(variation) -> Optional[str]:
    for condition in variation.get("condition") or []:
        if condition.get("type") == "slot" and condition.get("name") == LANGUAGE_SLOT:
            return str(condition.get("value"))
    return None


def check_languages(project: Path, policy: LoadedPolicy) -> List[Problem]:
    pack = policy.rules.pack
    others = [language for language in pack.languages if language != UNCONDITIONAL_LANGUAGE]
    path = project / "domain.yml"
    shown = _shown(path)
    try:
        data = _yaml(path)
    except ValueError as exc:
        return [Problem(shown, str(exc))]
    problems = []
    slot = (data.get("slots") or {}).get(LANGUAGE_SLOT) or {}
    if slot.get("initial_value") != pack.default_language:
        problems.append(Problem(shown, f"slots.{LANGUAGE_SLOT}.initial_value is {slot.get('initial_value')!r}: make it "
                                       f"the pack's default language, {pack.default_language}",
                                       _line(data.get("slots") or {}, LANGUAGE_SLOT)))
    responses = data.get("responses") or {}
    for name, variations in responses.items():
        plain = next((v for v in variations or [] if not v.get("condition")), None)
        if plain is None:
            continue
        for language in others:
            found = next((v for v in variations if _variation_language(v) == language), None)
            where = f"responses.{name}"
            if found is None:
                problems.append(Problem(shown, f"{where} has no {language} text: add a variation with "
                                               f"condition: [{{type: slot, name: {LANGUAGE_SLOT}, value: {language}}}]",
                                        _line(responses, name)))
                continue
            if _placeholders(found.get("text")) != _placeholders(plain.get("text")):
                problems.append(Problem(shown, f"{where}: the {language} text has "
                                               f"{sorted(_placeholders(found.get('text')))}, the English one "
                                               f"{sorted(_placeholders(plain.get('text')))}: "
                                               "use the same {placeholders}", _line(responses, name)))
            payloads = [b.get("payload") for b in found.get("buttons") or []]
            if payloads != [b.get("payload") for b in plain.get("buttons") or []]:
                problems.append(Problem(shown, f"{where}: the {language} buttons send {payloads}, not what the "
                                               "English ones send: keep the payloads, translate the titles",
                                        _line(responses, name)))
    texts_path = project / "texts.yml"
    try:
        texts = _yaml(texts_path)
    except ValueError as exc:
        return problems + [Problem(_shown(texts_path), str(exc))]
    for key, entry in texts.items():
        # The same check as the action server's when it reads the file (dialogues/wording.py), with
        # the pack's languages: a language may leave a placeholder out, never add one.
        for problem in entry_problems(entry, pack.languages, UNCONDITIONAL_LANGUAGE, may_leave_out=True):
            problems.append(Problem(_shown(texts_path), f"{key}: {problem}", _line(texts, key)))
    return problems


# --- Rasa's own validation ------------------------------------------------------------------------
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WARNING = re.compile(r"UserWarning: (.*)")
_ERROR = re.compile(r"\bERROR\s+\S+\s+-\s+(.*)")


def rasa_validate(project: Path) -> Tuple[List[Problem], List[str]]:
    """`rasa data validate` in the project: (problems, notes).

    Rasa exits 0 on many real errors (an unknown response in a rule is only a warning), so each
    warning is a problem except the two kinds that are normal here (see _NOTES)."""
    rasa = Path(sys.executable).with_name("rasa")
    shown = _shown(project)
    try:
        result = subprocess.run(
            [str(rasa), "data", "validate", "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
            cwd=project, capture_output=True, text=True, env=rasa_env(), timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [Problem(shown, f"rasa data validate could not run: {exc}")], []
    output = _ANSI.sub("", result.stdout + result.stderr)
    sent = {name for _, _, name in responses_used(project)}
    problems, notes = [], []
    for message in _messages(output):
        unused = _UNUSED_RESPONSE.search(message)
        if unused and (unused.group(1) in sent or unused.group(1).startswith("utter_ask_")):
            continue  # sent by an action, or asked by the form
        if unused:
            notes.append(f"{_shown(project / 'domain.yml')}: the response '{unused.group(1)}' is sent by no rule, "
                         "story or action, so nobody sees it: use it or delete it")
        elif any(pattern.search(message) for pattern in _NOTES):
            notes.append(f"{shown}: rasa data validate: {message}")
        else:
            problems.append(Problem(shown, f"rasa data validate: {message}"))
    if result.returncode != 0 and not problems:
        tail = " | ".join(line.strip() for line in output.strip().splitlines()[-5:])
        problems.append(Problem(shown, f"rasa data validate failed (exit {result.returncode}): {tail}"))
    return problems, notes


def _messages(output: str) -> Iterable[str]:
    for line in output.splitlines():
        match = _WARNING.search(line) or _ERROR.search(line)
        if match:
            yield match.group(1).strip()
