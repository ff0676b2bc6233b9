"""App Home: a person's requests with their status and what each is waiting for, and, for an
approver, the requests waiting for their decision.

    with sessions() as session:
        client.views_publish(user_id=user, view=home_view(session, policy, user, language))

Everything a requester typed (titles, descriptions) is escaped (bot.mrkdwn.escape); the only live
markup is `<@U...>` mentions of the people on a request. Slack allows 100 blocks in a Home view
and 3,000 characters in a section; the view stays within both however many requests there are.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import storage
from policies import LoadedPolicy

from .formats import level_name, local_day, request_total
from .mrkdwn import escape, truncate
from .texts import LANGUAGES, mention, plain, status_word, template

MAX_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
MY_REQUESTS = 20  # the newest; storage.list_requests(requester=..., limit=MY_REQUESTS)
PENDING_SCAN = 1000  # submitted requests read to find those waiting for a given approver
MAX_TO_DECIDE = 40
TITLE_CHARS = 150

SET_LANGUAGE = "set_language"  # action_id prefix of the language buttons: set_language_en, set_language_fr


class _Words:
    """The catalogue's "home.*" texts in one language, unfilled (filled with escaped values here)."""

    def __init__(self, language: str):
        self.language = language

    def __getitem__(self, key: str) -> str:
        return template("word.or" if key == "or" else f"home.{key}", self.language)


def _language(policy: LoadedPolicy, language: Optional[str]) -> str:
    pack = policy.rules.pack
    if language in pack.languages and language in LANGUAGES:
        return language
    return pack.default_language if pack.default_language in LANGUAGES else "en"


def language_block(policy: LoadedPolicy, language: str) -> Optional[dict]:
    """The language control: one button per language of the pack, the one in use highlighted;
    None when the pack has a single language."""
    offered = [code for code in policy.rules.pack.languages if code in LANGUAGES]
    if len(offered) < 2:
        return None
    buttons = []
    for code in offered:
        button = {"type": "button", "action_id": f"{SET_LANGUAGE}_{code}", "value": code,
                  "text": {"type": "plain_text", "text": plain(f"language.{code}", code)}}
        if code == language:
            button["style"] = "primary"
        buttons.append(button)
    return {"type": "actions", "block_id": "language", "elements": buttons}


def mentions(user_ids: Iterable[str], joiner: str) -> str:
    """Live `<@U...>` mentions, each person once; anything that is not a Slack user id is inert text."""
    return joiner.join(mention(user) for user in dict.fromkeys(u for u in user_ids if u))


class _Home:
    def __init__(self, policy: LoadedPolicy, language: str):
        self.policy = policy
        self.language = _language(policy, language)
        self.words = _Words(self.language)
        pack = policy.rules.pack
        self.locale = pack.locale_for(self.language)
        self.currency = pack.currency
        self.zone = ZoneInfo(pack.timezone)

    # -- pieces ----------------------------------------------------------------------------------

    def money(self, req: Any) -> str:
        return escape(request_total(self.policy, req, self.language))

    def title(self, req: Any) -> str:
        text = req.title or req.description or req.supplier or self.words["no_title"]
        return truncate(escape(" ".join(str(text).split())), TITLE_CHARS)

    def level_name(self, step: Dict[str, Any]) -> str:
        return level_name(self.policy, step.get("level"), self.language, step.get("name"))

    def day(self, value: Optional[datetime]) -> str:
        return local_day(self.policy, value)

    def current_step(self, req: Any) -> Optional[Dict[str, Any]]:
        route = req.route or []
        step = req.approval_step or 0
        return route[step] if 0 <= step < len(route) else None

    def waiting_for(self, req: Any) -> str:
        w, status = self.words, req.status
        if status == storage.Status.SUBMITTED.value:
            step = self.current_step(req)
            if step is None:
                return ""
            who = mentions(storage.step_deciders(step), w["or"])
            where = w["step"].format(number=(req.approval_step or 0) + 1, count=len(req.route or []))
            return f"{who} ({escape(self.level_name(step))}, {where})"
        if status == storage.Status.APPROVED.value:
            return w["you_buy"]
        if status == storage.Status.CHANGES_REQUESTED.value:
            return w["your_changes"]
        if status == storage.Status.DRAFT.value:
            return w["you_submit"]
        if status == storage.Status.PURCHASED.value:
            return w["report_receipt"]
        if status == storage.Status.RECEIVED.value:
            # Section 34: anyone with authority on the route but the requester (storage.certify_receipt).
            approvers = [a for step in req.route or [] for a in step.get("approvers") or [] if a != req.requester]
            who = mentions(approvers, w["or"])
            return w["certification"].format(who=who) if who else w["certification_any"]
        return ""  # rejected, cancelled, certified: final

    def mine(self, req: Any) -> dict:
        w = self.words
        head = f"*{escape(req.reference)}*  {self.title(req)}"
        facts = [f"{w['total']}: {self.money(req)}",
                 f"{w['status']}: *{escape(status_word(req.status, self.language))}*"]
        submitted = self.day(req.submitted_at)
        if submitted:
            facts.append(w["submitted_on"].format(day=submitted))
        lines = [head, " · ".join(facts)]
        waiting = self.waiting_for(req)
        if waiting:
            lines.append(f"{w['waiting']}: {waiting}")
        return _section("\n".join(lines))

    def to_decide(self, req: Any, user_id: str) -> dict:
        w = self.words
        step = self.current_step(req) or {}
        head = f"*{escape(req.reference)}*  {self.title(req)}"
        by = w["requested_by"].format(who=mentions([req.requester], w["or"]))
        where = w["step"].format(number=(req.approval_step or 0) + 1, count=len(req.route or []))
        facts = [f"{w['total']}: {self.money(req)}", f"{escape(self.level_name(step))}, {where}"]
        approvers = step.get("approvers") or []
        if user_id not in approvers:
            facts.append(w["as_delegate"].format(who=mentions(approvers, w["or"])))
        return _section("\n".join([head, by, " · ".join(facts)]))


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT)}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, SECTION_TEXT)}]}


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_TEXT), "emoji": True}}


def waiting_for_user(session: Session, user_id: str, limit: int = PENDING_SCAN) -> List[Any]:
    """Submitted requests whose current step `user_id` may decide (approver, delegate, escalated to), newest first.

    Reads the submitted requests and filters in Python (the route is JSON); fine at this size.
    """
    found = []
    for req in storage.list_requests(session, statuses=[storage.Status.SUBMITTED.value], limit=limit):
        if req.requester == user_id:
            continue  # nobody decides on their own request (storage.record_decision refuses it)
        route = req.route or []
        step = route[req.approval_step] if 0 <= (req.approval_step or 0) < len(route) else None
        if step and user_id in storage.step_deciders(step):
            found.append(req)
    return found


def home_view(session: Session, policy: LoadedPolicy, user_id: str, language: str = "en") -> dict:
    """The Home tab of `user_id`: their requests and what each waits for; then, for an approver,
    the requests waiting for their decision. A Block Kit `home` view for views.publish."""
    home = _Home(policy, language)
    w = home.words
    mine = storage.list_requests(session, requester=user_id, limit=MY_REQUESTS)
    pending = waiting_for_user(session, user_id)

    blocks: List[dict] = [_header(w["header"])]
    control = language_block(policy, home.language)
    if control is not None:
        blocks.append(control)
    if mine:
        if len(mine) >= MY_REQUESTS:
            blocks.append(_context(w["intro"].format(count=len(mine))))
        blocks.extend(home.mine(req) for req in mine)
        blocks.append(_context(w["start"]))
    else:
        blocks.append(_section(w["none"]))

    if pending:
        # What is left for this part: its header, its intro, the "and N more" line.
        room = MAX_BLOCKS - len(blocks) - 4
        shown = pending[:max(0, min(MAX_TO_DECIDE, room))]
        blocks += [{"type": "divider"}, _header(w["to_decide"]), _context(w["to_decide_intro"])]
        blocks.extend(home.to_decide(req, user_id) for req in shown)
        if len(pending) > len(shown):
            blocks.append(_context(w["more"].format(count=len(pending) - len(shown))))
    return {"type": "home", "callback_id": "microbuy_home", "blocks": blocks[:MAX_BLOCKS]}


def unavailable_view(language: str = "en") -> dict:
    """The small view published when the requests cannot be read (the database is down)."""
    words = _Words(language if language in LANGUAGES else "en")
    return {"type": "home", "callback_id": "microbuy_home", "blocks": [
        _header(words["unavailable_header"]), _section(words["unavailable"])]}
