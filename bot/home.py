"""App Home: a person's requests with their status and what each is waiting for, and, for an
approver, the requests waiting for their decision.

    with sessions() as session:
        client.views_publish(user_id=user, view=home_view(session, policy, user, language))

Everything a requester typed (titles, descriptions) is escaped (bot.mrkdwn.escape); the only live
markup is `<@U...>` mentions of the people on a request. Slack allows 100 blocks in a Home view
and 3,000 characters in a section; the view stays within both however many requests there are.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import storage
from policies import LoadedPolicy, format_money

from .mrkdwn import escape, truncate

MAX_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
MY_REQUESTS = 20  # the newest; storage.list_requests(requester=..., limit=MY_REQUESTS)
PENDING_SCAN = 1000  # submitted requests read to find those waiting for a given approver
MAX_TO_DECIDE = 40
TITLE_CHARS = 150
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")

WORDS: Dict[str, Dict[str, str]] = {
    "en": {
        "header": "Your purchase requests",
        "intro": "Your {count} most recent requests, newest first.",
        "none": "You have no purchase requests yet. Message me what you need to buy, or type /buy.",
        "start": "To start a new one, message me what you need to buy, or type /buy.",
        "total": "Total",
        "status": "Status",
        "waiting": "Waiting for",
        "step": "step {number} of {count}",
        "submitted_on": "submitted {day}",
        "you_buy": "you may buy it; report the purchase",
        "your_changes": "your changes",
        "you_submit": "you to send it for approval",
        "report_receipt": "report receipt",
        "certification": "section 34 certification by {who}",
        "certification_any": "section 34 certification",
        "or": " or ",
        "to_decide": "Waiting for your decision",
        "to_decide_intro": "Decide with the buttons on each request's post in the approval channel.",
        "requested_by": "requested by {who}",
        "as_delegate": "as delegate for {who}",
        "more": "… and {count} more waiting for you.",
        "unavailable_header": "microbuy",
        "unavailable": ("Your requests can't be shown right now (microbuy's database is not answering). "
                        "Please open this tab again in a few minutes."),
        "no_title": "(no title)",
    },
    "fr": {
        "header": "Vos demandes d'achat",
        "intro": "Vos {count} demandes les plus récentes, de la plus récente à la plus ancienne.",
        "none": ("Vous n'avez encore aucune demande d'achat. Écrivez-moi ce que vous devez acheter, "
                 "ou tapez /buy."),
        "start": "Pour en commencer une, écrivez-moi ce que vous devez acheter, ou tapez /buy.",
        "total": "Total",
        "status": "État",
        "waiting": "En attente de",
        "step": "étape {number} de {count}",
        "submitted_on": "soumise le {day}",
        "you_buy": "vous pouvez l'acheter; déclarez l'achat",
        "your_changes": "vos modifications",
        "you_submit": "votre envoi pour approbation",
        "report_receipt": "déclarer la réception",
        "certification": "attestation selon l'article 34 par {who}",
        "certification_any": "attestation selon l'article 34",
        "or": " ou ",
        "to_decide": "En attente de votre décision",
        "to_decide_intro": "Décidez avec les boutons de chaque demande dans le canal d'approbation.",
        "requested_by": "demandée par {who}",
        "as_delegate": "à titre de délégué de {who}",
        "more": "… et {count} autres en attente de votre décision.",
        "unavailable_header": "microbuy",
        "unavailable": ("Vos demandes ne peuvent pas être affichées pour le moment (la base de données de "
                        "microbuy ne répond pas). Rouvrez cet onglet dans quelques minutes."),
        "no_title": "(sans titre)",
    },
}

STATUS_WORDS: Dict[str, Dict[str, str]] = {
    "en": {
        "draft": "Draft (not sent)",
        "submitted": "Waiting for approval",
        "approved": "Approved",
        "changes_requested": "Changes requested",
        "rejected": "Rejected",
        "cancelled": "Cancelled",
        "purchased": "Bought",
        "received": "Received",
        "certified": "Certified (section 34), done",
    },
    "fr": {
        "draft": "Brouillon (non envoyée)",
        "submitted": "En attente d'approbation",
        "approved": "Approuvée",
        "changes_requested": "Modifications demandées",
        "rejected": "Refusée",
        "cancelled": "Annulée",
        "purchased": "Achetée",
        "received": "Reçue",
        "certified": "Attestée (article 34), terminée",
    },
}


def _language(policy: LoadedPolicy, language: Optional[str]) -> str:
    pack = policy.rules.pack
    if language in pack.languages and language in WORDS:
        return language
    return pack.default_language if pack.default_language in WORDS else "en"


def language_of(policy: LoadedPolicy, user_id: str) -> str:
    """The person's language from the policy's people, else the pack's default."""
    person = policy.rules.people.get(user_id)
    return _language(policy, getattr(person, "language", None))


def mentions(user_ids: Iterable[str], joiner: str) -> str:
    """Live `<@U...>` mentions, each person once; anything that is not a Slack user id is inert text."""
    seen: List[str] = []
    for user in user_ids:
        if user and user not in seen:
            seen.append(user)
    return joiner.join(f"<@{user}>" if USER_ID.match(user) else escape(user) for user in seen)


class _Home:
    def __init__(self, policy: LoadedPolicy, language: str):
        self.policy = policy
        self.language = _language(policy, language)
        self.words = WORDS[self.language]
        self.statuses = STATUS_WORDS[self.language]
        pack = policy.rules.pack
        self.locale = pack.locale_for(self.language)
        self.currency = pack.currency
        self.zone = ZoneInfo(pack.timezone)

    # -- pieces ----------------------------------------------------------------------------------

    def money(self, req: Any) -> str:
        currency = req.evaluation.get("currency") if isinstance(req.evaluation, dict) else None
        try:
            amount = Decimal(str(req.total))
        except (InvalidOperation, TypeError):
            return escape(req.total)
        return escape(format_money(amount, currency=currency or self.currency, locale=self.locale))

    def title(self, req: Any) -> str:
        text = req.title or req.description or req.supplier or self.words["no_title"]
        return truncate(escape(" ".join(str(text).split())), TITLE_CHARS)

    def level_name(self, step: Dict[str, Any]) -> str:
        level = self.policy.rules.approval.levels.get(step.get("level", ""))
        if level is not None:
            return level.name.get_text(self.language, self.policy.rules.pack.default_language)
        return str(step.get("name") or step.get("level") or "")

    def day(self, value: Optional[datetime]) -> str:
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(self.zone).date().isoformat()

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
                 f"{w['status']}: *{escape(self.statuses.get(req.status, req.status))}*"]
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
    words = WORDS.get(language) or WORDS["en"]
    return {"type": "home", "callback_id": "microbuy_home", "blocks": [
        _header(words["unavailable_header"]), _section(words["unavailable"])]}
