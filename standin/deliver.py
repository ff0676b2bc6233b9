"""What a person does in Slack, delivered to the app the way Slack delivers it.

    deliver = Deliverer("http://127.0.0.1:3000/slack/events", signing_secret, workspace=ws)
    deliver.message("U01AMINA", "D01AMINA", "I need pens")      # Events API, event_callback/message
    deliver.block_action("U02MARC", message, "approve")          # interactivity, form field `payload`
    deliver.retry(delivery, num=1, reason="http_timeout")        # same body and event_id, re-signed

Every request is signed like Slack's: X-Slack-Request-Timestamp, and X-Slack-Signature =
"v0=" + HMAC-SHA256(signing secret, "v0:{timestamp}:{body}"). `bad_signature=True` signs with the
wrong secret; `age=600` dates the request ten minutes back (Slack's verifiers refuse > 5 minutes).

With a workspace the deliverer also plays the person's side of the state: a DM is recorded in
the channel before its event is sent, trigger_ids are minted so views.open accepts them (for
`workspace.trigger_lifetime`, 3 s by default), response_urls point at the stand-in's
/actions/ endpoint, a modal submission closes or updates the view as the app's answer says, and
a slash command's immediate answer is shown (ephemeral, or in the channel) as Slack shows it.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union
from urllib.parse import urlencode

from .blocks import fill_ids, find_element
from .workspace import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, Ephemeral, Message, NotFound, View, Workspace

ACK_DEADLINE = 3.0  # seconds Slack waits for the app's acknowledgement
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign(signing_secret: str, timestamp: Union[int, str], body: Union[str, bytes]) -> str:
    """Slack's request signature: "v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    base = f"v0:{timestamp}:{body}".encode("utf-8")
    return "v0=" + hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    """One request to the app and its answer."""

    kind: str  # "event", "command" or "interaction"
    payload: Dict[str, Any]  # the event envelope, the command's form fields, or the interaction payload
    body: str  # exactly what was posted (what the signature covers)
    content_type: str
    headers: Dict[str, str]
    status: int
    response_body: str
    response_headers: Dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def acked_in_time(self) -> bool:
        return self.ok and self.elapsed <= ACK_DEADLINE

    @property
    def event_id(self) -> Optional[str]:
        return self.payload.get("event_id")

    @property
    def trigger_id(self) -> Optional[str]:
        return self.payload.get("trigger_id")

    @property
    def response_url(self) -> Optional[str]:
        return self.payload.get("response_url")

    def json(self) -> Any:
        """The app's answer as JSON (e.g. a view_submission's response_action), or None."""
        try:
            return json.loads(self.response_body) if self.response_body.strip() else None
        except ValueError:
            return None


class Deliverer:
    """Posts signed Events API callbacks, slash commands and interactivity payloads to an app."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        workspace: Optional[Workspace] = None,
        *,
        commands_url: Optional[str] = None,
        interactivity_url: Optional[str] = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        verification_token: str = "standin-verification-token",
    ):
        self.events_url = app_url
        self.commands_url = commands_url or app_url
        self.interactivity_url = interactivity_url or app_url
        self.signing_secret = signing_secret
        self.workspace = workspace
        self.timeout = timeout
        self.clock = clock
        self.verification_token = verification_token
        self.deliveries: List[Delivery] = []
        self._ids = itertools.count(1)

    # -- the person's actions -------------------------------------------------------------------

    def message(self, user: str, channel: str, text: str, *, thread_ts: Optional[str] = None,
                bad_signature: bool = False, age: float = 0.0) -> Delivery:
        """A person posts `text` in `channel` (a DM "D..", a channel id or "#name", or a user id
        for that person's DM with the app): a `message` event."""
        channel_id, channel_type = self._channel(channel, user)
        ts = self._post_message(user, channel_id, text, thread_ts)
        event = {"type": "message", "channel": channel_id, "user": user, "text": text, "ts": ts,
                 "event_ts": ts, "channel_type": channel_type, "client_msg_id": str(uuid.uuid4()),
                 "blocks": _rich_text(text), **self._author_team(user)}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self._event(event, bad_signature=bad_signature, age=age)

    def mention(self, user: str, channel: str, text: str, *, thread_ts: Optional[str] = None,
                bad_signature: bool = False, age: float = 0.0) -> Delivery:
        """A person mentions the app in a channel: an `app_mention` event ("<@BOT> " is added
        to the text when it does not mention the app already)."""
        bot = self.workspace.bot_user_id if self.workspace else BOT_USER_ID
        if f"<@{bot}>" not in text:
            text = f"<@{bot}> {text}"
        channel_id, _ = self._channel(channel, user)
        ts = self._post_message(user, channel_id, text, thread_ts)
        event = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel_id,
                 "event_ts": ts, "client_msg_id": str(uuid.uuid4()), "blocks": _rich_text(text),
                 **self._author_team(user)}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self._event(event, bad_signature=bad_signature, age=age)

    def app_home_opened(self, user: str, *, tab: str = "home", bad_signature: bool = False,
                        age: float = 0.0) -> Delivery:
        """A person opens the app's Home tab (`tab="messages"`: its Messages tab)."""
        channel_id, _ = self._channel(user, user)
        event: Dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": channel_id, "tab": tab,
                                 "event_ts": self._now_ts()}
        if self.workspace is not None and tab == "home":
            home = self.workspace.home_view(user)
            if home is not None:
                event["view"] = home.to_slack(self._team_id, self._app_id, self.workspace.bot_id)
        return self._event(event, bad_signature=bad_signature, age=age)

    def url_verification(self, challenge: str = "standin-challenge") -> Delivery:
        payload = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return self._send("event", payload, json.dumps(payload), JSON, self.events_url)

    def slash_command(self, user: str, command: str, text: str = "", channel: Optional[str] = None, *,
                      bad_signature: bool = False, age: float = 0.0) -> Delivery:
        """A person runs `/command text` in `channel` (default: their DM with the app)."""
        channel_id, _ = self._channel(channel or user, user)
        command = command if command.startswith("/") else "/" + command
        form = {
            "token": self.verification_token,
            "team_id": self._team_id,
            "team_domain": self._team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user,
            "user_name": self._user_name(user),
            "command": command,
            "text": text,
            "api_app_id": self._app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(user, channel_id),
            "trigger_id": self._trigger(user),
        }
        delivery = self._send("command", form, urlencode(form), FORM, self.commands_url,
                              bad_signature=bad_signature, age=age)
        if self.workspace is not None and delivery.ok:
            self._apply_command_answer(user, channel_id, delivery)
        return delivery

    def block_action(
        self,
        user: str,
        message: Union[Message, Ephemeral, Dict[str, Any], None] = None,
        action_id: str = "",
        value: Optional[str] = None,
        *,
        block_id: Optional[str] = None,
        view: Union[View, Dict[str, Any], str, None] = None,
        channel: Optional[str] = None,
        action: Optional[Dict[str, Any]] = None,
        bad_signature: bool = False,
        age: float = 0.0,
    ) -> Delivery:
        """A person clicks (or picks in) the element `action_id` of a message or a view.

        `message` is a workspace Message or Ephemeral, or a Slack message dict (then give
        `channel` unless the dict carries it); `view` is a View, view dict or view id. The
        element's type, block_id, text and value are read from the blocks when not given;
        `action` adds fields (e.g. {"selected_option": {...}} for a select)."""
        surface: Dict[str, Any] = {}
        if view is not None:
            view_dict = self._view_dict(view)
            blocks = view_dict.get("blocks")
            surface = {"container": {"type": "view", "view_id": view_dict["id"]}, "view": view_dict}
        else:
            if message is None:
                raise ValueError("block_action needs a message or a view")
            is_ephemeral = isinstance(message, Ephemeral) or (isinstance(message, dict)
                                                              and message.get("subtype") == "ephemeral")
            channel_id: Optional[str]
            if isinstance(message, (Message, Ephemeral)):
                channel_id = message.channel
                message_dict = message.to_slack() if isinstance(message, Ephemeral) else \
                    message.to_slack(self._team_id, self._app_id)
            else:
                message_dict = copy.deepcopy(message)
                channel_id = channel or message_dict.get("channel")
                if not channel_id:
                    raise ValueError("block_action on a message dict needs `channel`")
                channel_id, _ = self._channel(channel_id, user)
            blocks = message_dict.get("blocks")
            message_ts = message_dict["ts"]
            surface = {
                "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                              "is_ephemeral": is_ephemeral},
                "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
                "response_url": self._response_url(user, channel_id, message_ts, is_ephemeral),
            }
            if not is_ephemeral:
                surface["message"] = message_dict
        found_block_id, element = find_element(blocks, action_id, block_id)
        element = element or {"type": "button"}
        act: Dict[str, Any] = {"type": element.get("type", "button"), "action_id": action_id,
                               "block_id": block_id or found_block_id or "", "action_ts": self._now_ts()}
        if element.get("text") is not None:
            act["text"] = copy.deepcopy(element["text"])
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            act["value"] = chosen
        act.update(action or {})
        payload: Dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self._app_id,
            "token": self.verification_token,
            "trigger_id": self._trigger(user),
            "team": {"id": self._team_id, "domain": self._team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            **surface,
            "actions": [act],
        }
        if "view" in surface:
            payload["state"] = surface["view"].get("state", {"values": {}})
        return self._interaction(payload, bad_signature=bad_signature, age=age)

    def view_submission(self, user: str, view: Union[View, Dict[str, Any], str],
                        values: Optional[Dict[str, Dict[str, Any]]] = None, *,
                        bad_signature: bool = False, age: float = 0.0) -> Delivery:
        """A person submits a modal. `values` is {block_id: {action_id: value}}; a plain value
        is wrapped as the element type wants it (text inputs "value", static selects
        "selected_option", date pickers "selected_date", ...); a dict is taken as Slack's shape.
        With a workspace, the app's answer is applied: no response_action closes the modal,
        "update"/"push" change it, "clear" closes every modal, "errors" keeps it open."""
        view_dict = self._view_dict(view)
        state = copy.deepcopy(view_dict.get("state", {}).get("values", {}))
        for block_id, actions in (values or {}).items():
            for action_id, answer in actions.items():
                state.setdefault(block_id, {})[action_id] = state_value(view_dict.get("blocks"), block_id,
                                                                        action_id, answer)
        view_dict["state"] = {"values": state}
        ws = self.workspace
        if ws is not None and view_dict["id"] in ws.views:
            with ws.lock:
                ws.views[view_dict["id"]].state = copy.deepcopy(state)
                ws.changed()
        payload = {
            "type": "view_submission",
            "team": {"id": self._team_id, "domain": self._team_domain},
            "user": self._user(user),
            "api_app_id": self._app_id,
            "token": self.verification_token,
            "trigger_id": self._trigger(user),
            "view": view_dict,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        delivery = self._interaction(payload, bad_signature=bad_signature, age=age)
        if ws is not None and delivery.ok and view_dict["id"] in ws.views:
            self._apply_submission_answer(user, view_dict["id"], delivery.json())
        return delivery

    def view_closed(self, user: str, view: Union[View, Dict[str, Any], str], *,
                    bad_signature: bool = False, age: float = 0.0) -> Delivery:
        """A person closes a modal whose view asked notify_on_close."""
        view_dict = self._view_dict(view)
        if self.workspace is not None and view_dict["id"] in self.workspace.views:
            self.workspace.close_modals(user, upto=view_dict["id"])
        payload = {"type": "view_closed", "team": {"id": self._team_id, "domain": self._team_domain},
                   "user": self._user(user), "api_app_id": self._app_id, "token": self.verification_token,
                   "view": view_dict, "is_cleared": False, "is_enterprise_install": False, "enterprise": None}
        return self._interaction(payload, bad_signature=bad_signature, age=age)

    def retry(self, delivery: Delivery, num: int = 1, reason: str = "http_timeout", *,
              bad_signature: bool = False, age: float = 0.0) -> Delivery:
        """Slack's retry of an event: the same body (same event_id), signed anew, with
        X-Slack-Retry-Num and X-Slack-Retry-Reason."""
        extra = {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}
        url = {"event": self.events_url, "command": self.commands_url}.get(delivery.kind, self.interactivity_url)
        return self._send(delivery.kind, delivery.payload, delivery.body, delivery.content_type, url,
                          extra_headers=extra, bad_signature=bad_signature, age=age)

    # -- sending --------------------------------------------------------------------------------

    def signed_headers(self, body: str, content_type: str, *, bad_signature: bool = False,
                       age: float = 0.0) -> Dict[str, str]:
        timestamp = str(int(self.clock() - age))
        secret = self.signing_secret + ("-wrong" if bad_signature else "")
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(secret, timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }

    def _event(self, event: Dict[str, Any], **options: Any) -> Delivery:
        now = self.clock()
        envelope = {
            "token": self.verification_token,
            "team_id": self._team_id,
            "context_team_id": self._team_id,
            "context_enterprise_id": None,
            "api_app_id": self._app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):04d}{secrets.token_hex(4).upper()}",
            "event_time": int(now),
            "authorizations": [{"enterprise_id": None, "team_id": self._team_id,
                                "user_id": self.workspace.bot_user_id if self.workspace else BOT_USER_ID,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": "user_team" in event,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }
        return self._send("event", envelope, json.dumps(envelope), JSON, self.events_url, **options)

    def _interaction(self, payload: Dict[str, Any], **options: Any) -> Delivery:
        body = urlencode({"payload": json.dumps(payload)})
        return self._send("interaction", payload, body, FORM, self.interactivity_url, **options)

    def _send(self, kind: str, payload: Dict[str, Any], body: str, content_type: str, url: str, *,
              extra_headers: Optional[Dict[str, str]] = None, bad_signature: bool = False,
              age: float = 0.0) -> Delivery:
        headers = self.signed_headers(body, content_type, bad_signature=bad_signature, age=age)
        headers.update(extra_headers or {})
        request = urllib.request.Request(url, data=body.encode("utf-8"), headers=headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, answer, answer_headers = response.status, response.read(), dict(response.headers.items())
        except urllib.error.HTTPError as error:
            status, answer, answer_headers = error.code, error.read(), dict(error.headers.items())
        delivery = Delivery(kind, payload, body, content_type, headers, status,
                            answer.decode("utf-8", "replace"), answer_headers, time.monotonic() - started)
        self.deliveries.append(delivery)
        return delivery

    # -- workspace side -------------------------------------------------------------------------

    def _apply_submission_answer(self, user: str, view_id: str, answer: Any) -> None:
        ws = self.workspace
        assert ws is not None
        action = answer.get("response_action") if isinstance(answer, dict) else None
        with ws.lock:
            if action == "errors":
                return
            view = answer.get("view") if action and isinstance(answer.get("view"), dict) else None
            if view is not None:  # Slack names every block and element, as for views.open
                view = {**view, "blocks": fill_ids(view.get("blocks") or [])}
            if action == "clear":
                ws.close_modals(user)
            elif action == "update" and view is not None:
                ws.replace_view(ws.views[view_id], view)
            elif action == "push" and view is not None:
                stack = ws.modal_stacks.setdefault(user, [])
                pushed = ws.new_view("modal", user, view, root=stack[0] if stack else None,
                                     previous=view_id)
                stack.append(pushed.id)
            else:
                ws.close_modals(user, upto=view_id)

    def _apply_command_answer(self, user: str, channel_id: str, delivery: Delivery) -> None:
        """Slack shows a command's immediate answer: plain text or {"text", "blocks"} as an
        ephemeral message, or to everyone with "response_type": "in_channel"."""
        ws = self.workspace
        assert ws is not None
        answer = delivery.json()
        if not isinstance(answer, dict):
            text = delivery.response_body.strip()
            answer = {"text": text} if text and answer is None else {}
        text, blocks = answer.get("text") or "", answer.get("blocks")
        if not text and not blocks:
            return
        if answer.get("response_type") == "in_channel":
            ws.post_as_bot(channel_id, text=str(text), blocks=blocks)
        else:
            ws.post_ephemeral(channel_id, user, text=str(text), blocks=blocks)

    def _post_message(self, user: str, channel_id: str, text: str, thread_ts: Optional[str]) -> str:
        if self.workspace is None:
            return self._now_ts()
        return self.workspace.post(channel_id, text=text, user=user, thread_ts=thread_ts).ts

    def _channel(self, ref: str, user: str):
        """(channel id, channel_type) for a channel reference; a user id means their DM."""
        if self.workspace is not None:
            try:
                channel = self.workspace.channel(ref)
            except NotFound:
                raise ValueError(f"no channel {ref!r} in the workspace") from None
            if channel.is_im:
                return channel.id, "im"
            return channel.id, "group" if channel.is_private else "channel"
        kind = {"D": "im", "G": "group"}.get(ref[:1], "channel")
        return ref, kind

    def _channel_name(self, channel_id: str) -> str:
        if self.workspace is not None and channel_id in self.workspace.channels:
            channel = self.workspace.channels[channel_id]
            return "directmessage" if channel.is_im else channel.name
        return "directmessage" if channel_id.startswith("D") else channel_id

    def _user(self, user_id: str) -> Dict[str, Any]:
        """An interaction's `user`: with their own workspace, which for someone of another
        organisation (Slack Connect) is not the `team` the app is installed in."""
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self._home_team(user_id)}

    def _home_team(self, user_id: str) -> str:
        if self.workspace is not None and user_id in self.workspace.users:
            return self.workspace.users[user_id].team_id or self._team_id
        return self._team_id

    def _author_team(self, user_id: str) -> Dict[str, str]:
        """A message event's team fields: the author's workspace, and for someone of another
        (a Slack Connect channel) `user_team` and `source_team` too."""
        home = self._home_team(user_id)
        if home == self._team_id:
            return {"team": home}
        return {"team": home, "user_team": home, "source_team": home}

    def _user_name(self, user_id: str) -> str:
        if self.workspace is not None and user_id in self.workspace.users:
            return self.workspace.users[user_id].name
        return user_id.lower()

    def _view_dict(self, view: Union[View, Dict[str, Any], str]) -> Dict[str, Any]:
        if isinstance(view, str):
            if self.workspace is None or view not in self.workspace.views:
                raise ValueError(f"no view {view!r} in the workspace")
            view = self.workspace.views[view]
        if isinstance(view, View):
            return view.to_slack(self._team_id, self._app_id,
                                 self.workspace.bot_id if self.workspace else "B0BOT")
        return copy.deepcopy(view)

    def _trigger(self, user: str) -> str:
        if self.workspace is not None:
            return self.workspace.mint_trigger(user)
        return f"{int(self.clock())}.{next(self._ids)}.{secrets.token_hex(16)}"

    def _response_url(self, user: str, channel_id: str, message_ts: Optional[str] = None,
                      is_ephemeral: bool = False) -> str:
        if self.workspace is not None:
            return self.workspace.mint_response_url(user, channel_id, message_ts, is_ephemeral)
        return f"https://hooks.slack.com/actions/{self._team_id}/{next(self._ids)}/{secrets.token_hex(12)}"

    def _now_ts(self) -> str:
        if self.workspace is not None:
            return self.workspace.next_ts()
        return f"{self.clock():.6f}"

    @property
    def _team_id(self) -> str:
        return self.workspace.team_id if self.workspace else TEAM_ID

    @property
    def _team_domain(self) -> str:
        return self.workspace.team_domain if self.workspace else TEAM_DOMAIN

    @property
    def _app_id(self) -> str:
        return self.workspace.app_id if self.workspace else APP_ID


def _rich_text(text: str) -> List[Dict[str, Any]]:
    """The rich_text block Slack attaches to a message a person types."""
    return [{"type": "rich_text", "block_id": secrets.token_urlsafe(3),
             "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}]


def state_value(blocks: Optional[List[dict]], block_id: str, action_id: str, answer: Any) -> Dict[str, Any]:
    """An element's entry in a view's state (and a block action's fields), as Slack shapes it,
    from a plain answer: an option value, a list of them, a date, a text; None when nothing is
    chosen or typed. A dict is taken as Slack's shape already."""
    if isinstance(answer, dict):
        return answer
    _, element = find_element(blocks, action_id, block_id)
    kind = (element or {}).get("type", "plain_text_input")
    if kind in ("static_select", "radio_buttons", "external_select", "overflow"):
        return {"type": kind, "selected_option": None if answer is None else _option(element, answer)}
    if kind in ("checkboxes", "multi_static_select", "multi_external_select"):
        chosen = [] if answer is None else answer if isinstance(answer, list) else [answer]
        return {"type": kind, "selected_options": [_option(element, a) for a in chosen]}
    if kind == "datepicker":
        return {"type": kind, "selected_date": answer}
    if kind == "timepicker":
        return {"type": kind, "selected_time": answer}
    if kind == "users_select":
        return {"type": kind, "selected_user": answer}
    if kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        return {"type": kind, key: answer}
    return {"type": kind, "value": None if answer is None else str(answer)}


def _option(element: Optional[dict], value: Any) -> Dict[str, Any]:
    for option in (element or {}).get("options") or []:
        if option.get("value") == value:
            return copy.deepcopy(option)
    for group in (element or {}).get("option_groups") or []:
        for option in group.get("options") or []:
            if option.get("value") == value:
                return copy.deepcopy(option)
    return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
