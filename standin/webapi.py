"""A local HTTP server that speaks the Slack Web API over a `Workspace`.

    with StandIn(Workspace.from_people({...})) as slack:
        client = WebClient(token=slack.workspace.bot_token, base_url=slack.url)

`POST|GET /api/<method>` takes form-encoded or JSON bodies (slack_sdk sends JSON for methods with
blocks or views, forms otherwise, GET query strings for a few readers), checks the bearer token,
and answers with Slack's shapes and error codes (HTTP 200 with `{"ok": false, "error": ...}`,
HTTP 429 with Retry-After when rate limited). `POST /actions/<key>` is the response_url the
deliverer hands out with slash commands and actions. `GET /health` answers "ok". The page at `/`
and its JSON API at `/ui/api/` are the browser half (standin/ui.py); connected to an app
(`StandIn.connect`), what people do there is delivered to it signed, as Slack delivers it.

The server is the standard library's ThreadingHTTPServer in a background thread: each request is
short, state changes hold the workspace lock, and nothing here needs an event loop.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qsl, urlsplit

from . import blocks as kit
from .connection import AppConnection
from .ui import BrowserUi
from .workspace import NotFound, View, Workspace


class SlackError(Exception):
    """An `{"ok": false}` answer: Slack's error code, and optional response_metadata messages."""

    def __init__(self, error: str, messages: Optional[List[str]] = None):
        super().__init__(error)
        self.error = error
        self.messages = messages or []


Handler = Callable[[Workspace, Dict[str, Any], str], Dict[str, Any]]
METHODS: Dict[str, Handler] = {}


def method(name: str):
    def register(fn: Handler) -> Handler:
        METHODS[name] = fn
        return fn
    return register


# -- argument helpers -----------------------------------------------------------------------------

def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, (int, str)) and str(value).lower() in ("1", "true"))


def _required(args: Dict[str, Any], key: str, error: str = "invalid_arguments") -> Any:
    value = args.get(key)
    if value in (None, ""):
        raise SlackError(error, [f"[ERROR] missing required field: {key}"])
    return value


def _json_arg(args: Dict[str, Any], key: str, error: str) -> Any:
    """A JSON-valued argument: already parsed (JSON body) or a JSON string (form body)."""
    value = args.get(key)
    if isinstance(value, str):
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error, [f"[ERROR] failed to parse {key} as JSON"]) from None
    return value


def _message_content(args: Dict[str, Any], *, required: bool = True):
    """(text, blocks) of a chat.* call, validated like Slack: no_text, invalid_blocks, msg_too_long."""
    blocks = _json_arg(args, "blocks", "invalid_blocks_format")
    attachments = _json_arg(args, "attachments", "invalid_attachments")
    text = args.get("text")
    if blocks is not None:
        problems = kit.check_blocks(blocks)
        if problems:
            raise SlackError("invalid_blocks_format" if not isinstance(blocks, list) else "invalid_blocks",
                             problems)
    if required and not text and not blocks and not attachments:
        raise SlackError("no_text")
    if text is not None and len(str(text)) > kit.MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    return (None if text is None else str(text)), kit.fill_ids(blocks)


def _channel(ws: Workspace, ref: Any):
    if not ref:
        raise SlackError("channel_not_found")
    try:
        return ws.channel(str(ref))
    except NotFound as exc:
        raise SlackError(exc.error) from None


# -- auth, users, conversations -------------------------------------------------------------------

@method("auth.test")
def auth_test(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    user = ws.users[caller]
    return {"url": f"https://{ws.team_domain}.slack.com/", "team": ws.team_domain, "user": user.name,
            "team_id": ws.team_id, "user_id": caller, "bot_id": user.bot_id, "is_enterprise_install": False}


@method("users.info")
def users_info(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    try:
        user = ws.user(str(args.get("user") or ""))
    except NotFound as exc:
        raise SlackError(exc.error) from None
    return {"user": user.to_slack(ws.team_id, include_locale=_flag(args.get("include_locale")))}


@method("conversations.open")
def conversations_open(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    if args.get("channel"):
        channel = _channel(ws, args["channel"])
        return {"no_op": True, "already_open": True, "channel": {"id": channel.id}}
    users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise SlackError("method_not_supported_for_channel_type")  # group DMs: not in the stand-in
    if users[0] not in ws.users:
        raise SlackError("user_not_found")
    already = any(c.is_im and c.user == users[0] for c in ws.channels.values())
    channel = ws.open_dm(users[0])
    if _flag(args.get("return_im")):
        return {"no_op": already, "already_open": already, "channel": channel.to_slack()}
    return {"no_op": already, "already_open": already, "channel": {"id": channel.id}}


@method("conversations.info")
def conversations_info(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    channel = _channel(ws, args.get("channel"))
    return {"channel": channel.to_slack(include_locale=_flag(args.get("include_locale")))}


@method("conversations.history")
def conversations_history(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    channel = _channel(ws, args.get("channel"))
    top = [m for m in ws.messages(channel.id) if not m.thread_ts or m.thread_ts == m.ts]
    limit = int(args.get("limit") or 100)
    newest_first = list(reversed(top))
    return {"messages": [m.to_slack(ws.team_id, ws.app_id) for m in newest_first[:limit]],
            "has_more": len(newest_first) > limit}


@method("conversations.replies")
def conversations_replies(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    channel = _channel(ws, args.get("channel"))
    ts = str(_required(args, "ts"))
    thread = ws.messages(channel.id, thread_ts=ts)
    if not thread:
        raise SlackError("thread_not_found")
    return {"messages": [m.to_slack(ws.team_id, ws.app_id) for m in thread], "has_more": False}


# -- chat -----------------------------------------------------------------------------------------

@method("chat.postMessage")
def chat_post_message(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    channel = _channel(ws, args.get("channel"))
    text, blocks = _message_content(args)
    metadata = _json_arg(args, "metadata", "invalid_metadata_format")
    message = ws.post(channel.id, text=text or "", blocks=blocks, user=caller, bot_id=ws.users[caller].bot_id,
                      thread_ts=args.get("thread_ts") or None, metadata=metadata)
    return {"channel": channel.id, "ts": message.ts, "message": message.to_slack(ws.team_id, ws.app_id)}


def _callers_message(ws: Workspace, args: Dict[str, Any], caller: str, refusal: str):
    """The channel and ts of a message the caller posted; Slack's error otherwise."""
    channel = _channel(ws, args.get("channel"))
    ts = str(_required(args, "ts", "message_not_found"))
    try:
        message = ws.message(channel.id, ts)
    except NotFound as exc:
        raise SlackError(exc.error) from None
    if message.user != caller:
        raise SlackError(refusal)
    return channel, ts


@method("chat.update")
def chat_update(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    channel, ts = _callers_message(ws, args, caller, "cant_update_message")
    text, blocks = _message_content(args, required=False)
    if text is None and blocks is None and "attachments" not in args:
        raise SlackError("no_text")
    message = ws.edit(channel.id, ts, by=caller, text=text, blocks=blocks)
    return {"channel": channel.id, "ts": message.ts, "text": message.text,
            "message": message.to_slack(ws.team_id, ws.app_id)}


@method("chat.delete")
def chat_delete(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    channel, ts = _callers_message(ws, args, caller, "cant_delete_message")
    ws.delete(channel.id, ts)
    return {"channel": channel.id, "ts": ts}


@method("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    channel = _channel(ws, args.get("channel"))
    user = str(args.get("user") or "")
    if user not in ws.users:
        raise SlackError("user_not_found")
    text, blocks = _message_content(args)
    ephemeral = ws.post_ephemeral(channel.id, user, text=text or "", blocks=blocks,
                                  thread_ts=args.get("thread_ts") or None)
    return {"message_ts": ephemeral.ts}


@method("chat.getPermalink")
def chat_get_permalink(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    channel = _channel(ws, args.get("channel"))
    ts = str(_required(args, "message_ts", "message_not_found"))
    try:
        ws.message(channel.id, ts)
    except NotFound as exc:
        raise SlackError(exc.error) from None
    return {"channel": channel.id,
            "permalink": f"https://{ws.team_domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"}


# -- views ----------------------------------------------------------------------------------------

def _view_arg(args: Dict[str, Any], expected: str) -> Dict[str, Any]:
    view = _json_arg(args, "view", "invalid_arguments")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
    if view.get("type") != expected:
        raise SlackError("invalid_arguments", [f"[ERROR] must be '{expected}' [json-pointer:/view/type]"])
    problems = kit.check_view(view)
    if problems:
        raise SlackError("invalid_arguments", problems)
    view = dict(view)
    view["blocks"] = kit.fill_ids(view.get("blocks") or [])
    return view


def _external_id_free(ws: Workspace, definition: Dict[str, Any], keep: Optional[View] = None) -> None:
    external_id = definition.get("external_id")
    if external_id:
        for other in ws.views.values():
            if other.external_id == external_id and other is not keep and not other.closed:
                raise SlackError("duplicate_external_id")


def _trigger(ws: Workspace, args: Dict[str, Any]):
    try:
        return ws.exchange_trigger(args.get("trigger_id"))
    except NotFound as exc:
        raise SlackError(exc.error) from None


@method("views.open")
def views_open(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    definition = _view_arg(args, "modal")
    _external_id_free(ws, definition)
    trigger = _trigger(ws, args)
    ws.close_modals(trigger.user)
    view = ws.new_view("modal", trigger.user, definition)
    ws.modal_stacks[trigger.user] = [view.id]
    return {"view": view.to_slack(ws.team_id, ws.app_id, ws.bot_id)}


@method("views.push")
def views_push(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    definition = _view_arg(args, "modal")
    _external_id_free(ws, definition)
    trigger = _trigger(ws, args)
    stack = ws.modal_stacks.get(trigger.user) or []
    if not stack:
        raise SlackError("invalid_arguments", ["[ERROR] no modal is open to push onto"])
    if len(stack) >= 3:
        raise SlackError("push_limit_reached")
    view = ws.new_view("modal", trigger.user, definition, root=stack[0], previous=stack[-1])
    stack.append(view.id)
    return {"view": view.to_slack(ws.team_id, ws.app_id, ws.bot_id)}


@method("views.update")
def views_update(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    if args.get("view_id"):
        view = ws.views.get(str(args["view_id"]))
        if view is None or view.closed:
            raise SlackError("not_found")
    elif args.get("external_id"):
        try:
            view = ws.view_by_external_id(str(args["external_id"]))
        except NotFound as exc:
            raise SlackError(exc.error) from None
    else:
        raise SlackError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
    definition = _view_arg(args, view.type)
    _external_id_free(ws, definition, keep=view)
    if args.get("hash") and args["hash"] != view.hash:
        raise SlackError("hash_conflict")
    ws.replace_view(view, definition)
    return {"view": view.to_slack(ws.team_id, ws.app_id, ws.bot_id)}


@method("views.publish")
def views_publish(ws: Workspace, args: Dict[str, Any], caller: str) -> Dict[str, Any]:
    user = str(args.get("user_id") or "")
    if user not in ws.users:
        raise SlackError("user_not_found")
    definition = _view_arg(args, "home")
    current = ws.home_view(user)
    _external_id_free(ws, definition, keep=current)
    if current is None:
        current = ws.new_view("home", user, definition)
        ws.home_views[user] = current.id
    else:
        if args.get("hash") and args["hash"] != current.hash:
            raise SlackError("hash_conflict")
        ws.replace_view(current, definition)
    return {"view": current.to_slack(ws.team_id, ws.app_id, ws.bot_id)}


# -- the server -----------------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: "StandIn"


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SlackStandIn/0.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet unless asked
        if self.server.standin.verbose:
            super().log_message(format, *args)

    def log_error(self, format: str, *args: Any) -> None:  # always shown
        super().log_message(format, *args)

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        parts = urlsplit(self.path)
        standin = self.server.standin
        status: int
        headers: Dict[str, str]
        body: Any  # text or JSON (see _send)
        try:
            if parts.path == "/health":
                status, headers, body = 200, {}, "ok"
            elif standin.ui.handles(parts.path):
                status, headers, body = standin.ui.handle(self.command, parts.path, parts.query, self.headers,
                                                          self._raw_body())
            elif parts.path.startswith("/api/"):
                args = dict(parse_qsl(parts.query, keep_blank_values=True))
                args.update(self._body_args())
                status, headers, body = standin.call(parts.path[len("/api/"):], args, self.headers)
            elif parts.path.startswith("/actions/") and self.command == "POST":
                status, headers, body = standin.respond(parts.path[len("/actions/"):], self._body_args())
            else:
                status, headers, body = 404, {}, {"ok": False, "error": "not_found"}
        except _BadBody as exc:
            status, headers, body = 200, {}, {"ok": False, "error": exc.error}
        except Exception as exc:  # noqa: BLE001 - a bug in the stand-in: answer as Slack does when it breaks
            self.log_error("stand-in failure on %s: %r", self.path, exc)
            status, headers, body = 500, {}, {"ok": False, "error": "internal_error"}
        self._send(status, headers, body)

    def _raw_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _body_args(self) -> Dict[str, Any]:
        raw = self._raw_body()
        if not raw:
            return {}
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        text = raw.decode("utf-8", "replace")
        if kind == "application/json":
            try:
                parsed = json.loads(text)
            except ValueError:
                raise _BadBody("invalid_json") from None
            if not isinstance(parsed, dict):
                raise _BadBody("invalid_json")
            return parsed
        if kind in ("application/x-www-form-urlencoded", ""):
            return dict(parse_qsl(text, keep_blank_values=True))
        raise _BadBody("invalid_form_data")

    def _send(self, status: int, headers: Dict[str, str], body: Any) -> None:
        """`body`: bytes (with a Content-Type in `headers`), text, or JSON."""
        headers = dict(headers)
        if isinstance(body, bytes):
            data, content_type = body, headers.pop("Content-Type", "application/octet-stream")
        elif isinstance(body, str):
            data, content_type = body.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            data, content_type = json.dumps(body).encode("utf-8"), "application/json; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a long poll given up, a tab closed): nobody to answer


class _BadBody(Exception):
    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class StandIn:
    """The Slack Web API for one workspace, on 127.0.0.1, in a background thread."""

    def __init__(self, workspace: Optional[Workspace] = None, *, host: str = "127.0.0.1", verbose: bool = False):
        self.workspace = workspace or Workspace()
        self.host = host
        self.verbose = verbose
        self.app: Optional[AppConnection] = None  # where people's actions in the browser go (`connect`)
        self.stopping = False  # wakes the browser's long polls when the server stops
        self.ui = BrowserUi(self)
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._limits: Dict[str, List[int]] = {}  # method -> [calls left to refuse, retry_after]

    # lifecycle

    def start(self, port: int = 0) -> str:
        """Serve on `port` (0: any free port); return the base URL for WebClient(base_url=...)."""
        if self._server is not None:
            return self.url
        server = _Server((self.host, port), _RequestHandler)
        server.standin = self
        self.stopping = False
        self._server = server
        self.workspace.origin = self.origin
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="slack-standin", daemon=True)
        self._thread.start()
        return self.url

    def connect(self, events_url: str, signing_secret: str, **options: Any) -> AppConnection:
        """Deliver what people do in the browser to the app at `events_url`, signed with its
        signing secret (`options`: AppConnection's commands, ack_timeout)."""
        self.app = AppConnection(events_url, signing_secret, self.workspace, **options)
        return self.app

    def stop(self) -> None:
        if self._server is None:
            return
        self.stopping = True
        self.workspace.changed()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "StandIn":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The Web API base URL, with its trailing slash: "http://127.0.0.1:PORT/api/"."""
        return f"{self.origin}/api/"

    # test switches

    def rate_limit(self, method_name: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of this method with HTTP 429 and Retry-After."""
        with self.workspace.lock:
            self._limits[method_name] = [times, int(retry_after)]

    # request handling (called from the server's threads)

    def call(self, method_name: str, args: Dict[str, Any], headers: Any = None) -> tuple:
        """Run one Web API call; (HTTP status, extra headers, JSON body)."""
        ws = self.workspace
        token = _bearer(headers) or args.pop("token", None)
        args.pop("token", None)
        with ws.lock:
            record = ws.record_call(method_name, args)
            limit = self._limits.get(method_name)
            if limit and limit[0] > 0:
                limit[0] -= 1
                record.status, record.ok, record.error = 429, False, "ratelimited"
                return 429, {"Retry-After": str(limit[1])}, {"ok": False, "error": "ratelimited"}
            handler = METHODS.get(method_name)
            try:
                if handler is None:
                    raise SlackError("unknown_method")
                if not token:
                    raise SlackError("not_authed")
                caller = ws.tokens.get(token)
                if caller is None:
                    raise SlackError("invalid_auth")
                body = {"ok": True, **handler(ws, args, caller)}
            except SlackError as exc:
                body = {"ok": False, "error": exc.error}
                if exc.messages:
                    body["response_metadata"] = {"messages": exc.messages}
                if exc.error == "unknown_method":
                    body["req_method"] = method_name
            record.ok, record.error = body["ok"], body.get("error")
            ws.changed()
            return 200, {}, body

    def respond(self, key: str, payload: Dict[str, Any]) -> tuple:
        """A POST to a response_url: reply, replace or delete the message the interaction came from."""
        ws = self.workspace
        with ws.lock:
            record = ws.record_call("response_url", payload)
            hook = ws.response_urls.get(key)
            if hook is None or hook.uses_left <= 0:
                record.status, record.ok, record.error = 404, False, "no_active_hooks"
                return 404, {}, "no_active_hooks"
            hook.uses_left -= 1
            try:
                text, blocks = _message_content(payload, required=not _flag(payload.get("delete_original")))
            except SlackError as exc:
                record.status, record.ok, record.error = 400, False, exc.error
                return 400, {}, exc.error
            if _flag(payload.get("delete_original")) and hook.message_ts:
                if hook.is_ephemeral:
                    ws.ephemerals = [e for e in ws.ephemerals if e.ts != hook.message_ts]
                else:
                    assert hook.channel, "a response_url for a message knows its channel"
                    try:
                        ws.delete(hook.channel, hook.message_ts)
                    except NotFound:
                        pass
            elif _flag(payload.get("replace_original")) and hook.message_ts:
                if hook.is_ephemeral:
                    for ephemeral in ws.ephemerals:
                        if ephemeral.ts == hook.message_ts:
                            ephemeral.text = text if text is not None else ephemeral.text
                            ephemeral.blocks = blocks
                else:
                    assert hook.channel, "a response_url for a message knows its channel"
                    try:
                        message = ws.message(hook.channel, hook.message_ts)
                    except NotFound:
                        record.status, record.ok, record.error = 404, False, "message_not_found"
                        return 404, {}, "message_not_found"
                    ws.edit(hook.channel, hook.message_ts, by=message.user or ws.bot_user_id,
                            text=text, blocks=blocks)
            elif hook.channel:
                thread_ts = payload.get("thread_ts") or None
                if payload.get("response_type") == "in_channel":
                    ws.post_as_bot(hook.channel, text=text or "", blocks=blocks, thread_ts=thread_ts)
                else:
                    ws.post_ephemeral(hook.channel, hook.user, text=text or "", blocks=blocks, thread_ts=thread_ts)
            record.ok = True
            ws.changed()
            return 200, {}, {"ok": True}


def _bearer(headers: Any) -> Optional[str]:
    if headers is None:
        return None
    value = headers.get("Authorization") or ""
    if value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return None
