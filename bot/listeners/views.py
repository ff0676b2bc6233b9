"""Modal submissions: the reason for rejecting or asking for changes."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from slack_bolt import App

from ..approvals import REASON_MODAL, REVISABLE
from ..texts import plain

if TYPE_CHECKING:
    from ..app import Services
    from .middleware import LazyLanguage


def reason_given(ack, body, view, client, services: Services, language: LazyLanguage) -> None:
    values = view.get("state", {}).get("values", {})
    reason = ((values.get("reason", {}).get("reason", {}) or {}).get("value") or "").strip()
    if not reason:
        ack(response_action="errors", errors={"reason": plain("reason.missing", language())})
        return
    ack()
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    picked = (values.get("fields", {}).get("fields", {}) or {}).get("selected_options") or []
    fields = [option.get("value") for option in picked if option.get("value") in REVISABLE]
    outcome = meta.get("outcome")
    services.approvals.decide(client, user=body["user"]["id"], value=meta.get("value"),
                              outcome=outcome if outcome in ("rejected", "changes_requested") else "rejected",
                              channel=meta.get("channel"), message_ts=meta.get("ts"), reason=reason, fields=fields)


def register(app: App) -> None:
    app.view(REASON_MODAL)(reason_given)
