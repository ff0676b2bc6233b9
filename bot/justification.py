"""The purchase justification posted to the approval channel, from an admin-editable template.

    blocks, text = render_justification(request_row, policy, language="en")
    client.chat_postMessage(channel=..., blocks=blocks, text=text)

The template (`policies/templates/justification.md.j2`, or the file MICROBUY_JUSTIFICATION_TEMPLATE
names) is Jinja2 run in a sandbox. It writes Slack mrkdwn; a line holding only `---` starts a
new section block, and a section whose first line starts with `::context::` becomes a context
block (small grey text). Sections longer than Slack's 3,000 characters are cut at line breaks.

Safety does not depend on the template: every value the template prints goes through
`finalize`, which escapes it for mrkdwn (`<!channel>` typed by a requester stays text), and
every text in the values has its control and bidi characters removed before rendering. The
only live markup a value can produce is `mention(user_id)`, which accepts Slack user ids only.
The `safe` and `urlize` filters are removed. A broken template raises JustificationError naming
the file and line; nothing half-rendered is posted.
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, List, Mapping, NamedTuple, Optional
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from policies import LoadedPolicy, format_money
from policies.facts import in_force
from settings import Settings

from . import mrkdwn
from .texts import USER_ID, t

log = logging.getLogger(__name__)

TEMPLATE_ENV = "MICROBUY_JUSTIFICATION_TEMPLATE"
DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "policies" / "templates" / "justification.md.j2"

SECTION_TEXT_LIMIT = 3000
MAX_BLOCKS = 50
# Template lines that shape the message become characters no value can hold (clean() removes
# every control character from values), so a requester's "---" cannot start a section. Not
# \x1c-\x1f: Python counts those as whitespace, and strip() would eat them.
_SECTION = "\x01"
_CONTEXT = "\x02"
_SEPARATOR_LINE = re.compile(r"^[ \t]*---[ \t]*$", re.MULTILINE)
_CONTEXT_MARKER = re.compile(r"^([ \t]*)::context::", re.MULTILINE)


class JustificationError(Exception):
    """The justification template cannot be rendered: which file, which line, what is wrong."""

    def __init__(self, file: str, line: Optional[int], problem: str):
        self.file, self.line, self.problem = file, line, problem
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: the justification template is broken: {problem}")


class Justification(NamedTuple):
    """A rendered justification: its Block Kit blocks and the plain-text fallback (`text=`)."""

    blocks: List[dict]
    text: str


def template_path(env: Optional[Mapping[str, str]] = None) -> Path:
    """The justification template in force: MICROBUY_JUSTIFICATION_TEMPLATE, else the default
    (`env` instead of os.environ)."""
    return Settings.read(TEMPLATE_ENV, env) or DEFAULT_TEMPLATE


# --- the sandbox ------------------------------------------------------------------------------


def mention(user_id: object) -> str:
    """A live `<@U...>` mention for a Slack user id; anything else is shown as inert text."""
    text = mrkdwn.clean(user_id).strip()
    if USER_ID.match(text):
        return Markup(f"<@{text}>")
    return text  # plain text: finalize escapes it like any other value


def _finalize(value: object) -> object:
    """Every value the template prints: mrkdwn-escaped, unless it is already-safe markup
    (a mention, or the output of the template's own macros, whose values were escaped)."""
    if isinstance(value, Markup):
        return value
    return Markup(mrkdwn.escape(value))


class _Loader(FileSystemLoader):
    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        source = _SEPARATOR_LINE.sub(_SECTION, source)
        source = _CONTEXT_MARKER.sub(lambda m: m.group(1) + _CONTEXT, source)
        return source, filename, uptodate


@lru_cache(maxsize=8)
def _environment(directory: str) -> SandboxedEnvironment:
    # autoescape on, with finalize doing mrkdwn escaping: a printed value comes out escaped,
    # and a macro's output (already escaped inside) is not escaped twice.
    env = SandboxedEnvironment(
        loader=_Loader(directory), autoescape=True, finalize=_finalize, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, auto_reload=True,
    )
    for unsafe in ("safe", "urlize"):
        env.filters.pop(unsafe, None)
    return env


# --- the values the template sees -------------------------------------------------------------


def _get(row: Any, key: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        value = row.get(key, default)
    else:
        value = getattr(row, key, default)
    return default if value is None else value


def _decimal(value: Any) -> Optional[Decimal]:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _day(value: Any, zone: ZoneInfo) -> str:
    """A timestamp as its date in the pack's time zone (storage keeps UTC); a date as itself."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)  # storage keeps UTC
        return value.astimezone(zone).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return ""


def _cleaned(value: Any) -> Any:
    """Every text in the values without control or bidi characters, however deep."""
    if isinstance(value, (str, Markup)):
        return value if isinstance(value, Markup) else mrkdwn.clean(value)
    if isinstance(value, Mapping):
        return {key: _cleaned(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cleaned(item) for item in value]
    return value


@dataclass
class _Words:
    policy: LoadedPolicy
    language: str

    @property
    def default(self) -> str:
        return self.policy.rules.pack.default_language

    def text(self, local: Any, fallback: str = "") -> str:
        return local.get_text(self.language, self.default) if local is not None else fallback

    def label(self, rule_id: str) -> str:
        local = getattr(self.policy.rules.labels, rule_id.replace(".", "__"), None)
        return self.text(local, rule_id)


def justification_values(request: Any, policy: LoadedPolicy, language: str = "en",
                         evaluation: Optional[Mapping[str, Any]] = None) -> dict:
    """What the template can print, named as in the comment at the top of the template.
    `evaluation` replaces the request's stored one (localized_evaluation: findings in `language`)."""
    rules = policy.rules
    pack = rules.pack
    if language not in pack.languages:
        language = pack.default_language
    words = _Words(policy, language)
    answers = dict(_get(request, "answers", {}) or {})
    evaluation = dict(evaluation if evaluation is not None else (_get(request, "evaluation", {}) or {}))
    currency = evaluation.get("currency") or pack.currency
    locale = pack.locale_for(language)
    zone = ZoneInfo(pack.timezone)

    def money(amount: Any) -> str:
        number = _decimal(amount)
        return format_money(number, currency=currency, locale=locale) if number is not None else ""

    def answer(key: str, default: Any = None) -> Any:
        value = answers.get(key)
        return default if value is None else value

    reference = _get(request, "reference")
    if not reference and _get(request, "id") is not None:
        reference = f"MB-{int(_get(request, 'id')):06d}"

    cost_centre = str(_get(request, "cost_centre", answer("cost_centre", "")))
    centre = rules.approval.cost_centres.get(cost_centre)
    category_id = str(_get(request, "category", answer("category", "")))
    category = rules.categories.get(category_id)
    offer = rules.standing_offers.get(category.standing_offer) if category and category.standing_offer else None
    province = str(answer("province", ""))
    jurisdiction = rules.tax.jurisdictions.get(province)
    method_id = str(answer("payment_method", ""))
    method = rules.payment.methods.get(method_id)
    level_id = str(answer("data_classification", ""))
    tax_label = evaluation.get("tax_label", "")
    rate = _rate_on(jurisdiction, evaluation.get("evaluated_on"))
    if rate is not None and rate.kind in rules.tax.kinds:
        tax_label = words.text(rules.tax.kinds[rate.kind], tax_label)  # in the justification's language
    passed_ids = list(evaluation.get("passed") or [])

    requirements = []
    for key in (category.requires if category else []):
        requirement = rules.requirements.get(key)
        if requirement is None:
            continue
        requirements.append({
            "key": key, "field": requirement.field, "kind": requirement.kind,
            "label": words.text(requirement.label) or words.text(requirement.question),
            "answer": answer(requirement.field),
        })

    findings = []
    for finding in evaluation.get("findings") or []:
        findings.append({
            "rule": finding.get("rule", ""), "label": words.label(finding.get("rule", "")),
            "severity": finding.get("severity", ""), "message": finding.get("message", ""),
            "source": finding.get("source", ""), "field": finding.get("field"),
        })

    step_index = int(_get(request, "approval_step", 0) or 0)
    status = str(_get(request, "status", "submitted") or "submitted")
    # Only a request waiting for approval has a step awaiting a decision; after the last approval
    # every step is decided, and a rejection or a request for changes decided the step it stopped at.
    all_decided = status in ("approved", "purchased", "received", "certified")
    stopped_at = step_index if status in ("rejected", "changes_requested") else -1
    route = []
    for index, step in enumerate(_get(request, "route", None) or evaluation.get("approval_route") or []):
        level = rules.approval.levels.get(step.get("level", ""))
        approvers = list(step.get("approvers") or [])
        delegates = list(step.get("delegates") or [])
        route.append({
            "level": step.get("level", ""), "name": words.text(level.name) if level else step.get("name", ""),
            "approvers": approvers, "delegates": delegates,
            "approver_names": [_person(rules, person) for person in approvers],
            "delegate_names": [_person(rules, person) for person in delegates],
            "current": status == "submitted" and index == step_index,
            "done": index < step_index or all_decided or index == stopped_at, "number": index + 1,
        })

    version = str(_get(request, "policy_version", evaluation.get("policy_version", "")))
    values = {
        "language": language,
        "reference": reference or "",
        "submitted_on": _day(_get(request, "submitted_at") or _get(request, "created_at"), zone),
        "evaluated_on": evaluation.get("evaluated_on", ""),
        "outcome": evaluation.get("outcome", ""),
        "requester": str(_get(request, "requester", answer("requester", ""))),
        "requester_name": _person(rules, str(_get(request, "requester", answer("requester", "")))),
        "team_id": _get(request, "team_id", ""),
        "cost_centre": cost_centre,
        "cost_centre_name": words.text(centre.name) if centre else "",
        "card": _get(request, "card_id", answer("card_id", "")),
        "title": _get(request, "title", answer("title", "")),
        "description": _get(request, "description", answer("description", "")),
        "justification": answer("justification", ""),
        "category": category_id,
        "category_name": words.text(category.name, category_id) if category else category_id,
        "category_kind": category.kind if category else "",
        "standing_offer_check": {
            "label": words.label("category.allowed"),
            "passed": "category.allowed" in passed_ids,
            "standing_offer": words.text(offer.name) if offer else "",
        },
        "supplier": {
            "name": _get(request, "supplier", answer("supplier", "")),
            "url": answer("supplier_url", ""),
            "small_business": answers.get("supplier_small_business"),
            "indigenous": answers.get("supplier_indigenous"),
            "former_public_servant": bool(answers.get("supplier_former_public_servant", False)),
        },
        "quantity": answer("quantity", ""),
        "unit_price": money(answer("unit_price")),
        "subtotal": money(_get(request, "subtotal", evaluation.get("subtotal"))),
        "tax": money(_get(request, "tax", evaluation.get("tax"))),
        "total": money(_get(request, "total", evaluation.get("total"))),
        "tax_label": tax_label,
        "tax_percent": evaluation.get("tax_percent", ""),
        "currency": currency,
        "province": province,
        "province_name": words.text(jurisdiction.name, province) if jurisdiction else province,
        "recurring": bool(answers.get("recurring", False)),
        "payment": {
            "method": method_id,
            "name": words.text(method.name, method_id) if method else method_id,
            "is_card": method_id == "acquisition_card",
            "reason": answer("payment_reason", ""),
        },
        "attest_standalone": answers.get("attest_standalone"),
        "attest_no_internal_capacity": answers.get("attest_no_internal_capacity"),
        "requirements": requirements,
        "data_classification": level_id,
        "data_classification_name": words.text(rules.data_classification.levels.get(level_id), level_id),
        "needed_by": _day(answer("needed_by", ""), zone),
        "route": route,
        "current_step": route[step_index] if 0 <= step_index < len(route) else None,
        "policy_version": version,
        "policy_version_short": version[:12],
        "policy_is_current": version == policy.version,
        "passed": [{"rule": rule, "label": words.label(rule)} for rule in passed_ids],
        "findings": findings,
        "blocking": [f for f in findings if f["severity"] == "block"],
        "warnings": [f for f in findings if f["severity"] == "warn"],
        "notes": [f for f in findings if f["severity"] == "info"],
    }
    cleaned = _cleaned(values)
    cleaned.update(label=lambda rule_id: mrkdwn.clean(words.label(str(rule_id))), money=money,
                   person=lambda user_id: mrkdwn.clean(_person(rules, str(user_id))), mention=mention)
    return cleaned


def _rate_on(jurisdiction: Any, evaluated_on: Any) -> Any:
    if jurisdiction is None or not evaluated_on:
        return None
    try:
        return in_force(jurisdiction.rates, date.fromisoformat(str(evaluated_on)))
    except ValueError:
        return None


def _person(rules: Any, user_id: str) -> str:
    person = rules.people.get(user_id)
    return person.name if person else user_id


# --- findings in the reader's language ----------------------------------------------------------


def localized_evaluation(session: Any, request: Any, policy: LoadedPolicy, language: str) -> Optional[dict]:
    """The request's stored evaluation with each finding's message and source in `language`, or
    None to show it as stored (already in `language`, or it cannot be judged again the same way).

    A finding's message was written in the requester's language when the request was judged. For
    a reader of the other language the request is judged again as it was (the same answers, date
    and policy version, its own purchase left out of the history) in their language, and a
    finding takes the new wording (message and source) only when it is the same finding: the same rule, severity and
    figures (`data`). Anything else (a history that changed since) keeps the stored message.
    """
    evaluation = dict(_get(request, "evaluation", {}) or {})
    findings = evaluation.get("findings") or []
    pack = policy.rules.pack
    judged_in = evaluation.get("language") or pack.default_language
    if not findings or language == judged_in or language not in pack.languages:
        return None
    if _get(request, "policy_version") != policy.version or not evaluation.get("evaluated_on"):
        return None  # other rules, other words: the stored ones are the record
    from workflow.judging import judge  # the bot's one use of the engine; imported when needed

    try:
        on = date.fromisoformat(str(evaluation["evaluated_on"]))
        _, again = judge(session, policy, dict(_get(request, "answers", {}) or {}), on, language,
                         exclude_request_id=_get(request, "id"))
    except Exception:  # the stored wording is always a correct fallback
        log.exception("request %s not judged again in %s; its findings stay as stored", _get(request, "id"), language)
        return None
    # The source the finding cites is worded in the reader's language too, with its message.
    worded = {_finding_key(found.to_dict()): {"message": found.message, "source": found.source}
              for found in again.findings}
    evaluation["findings"] = [dict(finding, **worded.get(_finding_key(finding), {})) for finding in findings]
    evaluation["language"] = language
    return evaluation


def _finding_key(finding: Mapping[str, Any]) -> str:
    return json.dumps([finding.get("rule"), finding.get("severity"), finding.get("field"), finding.get("data")],
                      sort_keys=True, default=str)


# --- rendering --------------------------------------------------------------------------------


def render_justification(request: Any, policy: LoadedPolicy, language: str = "en", *,
                         template: Optional[os.PathLike | str] = None,
                         max_blocks: int = MAX_BLOCKS,
                         evaluation: Optional[Mapping[str, Any]] = None) -> Justification:
    """The justification's Block Kit blocks and its plain-text fallback: `blocks, text = ...`.

    `request` is a stored request (storage.PurchaseRequest) or a dict with the same fields.
    `max_blocks` leaves room for blocks the caller adds (Slack allows 50 in a message); a
    longer justification ends with a context block saying it was cut. `template` overrides
    the template path. Raises JustificationError when the template is missing or broken.
    """
    if not 1 <= max_blocks <= MAX_BLOCKS:
        raise ValueError(f"max_blocks must be between 1 and {MAX_BLOCKS}")
    path = Path(template) if template is not None else template_path()
    values = justification_values(request, policy, language, evaluation)
    blocks = _blocks(_render(path, values), max_blocks, values["language"])
    fallback = " · ".join(part for part in (values["reference"], values["title"] or values["description"],
                                             values["total"]) if part)
    return Justification(blocks, mrkdwn.truncate(mrkdwn.escape(fallback), 3000))


def _render(path: Path, values: dict) -> str:
    file = str(path)
    resolved = path.resolve()
    env = _environment(str(resolved.parent))
    try:
        template = env.get_template(resolved.name)
        return template.render(**values)
    except TemplateSyntaxError as exc:
        raise JustificationError(file, exc.lineno, exc.message or str(exc)) from None
    except TemplateNotFound:
        raise JustificationError(file, None, "the template file does not exist") from None
    except (TemplateError, ArithmeticError, AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        line = _template_line(exc, str(resolved))
        raise JustificationError(file, line, f"{type(exc).__name__}: {exc}") from None


def _template_line(exc: BaseException, filename: str) -> Optional[int]:
    """The template line the error happened on, from the traceback Jinja rewrites."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _blocks(text: str, max_blocks: int, language: str = "en") -> List[dict]:
    blocks: List[dict] = []
    for section in text.split(_SECTION):
        section = section.strip("\n").strip()
        if not section:
            continue
        context = section.startswith(_CONTEXT)
        section = section.replace(_CONTEXT, "").strip()
        for piece in mrkdwn.split_text(section, SECTION_TEXT_LIMIT):
            if context:
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": piece}]})
            else:
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    if len(blocks) > max_blocks:
        blocks = blocks[:max_blocks - 1] + [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": t("approvals.too_long", language)}]}
        ]
    return blocks
