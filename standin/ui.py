"""The browser half of the stand-in: a page that looks like a small Slack, and the JSON API it
uses. What a person does there reaches the app exactly as Slack would deliver it (the Deliverer
builds and signs every payload); what the app does through the Web API shows up live.

    GET  /                        the page (standin/static/: index.html, app.js, app.css)
    GET  /ui/api/state?user=U..&since=N[&wait=S]
                                  what that person (default: the first) sees: people, their DM with the app, their
                                  channels (messages and the ephemerals only they see), their App
                                  Home, their open modal with its errors, and `version`. With
                                  `since`, waits (up to S seconds, at most 25) until the
                                  workspace's version passes N: a long poll.
    POST /ui/api/message  {user, channel, text}         the composer: a DM (message event), a
                                  mention of the app (app_mention), "/buy ..." (the slash command)
    POST /ui/api/action   {user, channel, ts | view_id, block_id, action_id, value?, element?}
                                  a click or a pick in a message, an ephemeral or a view
    POST /ui/api/submit   {user, view_id, values: {block_id: {action_id: value}}}   a modal's Submit
    POST /ui/api/close    {user, view_id}               a modal's Close (view_closed if asked for)
    POST /ui/api/home     {user}                        App Home opened (app_home_opened)

Every POST answers {"ok": true, ...} or {"ok": false, "error": "<a sentence for the banner>"}
(400 bad request, 404 unknown person/channel/view, 502 the app did not answer in time, 503 no
app connected). POSTs must be JSON from this origin (no other site can post here), and the
Host must be this machine (no DNS rebinding).

It knows nothing of the app: only people, channels, messages and views, as Slack has them.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

from .blocks import find_element
from .connection import AppProblem
from .deliver import Deliverer, Delivery, state_value
from .workspace import Channel, Ephemeral, Message, NotFound, View

if TYPE_CHECKING:
    from .webapi import StandIn

STATIC = Path(__file__).resolve().parent / "static"
FILES = {"/": "index.html", "/static/app.js": "app.js", "/static/app.css": "app.css"}
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
LONG_POLL_MAX = 25.0  # seconds; under the browsers' and proxies' idle timeouts
TEXT_MAX = 40000  # Slack's message length
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# The page's own code only: even if a message slipped past the escaping, no script of it runs.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: http: https:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
REQUIRED = "Please complete this required field."
NOT_CONNECTED = ("the stand-in is not connected to an app: start it with --app-url "
                 "http://127.0.0.1:3000/slack/events and SLACK_SIGNING_SECRET set")

Answer = Tuple[int, Dict[str, str], Any]


class Refused(Exception):
    """A request the page should not have made; `status` and a sentence for the banner."""

    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status = status
        self.error = error


class BrowserUi:
    """Serves the page and answers its API for one StandIn (its workspace, its app connection)."""

    def __init__(self, standin: "StandIn"):
        self.standin = standin
        self.errors: Dict[str, Tuple[str, Dict[str, str]]] = {}  # view id -> (view hash, inline errors)
        self._posts: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
            "message": self.message, "action": self.action, "submit": self.submit,
            "close": self.close, "home": self.home,
        }

    @property
    def ws(self):
        return self.standin.workspace

    # -- routing --------------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path in FILES or path.startswith("/ui/api/")

    def handle(self, command: str, path: str, query: str, headers: Any, body: bytes) -> Answer:
        try:
            self._check_host(headers)
            if path in FILES:
                if command != "GET":
                    raise Refused(405, "only GET here")
                return self._file(FILES[path])
            name = path[len("/ui/api/"):]
            if name == "state" and command == "GET":
                args = dict(parse_qsl(query, keep_blank_values=True))
                return 200, dict(SECURITY_HEADERS), self.state(args)
            if name in self._posts and command == "POST":
                self._check_post(headers)
                try:
                    args = json.loads(body.decode("utf-8") or "{}")
                except ValueError:
                    raise Refused(400, "the request is not JSON") from None
                if not isinstance(args, dict):
                    raise Refused(400, "the request is not a JSON object")
                return 200, dict(SECURITY_HEADERS), {"ok": True, **self._posts[name](args)}
            raise Refused(404, f"no {command} {path} here")
        except Refused as exc:
            return exc.status, dict(SECURITY_HEADERS), {"ok": False, "error": exc.error}
        except AppProblem as exc:
            return 502, dict(SECURITY_HEADERS), {"ok": False, "error": str(exc)}

    def _file(self, name: str) -> Answer:
        path = STATIC / name
        return 200, {**SECURITY_HEADERS, "Content-Type": TYPES[path.suffix]}, path.read_bytes()

    def _check_host(self, headers: Any) -> None:
        if self.standin.host in ("0.0.0.0", "::", ""):
            return  # served to the network on purpose
        host = urlsplit("//" + (headers.get("Host") or "")).hostname or ""
        if host not in LOCAL_HOSTS | {self.standin.host}:
            raise Refused(403, f"this stand-in answers on {self.standin.host}, not {host or 'no host'}")

    def _check_post(self, headers: Any) -> None:
        kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise Refused(415, "post JSON (Content-Type: application/json)")
        origin = headers.get("Origin")
        if origin and urlsplit(origin).netloc != (headers.get("Host") or ""):
            raise Refused(403, f"requests from {origin} are not accepted")

    # -- reading --------------------------------------------------------------------------------

    def state(self, args: Dict[str, str]) -> Dict[str, Any]:
        ws = self.ws
        # No one named: the first person (requesters come first), so a bare "/" shows someone.
        user = self._person(args.get("user") or next((u.id for u in ws.users.values() if not u.is_bot), ""))
        ws.open_dm(user)
        since = _number(args.get("since"), int, "since")
        if since is not None:
            wait = _number(args.get("wait"), float, "wait")
            wait = LONG_POLL_MAX if wait is None else min(max(wait, 0.0), LONG_POLL_MAX)
            try:
                ws.wait_for(lambda: ws.version > since or self.standin.stopping, timeout=wait)
            except TimeoutError:
                pass  # nothing changed: the page asks again
        with ws.lock:
            return self._state_of(user)

    def _state_of(self, user_id: str) -> Dict[str, Any]:
        ws = self.ws
        me = ws.users[user_id]
        conversations = [self._conversation(ws.open_dm(user_id), user_id)]
        conversations += [self._conversation(c, user_id) for c in ws.channels.values()
                          if not c.is_im and user_id in c.members]
        home = ws.home_view(user_id)
        modals = ws.open_modals(user_id)
        return {
            "version": ws.version,
            "team": {"id": ws.team_id, "name": ws.team_name, "domain": ws.team_domain},
            "bot": {"id": ws.bot_user_id, "name": ws.users[ws.bot_user_id].name},
            "app": {"connected": self.standin.app is not None,
                    "url": self.standin.app.events_url if self.standin.app else None},
            "user": _person_json(me),
            "people": [_person_json(u) for u in ws.users.values() if not u.is_bot and not u.deleted],
            "conversations": conversations,
            "home": self._view_json(home) if home is not None else None,
            "modal": self._view_json(modals[-1]) if modals else None,
            "modal_depth": len(modals),
        }

    def _conversation(self, channel: Channel, user_id: str) -> Dict[str, Any]:
        ws = self.ws
        items = [_message_json(m) for m in channel.messages if not m.deleted]
        items += [_ephemeral_json(e, ws.bot_user_id) for e in ws.ephemerals
                  if e.user == user_id and e.channel == channel.id]
        items.sort(key=lambda item: _ts_key(item["ts"]))
        if channel.is_im:
            return {"id": channel.id, "kind": "dm", "name": ws.users[ws.bot_user_id].name, "items": items}
        return {"id": channel.id, "kind": "channel", "name": channel.name, "members": len(channel.members),
                "items": items}

    def _view_json(self, view: View) -> Dict[str, Any]:
        shown = view.to_slack(self.ws.team_id, self.ws.app_id, self.ws.bot_id)
        shown["errors"] = self._errors_of(view)
        return shown

    def _errors_of(self, view: View) -> Dict[str, str]:
        hash_, errors = self.errors.get(view.id, ("", {}))
        return dict(errors) if hash_ == view.hash else {}  # an updated view starts without errors

    # -- what people do -------------------------------------------------------------------------

    def message(self, args: Dict[str, Any]) -> Dict[str, Any]:
        ws = self.ws
        user = self._person(args.get("user"))
        channel = self._channel_of(user, args.get("channel"))
        typed = str(args.get("text") or "")
        if not typed.strip():
            raise Refused(400, "nothing to send")
        if len(typed) > TEXT_MAX:
            raise Refused(400, f"a message holds at most {TEXT_MAX:,} characters")
        text = slack_text(typed, ws)  # what Slack's client sends: &, <, > escaped, mentions as ids
        command, rest = (typed.strip().split(None, 1) + [""])[:2]
        if command.startswith("/"):
            if self.standin.app is None or command not in self.standin.app.commands:
                raise Refused(400, f"{command} is not a valid command. In Slack, all messages that start "
                                   f"with the \"/\" character are interpreted as commands.")
            # Slack escapes &, < and > in a command's text; with should_escape off, @names stay as typed.
            self._send(lambda d: d.slash_command(user, command, _escape(rest.strip()), channel=channel.id))
            return {"delivered": "command"}
        mentions_app = f"<@{ws.bot_user_id}>" in text
        if not channel.is_im and not mentions_app:
            # The app hears only its DMs and its mentions (message.im, app_mention): Slack sends nothing.
            ws.post(channel.id, text=text, user=user)
            return {"delivered": None}
        if self.standin.app is None:
            ws.post(channel.id, text=text, user=user)
            raise Refused(503, NOT_CONNECTED)
        if channel.is_im:
            self._send(lambda d: d.message(user, channel.id, text))
            return {"delivered": "message"}
        self._send(lambda d: d.mention(user, channel.id, text))
        return {"delivered": "app_mention"}

    def action(self, args: Dict[str, Any]) -> Dict[str, Any]:
        ws = self.ws
        user = self._person(args.get("user"))
        action_id = str(args.get("action_id") or "")
        block_id = args.get("block_id") or None
        if not action_id:
            raise Refused(400, "which element? (action_id)")
        answer = args.get("value")
        shown = args.get("element")
        seen = shown if isinstance(shown, dict) else {}
        if args.get("view_id"):
            view = self._view_of(user, str(args["view_id"]))
            blocks = view.definition.get("blocks") or []
            block, element = _block_and_element(blocks, action_id, block_id)
            if element is None:
                raise Refused(404, "that element is no longer in the view")
            extra = _picked(blocks, block, element, answer)
            if extra is not None:
                with ws.lock:
                    view.state.setdefault(block["block_id"], {})[action_id] = copy.deepcopy(extra)
                    ws.changed()
                if block.get("type") == "input" \
                        and not (element.get("dispatch_action") or block.get("dispatch_action")):
                    return {"delivered": None}  # an input's value waits for Submit, as in Slack
            fields = {k: v for k, v in (extra or {}).items() if k != "type"}
            self._send(lambda d: d.block_action(user, action_id=action_id, block_id=block["block_id"],
                                                view=view, action=fields))
            return {"delivered": "block_actions"}
        channel = self._channel_of(user, args.get("channel"))
        message = self._message_of(user, channel, str(args.get("ts") or ""))
        block, element = _block_and_element(message.blocks, action_id, block_id)
        if element is None:
            # The person's screen still showed it (a late click): Slack sends what their client had.
            value = seen.get("value") if answer is None else answer
            text = seen.get("text") if isinstance(seen.get("text"), dict) else None
            self._send(lambda d: d.block_action(user, message, action_id, value, block_id=block_id,
                                                action={"text": text} if text else None))
            return {"delivered": "block_actions"}
        extra = _picked(message.blocks or [], block, element, answer)
        fields = {k: v for k, v in (extra or {}).items() if k != "type"}
        self._send(lambda d: d.block_action(user, message, action_id, block_id=block["block_id"], action=fields))
        return {"delivered": "block_actions"}

    def submit(self, args: Dict[str, Any]) -> Dict[str, Any]:
        ws = self.ws
        user = self._person(args.get("user"))
        view = self._view_of(user, str(args.get("view_id") or ""), modal=True)
        typed = args.get("values")
        given = typed if isinstance(typed, dict) else {}
        blocks = view.definition.get("blocks") or []
        values: Dict[str, Dict[str, Any]] = {}
        problems: Dict[str, str] = {}
        for block in blocks:
            element = block.get("element") if block.get("type") == "input" else None
            if not isinstance(element, dict) or not element.get("action_id"):
                continue
            block_id, action_id = block["block_id"], element["action_id"]
            answer = (given.get(block_id) or {}).get(action_id)
            if answer in ("", []):
                answer = None
            values[block_id] = {action_id: answer}
            problem = _input_problem(block, element, answer)
            if problem:
                problems[block_id] = problem
        with ws.lock:  # what was typed stays on screen whatever happens next
            view.state.update({b: {a: state_value(blocks, b, a, v) for a, v in actions.items()}
                               for b, actions in values.items()})
            if problems:
                self.errors[view.id] = (view.hash, problems)
            else:
                self.errors.pop(view.id, None)
            ws.changed()
        if problems:  # Slack's client checks these itself; the app never hears of it
            return {"errors": problems, "closed": False}
        delivery = self._send(lambda d: d.view_submission(user, view, values))
        answer = delivery.json()
        answer = answer if isinstance(answer, dict) else {}
        errors = answer.get("errors") if answer.get("response_action") == "errors" else None
        with ws.lock:
            if isinstance(errors, dict):
                self.errors[view.id] = (view.hash, {str(k): str(v) for k, v in errors.items()})
            else:
                self.errors.pop(view.id, None)
            ws.changed()
            return {"errors": self._errors_of(view), "closed": view.closed}

    def close(self, args: Dict[str, Any]) -> Dict[str, Any]:
        ws = self.ws
        user = self._person(args.get("user"))
        view = self._view_of(user, str(args.get("view_id") or ""), modal=True)
        if view.definition.get("notify_on_close") and self.standin.app is not None:
            self._send(lambda d: d.view_closed(user, view))  # closes it in the workspace too
        else:
            ws.close_modals(user, upto=view.id)
        if view.definition.get("clear_on_close"):
            ws.close_modals(user)
        self.errors.pop(view.id, None)
        return {"closed": True}

    def home(self, args: Dict[str, Any]) -> Dict[str, Any]:
        user = self._person(args.get("user"))
        self._send(lambda d: d.app_home_opened(user))
        return {"delivered": "app_home_opened"}

    # -- helpers --------------------------------------------------------------------------------

    def _send(self, action: Callable[[Deliverer], Delivery]) -> Delivery:
        if self.standin.app is None:
            raise Refused(503, NOT_CONNECTED)
        return self.standin.app.send(action)

    def _person(self, user_id: Any) -> str:
        user = self.ws.users.get(str(user_id or ""))
        if user is None or user.is_bot:
            raise Refused(404, f"no person {str(user_id or '')[:40]!r} in the workspace")
        return user.id

    def _channel_of(self, user: str, ref: Any) -> Channel:
        try:
            channel = self.ws.channel(str(ref or ""))
        except NotFound:
            raise Refused(404, f"no channel {str(ref or '')[:80]!r}") from None
        if channel.is_im and channel.user != user or not channel.is_im and user not in channel.members:
            raise Refused(403, "that conversation is not one of yours")
        return channel

    def _message_of(self, user: str, channel: Channel, ts: str):
        with self.ws.lock:
            for ephemeral in self.ws.ephemerals:
                if ephemeral.ts == ts and ephemeral.user == user and ephemeral.channel == channel.id:
                    return ephemeral
            try:
                return self.ws.message(channel.id, ts)
            except NotFound:
                raise Refused(404, "that message is gone") from None

    def _view_of(self, user: str, view_id: str, modal: bool = False) -> View:
        with self.ws.lock:
            view = self.ws.views.get(view_id)
            if view is None or view.user != user or view.closed:
                raise Refused(404, "that view is closed")
            if modal and view not in self.ws.open_modals(user):
                raise Refused(404, "that modal is closed")
            return view



def _picked(blocks: List[dict], block: dict, element: dict, answer: Any) -> Optional[Dict[str, Any]]:
    """A pick (select, checkboxes, date, radio, overflow) as Slack's state entry; None for a button."""
    if element.get("type") == "button":
        return None
    return state_value(blocks, block["block_id"], element["action_id"], answer)


def slack_text(typed: str, ws) -> str:
    """A typed message as Slack's client sends it: &, <, > as entities, then "@microbuy",
    "@name.handle" and "@here"/"@channel"/"@everyone" as Slack's mention syntax."""
    handles = {u.name.lower(): u.id for u in ws.users.values()}

    def mention(match: "re.Match[str]") -> str:
        name = match.group(1).lower()
        if name in ("here", "channel", "everyone"):
            return f"<!{name}>"
        return f"<@{handles[name]}>" if name in handles else match.group(0)

    # A handle never ends with ".": "@amina.haddad." is a mention and a full stop.
    return re.sub(r"(?<![\w@])@([A-Za-z0-9](?:[\w.-]*[\w-])?)", mention, _escape(typed))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _input_problem(block: dict, element: dict, answer: Any) -> Optional[str]:
    if answer is None:
        return None if block.get("optional") else REQUIRED
    if element.get("type") == "plain_text_input" and isinstance(answer, str):
        low, high = element.get("min_length"), element.get("max_length")
        if isinstance(low, int) and len(answer) < low:
            return f"Must be at least {low} characters."
        if isinstance(high, int) and len(answer) > high:
            return f"Must be {high} characters or fewer."
    return None


def _block_and_element(blocks: Optional[List[dict]], action_id: str, block_id: Optional[str]):
    found_block_id, element = find_element(blocks, action_id, block_id)
    if element is None:
        return None, None
    block = next(b for b in blocks or [] if b.get("block_id") == found_block_id)
    return block, element


def _number(value: Optional[str], kind: type, name: str):
    if value in (None, ""):
        return None
    try:
        return kind(value)
    except ValueError:
        raise Refused(400, f"{name} must be a number") from None


def _ts_key(ts: str) -> Tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int(micros or 0)


def _person_json(user) -> Dict[str, Any]:
    return {"id": user.id, "name": user.name, "real_name": user.real_name, "title": user.title, "tz": user.tz}


def _message_json(message: Message) -> Dict[str, Any]:
    return {"kind": "message", "ts": message.ts, "user": message.user, "bot": bool(message.bot_id),
            "text": message.text, "blocks": copy.deepcopy(message.blocks), "edited": bool(message.edited),
            "thread_ts": message.thread_ts if message.thread_ts != message.ts else None}


def _ephemeral_json(ephemeral: Ephemeral, bot_user_id: str) -> Dict[str, Any]:
    # Only the app posts ephemerals here (chat.postEphemeral, a response_url); Slack shows them as its.
    return {"kind": "ephemeral", "ts": ephemeral.ts, "user": bot_user_id,
            "bot": bool(ephemeral.bot_id), "text": ephemeral.text, "blocks": copy.deepcopy(ephemeral.blocks),
            "edited": False, "thread_ts": ephemeral.thread_ts}
