"""Rasa's REST replies turned into Slack messages (Block Kit), within Slack's limits.

Rasa answers a turn with a list such as

    [{"recipient_id": "T1:U9", "text": "Which category?", "buttons": [{"title": "Travel", "payload": "travel"}]},
     {"recipient_id": "T1:U9", "custom": {"type": "submitted", "request_id": 42, ...}}]

`render_replies` gives the Slack messages to post, in order, and the custom payloads apart
(`{"type": "submitted", ...}`, `{"type": "error", ...}`: the caller acts on them; they are never
shown as messages).

How replies become messages (simple and predictable on purpose):

- Every text is escaped (`bot.mrkdwn.escape`): Rasa texts quote the requester's own answers,
  so `<!channel>` or a disguised link typed by a requester stays plain text. `*bold*` survives.
- Each reply's text becomes one section block, or several when it is longer than 3,000
  characters (cut at line breaks).
- A reply's buttons follow its text as `actions` blocks of at most 25 buttons. Button text is
  escaped and cut to 75 characters; the value is the payload as Rasa sent it; a payload
  longer than 2,000 characters (or empty) cannot be a button value: that button is left out
  and a warning logged, as is a button with no visible text in its title or payload. `/affirm`
  is the primary (green) button, `/cancel` the danger (red) one.
- Consecutive replies share one message, in order. A reply with buttons ends its message, so
  buttons are always the last blocks of a message and a message holds at most one reply's
  buttons. A message is also ended when it reaches 50 blocks; the rest goes to the next one.
- `action_id`s are `rasa_button_0`, `rasa_button_1`, ... counted within each message.
- Each message's `text` (the notification and screen-reader fallback) is its sections' text,
  or its button titles when it has no text, cut to 3,000 characters.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, Optional

from . import mrkdwn

log = logging.getLogger(__name__)

SECTION_TEXT_LIMIT = 3000
MAX_BLOCKS = 50
MAX_ACTIONS = 25
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
FALLBACK_LIMIT = 3000
ACTION_ID_PREFIX = "rasa_button_"
STYLES = {"/affirm": "primary", "/cancel": "danger"}


@dataclass
class RenderedReplies:
    messages: List[dict] = field(default_factory=list)  # each {"text": ..., "blocks": [...]}
    customs: List[Any] = field(default_factory=list)  # custom payloads, in the order received


class _Messages:
    """Fills messages block by block, starting a new one at 50 blocks."""

    def __init__(self) -> None:
        self.done: List[dict] = []
        self.blocks: List[dict] = []
        self.texts: List[str] = []
        self.titles: List[str] = []
        self.buttons = 0

    def _room(self) -> None:
        if len(self.blocks) >= MAX_BLOCKS:
            self.end()

    def section(self, text: str) -> None:
        self._room()
        self.blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
        self.texts.append(text)

    def actions(self, buttons: List[dict]) -> None:
        self._room()
        elements = []
        for button in buttons:
            elements.append(dict(button, action_id=f"{ACTION_ID_PREFIX}{self.buttons}"))
            self.titles.append(button["text"]["text"])
            self.buttons += 1
        self.blocks.append({"type": "actions", "elements": elements})

    def end(self) -> None:
        if not self.blocks:
            return
        fallback = "\n".join(self.texts) or " · ".join(self.titles)
        self.done.append({"text": mrkdwn.truncate(fallback, FALLBACK_LIMIT), "blocks": self.blocks})
        self.blocks, self.texts, self.titles, self.buttons = [], [], [], 0


def render_replies(replies: Optional[Iterable[Mapping[str, Any]]]) -> RenderedReplies:
    """The Slack messages for one turn's replies from Rasa, and its custom payloads."""
    out = _Messages()
    customs: List[Any] = []
    for reply in replies or []:
        if not isinstance(reply, Mapping):
            log.warning("ignoring a Rasa reply that is not an object: %r", reply)
            continue
        if reply.get("custom") is not None:
            customs.append(reply["custom"])
        text = reply.get("text")
        if text:
            for piece in mrkdwn.split_text(mrkdwn.escape(text), SECTION_TEXT_LIMIT):
                out.section(piece)
        buttons = [made for made in map(_button, reply.get("buttons") or []) if made]
        for start in range(0, len(buttons), MAX_ACTIONS):
            out.actions(buttons[start:start + MAX_ACTIONS])
        if buttons:
            out.end()
    out.end()
    return RenderedReplies(messages=out.done, customs=customs)


def _button(button: Any) -> Optional[dict]:
    if not isinstance(button, Mapping):
        log.warning("ignoring a Rasa button that is not an object: %r", button)
        return None
    payload = button.get("payload")
    payload = "" if payload is None else str(payload)
    if not payload:
        log.warning("dropping the button %r: it has no payload", button.get("title"))
        return None
    if len(payload) > BUTTON_VALUE_LIMIT:
        log.warning("dropping the button %r: its payload is %d characters, over Slack's %d",
                    button.get("title"), len(payload), BUTTON_VALUE_LIMIT)
        return None
    title = (mrkdwn.escape(button.get("title")).replace("\n", " ").strip()
             or mrkdwn.escape(payload).replace("\n", " ").strip())
    if not title:  # Slack refuses a button without text, and with it the whole message
        log.warning("dropping the button with payload %r: it has no text to show", payload[:80])
        return None
    made = {
        "type": "button",
        "text": {"type": "plain_text", "text": mrkdwn.truncate(title, BUTTON_TEXT_LIMIT), "emoji": True},
        "value": payload,
    }
    style = STYLES.get(payload.strip())
    if style:
        made["style"] = style
    return made


def button_payload(action: Mapping[str, Any]) -> str:
    """The Rasa payload of a clicked button: the `value` of a block_actions `action`."""
    value = action.get("value") if isinstance(action, Mapping) else None
    return value if isinstance(value, str) else ""
