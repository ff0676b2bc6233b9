"""Reading a block_actions payload: where the clicked message is, and whose team clicked."""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple


def where(body: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """The channel and ts of the message whose button was clicked."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    message_ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    return channel, message_ts


def team_of(body: Dict[str, Any]) -> Optional[str]:
    return (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
