"""What the reminder tests read back: the bot's DMs in the stand-in, and the audit log."""
from __future__ import annotations

from typing import Any, List, Tuple

from sqlalchemy import select

import storage


def bot_dms(workspace, user: str) -> List[str]:
    """The bot's messages in `user`'s DM (none if it was never opened)."""
    channel = next((c for c in workspace.channels.values() if c.is_im and c.user == user), None)
    return [m.text for m in channel.messages if m.bot_id] if channel else []


def audit_rows(sessions, request_id: int, *prefixes: str) -> List[Tuple[str, str, Any]]:
    """(action, actor, payload) of the request's audit rows whose action starts with a prefix."""
    with sessions() as session:
        rows = session.execute(select(storage.AuditEntry).where(storage.AuditEntry.request_id == request_id)
                               .order_by(storage.AuditEntry.id)).scalars()
        return [(row.action, row.actor, row.payload) for row in rows if row.action.startswith(prefixes)]
