"""How the bot writes an amount, an approval level and a day for a reader, one way each: in the
reader's language, with the pack's currency, locale and time zone. Plain text: escape it where
it goes into mrkdwn (bot/texts.py `t` does). Mentions are bot/texts.py's `mention` and `mentions`."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Optional
from zoneinfo import ZoneInfo

from policies import LoadedPolicy, format_money


def money(policy: LoadedPolicy, amount: Any, language: Optional[str], currency: Optional[str] = None) -> str:
    """An amount as the reader writes money (1 234,50 $ / $1,234.50); what is not a number, as it is."""
    pack = policy.rules.pack
    try:
        number = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
    if not number.is_finite():
        return str(amount)
    return format_money(number, currency=currency or pack.currency, locale=pack.locale_for(language))


def request_total(policy: LoadedPolicy, req: Any, language: Optional[str]) -> str:
    """A stored request's total, in the currency it was judged in."""
    currency = req.evaluation.get("currency") if isinstance(req.evaluation, dict) else None
    return money(policy, req.total, language, currency)


def level_name(policy: LoadedPolicy, level_id: Optional[str], language: Optional[str],
               fallback: Optional[str] = None) -> str:
    """An approval level's name in `language` (the policy's words), else what the route step says."""
    level = policy.rules.approval.levels.get(level_id or "")
    if level is not None:
        return level.name.get_text(language or policy.rules.pack.default_language, policy.rules.pack.default_language)
    return str(fallback or level_id or "")


def local_day(policy: LoadedPolicy, moment: Optional[datetime]) -> str:
    """The date of a moment where the department is (YYYY-MM-DD); "" for none. A naive moment is UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(policy.rules.pack.timezone)).date().isoformat()
