"""Slack's limits on Block Kit, checked the way the Web API checks them.

Each check returns Slack-style problem strings ("[ERROR] ... [json-pointer:/blocks/0/text/text]");
an empty list means the blocks pass. Only the limits a bot is likely to hit are checked; an
unknown block or element type is refused, as Slack refuses it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
OPTION_TEXT = 75
OPTION_VALUE = 150
SELECT_OPTIONS = 100
PLACEHOLDER = 150
LABEL = 2000
MODAL_TITLE = 24
MODAL_BUTTON = 24
PRIVATE_METADATA = 3000
CALLBACK_ID = 255
MESSAGE_TEXT = 40000

BLOCK_TYPES = {"section", "actions", "context", "divider", "header", "image", "input", "rich_text",
               "file", "video", "markdown"}
ELEMENT_TYPES = {"button", "static_select", "external_select", "users_select", "conversations_select",
                 "channels_select", "multi_static_select", "multi_external_select", "multi_users_select",
                 "multi_conversations_select", "multi_channels_select", "overflow", "datepicker",
                 "timepicker", "datetimepicker", "checkboxes", "radio_buttons", "plain_text_input",
                 "number_input", "email_text_input", "url_text_input", "image", "rich_text_input",
                 "file_input"}


def _err(problem: str, pointer: str) -> str:
    return f"[ERROR] {problem} [json-pointer:{pointer}]"


def _text(obj: Any, pointer: str, limit: int, *, plain_only: bool = False, required: bool = True) -> List[str]:
    if obj is None:
        return [_err("missing required field: text", pointer)] if required else []
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [_err("must be a text object (plain_text or mrkdwn)", pointer)]
    if plain_only and obj["type"] != "plain_text":
        return [_err("must be a plain_text text object", pointer + "/type")]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_err("must be more than 0 characters", pointer + "/text")]
    if len(text) > limit:
        return [_err(f"must be less than {limit + 1} characters", pointer + "/text")]
    return []


def _length(value: Any, limit: int, pointer: str) -> List[str]:
    if value is not None and len(str(value)) > limit:
        return [_err(f"must be less than {limit + 1} characters", pointer)]
    return []


def _options(options: Any, pointer: str) -> List[str]:
    if not isinstance(options, list):
        return [_err("must be an array", pointer)]
    problems = []
    if len(options) > SELECT_OPTIONS:
        problems.append(_err(f"must provide no more than {SELECT_OPTIONS} items", pointer))
    for i, option in enumerate(options):
        here = f"{pointer}/{i}"
        if not isinstance(option, dict):
            problems.append(_err("must be an option object", here))
            continue
        problems += _text(option.get("text"), here + "/text", OPTION_TEXT)
        problems += _length(option.get("value"), OPTION_VALUE, here + "/value")
    return problems


def check_element(element: Any, pointer: str) -> List[str]:
    if not isinstance(element, dict):
        return [_err("must be an element object", pointer)]
    kind = element.get("type")
    if kind not in ELEMENT_TYPES:
        return [_err(f"unsupported type: {kind}", pointer + "/type")]
    problems = _length(element.get("action_id"), ACTION_ID, pointer + "/action_id")
    if kind == "button":
        problems += _text(element.get("text"), pointer + "/text", BUTTON_TEXT, plain_only=True)
        problems += _length(element.get("value"), BUTTON_VALUE, pointer + "/value")
        problems += _length(element.get("url"), 3000, pointer + "/url")
    elif kind in ("static_select", "multi_static_select", "overflow", "checkboxes", "radio_buttons"):
        if "option_groups" not in element:
            problems += _options(element.get("options"), pointer + "/options")
    if "placeholder" in element:
        problems += _text(element["placeholder"], pointer + "/placeholder", PLACEHOLDER, plain_only=True)
    return problems


def check_blocks(blocks: Any, limit: int = MESSAGE_BLOCKS) -> List[str]:
    if not isinstance(blocks, list):
        return [_err("must be an array", "/blocks")]
    problems: List[str] = []
    if len(blocks) > limit:
        problems.append(_err(f"must provide no more than {limit} items", "/blocks"))
    seen_ids = set()
    for i, block in enumerate(blocks):
        here = f"/blocks/{i}"
        if not isinstance(block, dict):
            problems.append(_err("must be a block object", here))
            continue
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            problems.append(_err(f"unsupported type: {kind}", here + "/type"))
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            problems += _length(block_id, BLOCK_ID, here + "/block_id")
            if block_id in seen_ids:
                problems.append(_err(f"duplicate block_id: {block_id}", here + "/block_id"))
            seen_ids.add(block_id)
        problems += _check_block(kind, block, here)
    return problems


def _check_block(kind: str, block: Dict[str, Any], here: str) -> List[str]:
    problems: List[str] = []
    if kind == "section":
        if block.get("text") is None and not block.get("fields"):
            problems.append(_err("must provide either text or fields", here))
        if block.get("text") is not None:
            problems += _text(block["text"], here + "/text", SECTION_TEXT)
        fields = block.get("fields") or []
        if len(fields) > SECTION_FIELDS:
            problems.append(_err(f"must provide no more than {SECTION_FIELDS} items", here + "/fields"))
        for j, f in enumerate(fields):
            problems += _text(f, f"{here}/fields/{j}", FIELD_TEXT)
        if block.get("accessory") is not None:
            problems += check_element(block["accessory"], here + "/accessory")
    elif kind == "header":
        problems += _text(block.get("text"), here + "/text", HEADER_TEXT, plain_only=True)
    elif kind in ("actions", "context"):
        elements = block.get("elements")
        limit = ACTIONS_ELEMENTS if kind == "actions" else CONTEXT_ELEMENTS
        if not isinstance(elements, list) or not elements:
            problems.append(_err("must provide at least 1 item", here + "/elements"))
            elements = []
        elif len(elements) > limit:
            problems.append(_err(f"must provide no more than {limit} items", here + "/elements"))
        action_ids = set()
        for j, element in enumerate(elements):
            pointer = f"{here}/elements/{j}"
            if kind == "context":
                if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                    problems += _text(element, pointer, 3000)
                elif not (isinstance(element, dict) and element.get("type") == "image"):
                    problems.append(_err("must be a text or image element", pointer))
                continue
            problems += check_element(element, pointer)
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if action_id is not None:
                if action_id in action_ids:
                    problems.append(_err(f"duplicate action_id: {action_id}", pointer + "/action_id"))
                action_ids.add(action_id)
    elif kind == "input":
        problems += _text(block.get("label"), here + "/label", LABEL, plain_only=True)
        if block.get("hint") is not None:
            problems += _text(block["hint"], here + "/hint", LABEL, plain_only=True)
        if block.get("element") is None:
            problems.append(_err("missing required field: element", here))
        else:
            problems += check_element(block["element"], here + "/element")
    elif kind == "image":
        if not block.get("image_url") and not block.get("slack_file"):
            problems.append(_err("missing required field: image_url", here))
        problems += _length(block.get("alt_text"), 2000, here + "/alt_text")
    return problems


def check_view(view: Any) -> List[str]:
    if not isinstance(view, dict):
        return [_err("must be a view object", "/view")]
    problems: List[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [_err(f"unsupported type: {kind}", "/view/type")]
    blocks = view.get("blocks")
    problems += [p.replace("[json-pointer:/blocks", "[json-pointer:/view/blocks")
                 for p in check_blocks(blocks if blocks is not None else [], VIEW_BLOCKS)]
    if kind == "modal":
        problems += _text(view.get("title"), "/view/title", MODAL_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                problems += _text(view[key], f"/view/{key}", MODAL_BUTTON, plain_only=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks or [])
        if has_input and view.get("submit") is None:
            problems.append(_err("submit is required when an input block is within the blocks", "/view/submit"))
    problems += _length(view.get("private_metadata"), PRIVATE_METADATA, "/view/private_metadata")
    problems += _length(view.get("callback_id"), CALLBACK_ID, "/view/callback_id")
    return problems


def find_element(blocks: Optional[List[dict]], action_id: str, block_id: Optional[str] = None):
    """(block_id, element) of the interactive element with this action_id, or (None, None)."""
    for block in blocks or []:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if block.get(key):
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return None, None


def fill_ids(blocks: Optional[List[dict]]) -> Optional[List[dict]]:
    """Give every block a block_id and every interactive element an action_id, as Slack does
    when it stores a message or view (the app then sees them in interaction payloads)."""
    import copy
    import secrets

    if blocks is None:
        return None
    blocks = copy.deepcopy(blocks)
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", secrets.token_urlsafe(3))
        if block.get("type") == "context":
            continue
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        for element in elements:
            if isinstance(element, dict) and element.get("type") in ELEMENT_TYPES and element["type"] != "image":
                element.setdefault("action_id", secrets.token_urlsafe(3))
    return blocks
