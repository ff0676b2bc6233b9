"""An in-memory Slack workspace: the state the stand-in's Web API reads and writes.

Everything here is plain data behind one lock (`Workspace.lock`), because the Web API server
answers from its own threads while a test or the deliverer reads and writes from another.
`Workspace.wait_for(predicate)` blocks until a change makes the predicate true, which is how a
test waits for a bot that answers after it has acknowledged; `version` counts the changes, so
the browser's long poll waits for it to pass the one it last saw.

Nothing here knows the bot: ids, names and shapes are Slack's.
"""
from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

TEAM_ID = "T0STANDIN"
TEAM_DOMAIN = "microbuy-standin"
TEAM_NAME = "microbuy stand-in"
APP_ID = "A0STANDIN"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "microbuy"
BOT_TOKEN = "xoxb-standin-0000000000-microbuy"
DEFAULT_TZ = "America/Toronto"
LOCALES = {"en": "en-US", "fr": "fr-CA"}
DEFAULT_CHANNELS = {"C0APPROVALS": "microbuy-approvals"}
TRIGGER_LIFETIME = 3.0  # seconds, like Slack


class NotFound(Exception):
    """A lookup failed; `error` is the Slack error code to answer with."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = DEFAULT_TZ
    locale: str = "en-US"
    is_bot: bool = False
    bot_id: Optional[str] = None
    deleted: bool = False
    title: str = ""  # Slack's profile.title, e.g. "Director, cost centre 100200"
    is_restricted: bool = False  # a guest (a single-channel guest is also is_ultra_restricted)
    is_ultra_restricted: bool = False
    team_id: Optional[str] = None  # their own workspace, for someone from another (Slack Connect); None: this one
    is_stranger: bool = False  # of another workspace and in no channel shared with this one

    def to_slack(self, team_id: str, include_locale: bool = False) -> Dict[str, Any]:
        offset = _tz_offset(self.tz)
        home = self.team_id or team_id
        user: Dict[str, Any] = {
            "id": self.id,
            "team_id": home,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": offset,
            "profile": {
                "real_name": self.real_name,
                "real_name_normalized": self.real_name,
                "display_name": self.name,
                "display_name_normalized": self.name,
                "title": self.title,
                "team": home,
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1764000000,
        }
        if self.is_stranger:  # Slack leaves it out otherwise
            user["is_stranger"] = True
        if self.bot_id:
            user["profile"]["bot_id"] = self.bot_id
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class Message:
    ts: str
    channel: str
    text: str = ""
    blocks: Optional[List[Dict[str, Any]]] = None
    user: Optional[str] = None
    bot_id: Optional[str] = None
    thread_ts: Optional[str] = None
    edited: Optional[Dict[str, str]] = None
    reply_count: int = 0
    metadata: Optional[Dict[str, Any]] = None
    deleted: bool = False

    def to_slack(self, team_id: str = TEAM_ID, app_id: str = APP_ID) -> Dict[str, Any]:
        message: Dict[str, Any] = {"type": "message", "text": self.text, "ts": self.ts, "team": team_id}
        if self.user:
            message["user"] = self.user
        if self.bot_id:
            message["bot_id"] = self.bot_id
            message["app_id"] = app_id
            message["bot_profile"] = {
                "id": self.bot_id, "app_id": app_id, "name": BOT_NAME, "deleted": False, "team_id": team_id,
            }
        if self.blocks is not None:
            message["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.reply_count:
            message["reply_count"] = self.reply_count
            message["thread_ts"] = self.ts
        if self.edited:
            message["edited"] = dict(self.edited)
        if self.metadata:
            message["metadata"] = copy.deepcopy(self.metadata)
        return message


@dataclass
class Ephemeral:
    ts: str
    channel: str
    user: str  # who sees it
    text: str = ""
    blocks: Optional[List[Dict[str, Any]]] = None
    thread_ts: Optional[str] = None
    bot_id: Optional[str] = None

    def to_slack(self) -> Dict[str, Any]:
        message: Dict[str, Any] = {"type": "message", "subtype": "ephemeral", "text": self.text, "ts": self.ts}
        if self.blocks is not None:
            message["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.bot_id:
            message["bot_id"] = self.bot_id
        return message


@dataclass
class Channel:
    id: str
    name: str
    is_im: bool = False
    is_private: bool = False
    user: Optional[str] = None  # the person, for a DM
    members: List[str] = field(default_factory=list)
    created: int = 1764000000
    messages: List[Message] = field(default_factory=list)

    def to_slack(self, include_locale: bool = False, locale: str = "en-US") -> Dict[str, Any]:
        if self.is_im:
            info: Dict[str, Any] = {
                "id": self.id, "created": self.created, "is_im": True, "is_org_shared": False,
                "user": self.user, "is_user_deleted": False, "priority": 0,
            }
        else:
            info = {
                "id": self.id, "name": self.name, "name_normalized": self.name,
                "is_channel": not self.is_private, "is_group": self.is_private, "is_im": False,
                "is_mpim": False, "is_private": self.is_private, "created": self.created,
                "is_archived": False, "is_general": False, "is_member": BOT_USER_ID in self.members,
                "num_members": len(self.members),
            }
        if include_locale:
            info["locale"] = locale
        return info


@dataclass
class View:
    id: str
    type: str  # "modal" or "home"
    user: str  # whose screen it is on
    definition: Dict[str, Any]  # what the app sent: title, blocks, callback_id, ...
    hash: str
    state: Dict[str, Any] = field(default_factory=dict)  # {block_id: {action_id: {...}}}
    external_id: str = ""
    root_view_id: Optional[str] = None
    previous_view_id: Optional[str] = None
    closed: bool = False

    def to_slack(self, team_id: str = TEAM_ID, app_id: str = APP_ID, bot_id: str = BOT_ID) -> Dict[str, Any]:
        d = self.definition
        view: Dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "type": self.type,
            "blocks": copy.deepcopy(d.get("blocks", [])),
            "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""),
            "state": {"values": copy.deepcopy(self.state)},
            "hash": self.hash,
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "root_view_id": self.root_view_id or self.id,
            "previous_view_id": self.previous_view_id,
            "app_id": app_id,
            "external_id": self.external_id,
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }
        if self.type == "modal":
            view["title"] = copy.deepcopy(d.get("title"))
            view["close"] = copy.deepcopy(d.get("close"))
            view["submit"] = copy.deepcopy(d.get("submit"))
        else:
            view["title"] = copy.deepcopy(d.get("title")) if d.get("title") else None
            view["close"] = None
            view["submit"] = None
        return view


@dataclass
class Trigger:
    id: str
    user: str
    expires: float
    used: bool = False


@dataclass
class ResponseUrl:
    id: str
    user: str
    channel: Optional[str]
    message_ts: Optional[str]  # the message an action came from (replace_original edits it)
    is_ephemeral: bool = False
    uses_left: int = 5  # Slack: up to 5 times within 30 minutes


@dataclass
class ApiCall:
    method: str
    args: Dict[str, Any]
    status: int = 200
    ok: Optional[bool] = None
    error: Optional[str] = None


class Workspace:
    """Users, channels, messages, views and the call log of one Slack team."""

    def __init__(
        self,
        *,
        team_id: str = TEAM_ID,
        team_domain: str = TEAM_DOMAIN,
        team_name: str = TEAM_NAME,
        app_id: str = APP_ID,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
        bot_name: str = BOT_NAME,
        bot_token: str = BOT_TOKEN,
        clock: Callable[[], float] = time.time,
        trigger_lifetime: float = TRIGGER_LIFETIME,
    ):
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_name
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_token = bot_token
        self.clock = clock
        self.trigger_lifetime = trigger_lifetime
        self.origin: Optional[str] = None  # "http://127.0.0.1:PORT", set by the server serving it
        self.users: Dict[str, User] = {}
        self.channels: Dict[str, Channel] = {}
        self.ephemerals: List[Ephemeral] = []
        self.views: Dict[str, View] = {}
        self.home_views: Dict[str, str] = {}  # user id -> view id
        self.modal_stacks: Dict[str, List[str]] = {}  # user id -> open modal view ids, root first
        self.triggers: Dict[str, Trigger] = {}
        self.response_urls: Dict[str, ResponseUrl] = {}
        self.api_log: List[ApiCall] = []
        self.tokens: Dict[str, str] = {bot_token: bot_user_id}  # token -> user it acts as
        self.version = 0  # counts changes, so a browser can wait for the next one (`wait_for`)
        self._last_ts = 0
        self._ids = itertools.count(1)
        self.add_user(bot_user_id, bot_name, real_name=bot_name, is_bot=True, bot_id=bot_id)

    # -- seeding --------------------------------------------------------------------------------

    @classmethod
    def from_people(
        cls,
        people: Mapping[str, Tuple[str, Optional[str]]],
        *,
        channels: Mapping[str, str] = DEFAULT_CHANNELS,
        tz: str = DEFAULT_TZ,
        titles: Mapping[str, str] = {},
        **options: Any,
    ) -> "Workspace":
        """A workspace with these people ({user_id: (real name, language "en"/"fr")}, in that
        order), the bot, and `channels` ({id: name}) that everyone, the bot included, belongs to.
        `titles` gives people their profile title ({user_id: "Director"})."""
        workspace = cls(**options)
        for user_id, (real_name, language) in people.items():
            workspace.add_user(user_id, _handle(real_name), real_name=real_name,
                               locale=LOCALES.get(language or "en", "en-US"), tz=tz, title=titles.get(user_id, ""))
        members = list(workspace.users)
        for channel_id, name in channels.items():
            workspace.add_channel(channel_id, name, members=members)
        return workspace

    def add_user(self, user_id: str, name: str, *, real_name: Optional[str] = None, tz: str = DEFAULT_TZ,
                 locale: str = "en-US", is_bot: bool = False, bot_id: Optional[str] = None,
                 title: str = "", **kind: Any) -> User:
        """`kind`: Slack's flags for someone who is not a member: is_restricted, is_ultra_restricted
        (guests), team_id (their own workspace: Slack Connect), is_stranger."""
        with self.lock:
            user = User(user_id, name, real_name or name, tz=tz, locale=locale, is_bot=is_bot, bot_id=bot_id,
                        title=title, **kind)
            self.users[user_id] = user
            self._notify()
            return user

    def add_channel(self, channel_id: str, name: str, *, members: Iterable[str] = (),
                    is_private: bool = False) -> Channel:
        with self.lock:
            channel = Channel(channel_id, name, is_private=is_private, members=list(members))
            self.channels[channel_id] = channel
            self._notify()
            return channel

    # -- lookups --------------------------------------------------------------------------------

    def user(self, user_id: str) -> User:
        with self.lock:
            if user_id not in self.users:
                raise NotFound("user_not_found")
            return self.users[user_id]

    def channel(self, ref: str) -> Channel:
        """A channel by id ("C..", "D.."), by "#name" or name, or a user id's DM (opened if need be)."""
        with self.lock:
            if ref in self.channels:
                return self.channels[ref]
            if ref in self.users:
                return self.open_dm(ref)
            name = ref[1:] if ref.startswith("#") else ref
            for channel in self.channels.values():
                if not channel.is_im and channel.name == name:
                    return channel
            raise NotFound("channel_not_found")

    def open_dm(self, user_id: str) -> Channel:
        """The DM between the bot and this person, created on first use."""
        with self.lock:
            self.user(user_id)
            for channel in self.channels.values():
                if channel.is_im and channel.user == user_id:
                    return channel
            channel_id = "D" + user_id[1:]
            while channel_id in self.channels:
                channel_id = f"D{user_id[1:]}{next(self._ids)}"
            channel = Channel(channel_id, channel_id, is_im=True, user=user_id,
                              members=[user_id, self.bot_user_id])
            self.channels[channel_id] = channel
            self._notify()
            return channel

    def dm(self, user_id: str) -> Channel:
        return self.open_dm(user_id)

    def message(self, channel: str, ts: str) -> Message:
        with self.lock:
            for message in self.channel(channel).messages:
                if message.ts == ts and not message.deleted:
                    return message
            raise NotFound("message_not_found")

    def messages(self, channel: str, *, thread_ts: Optional[str] = None) -> List[Message]:
        """The channel's messages, oldest first (top-level and replies), or one thread's."""
        with self.lock:
            found = [m for m in self.channel(channel).messages if not m.deleted]
            if thread_ts is not None:
                found = [m for m in found if m.ts == thread_ts or m.thread_ts == thread_ts]
            return list(found)

    def ephemerals_for(self, user_id: str, channel: Optional[str] = None) -> List[Ephemeral]:
        with self.lock:
            channel_id = self.channel(channel).id if channel else None
            return [e for e in self.ephemerals
                    if e.user == user_id and (channel_id is None or e.channel == channel_id)]

    def home_view(self, user_id: str) -> Optional[View]:
        with self.lock:
            view_id = self.home_views.get(user_id)
            return self.views[view_id] if view_id else None

    def open_modals(self, user_id: str) -> List[View]:
        """The modals on this person's screen, root first (the last one is visible)."""
        with self.lock:
            return [self.views[v] for v in self.modal_stacks.get(user_id, [])]

    def calls(self, method: Optional[str] = None) -> List[ApiCall]:
        with self.lock:
            return [c for c in self.api_log if method is None or c.method == method]

    # -- writes ---------------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A message timestamp: the clock in microseconds, strictly increasing, unique."""
        with self.lock:
            micros = max(int(self.clock() * 1_000_000), self._last_ts + 1)
            self._last_ts = micros
            return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def post(self, channel: str, *, text: str = "", blocks: Optional[List[dict]] = None,
             user: Optional[str] = None, bot_id: Optional[str] = None, thread_ts: Optional[str] = None,
             metadata: Optional[dict] = None) -> Message:
        with self.lock:
            target = self.channel(channel)
            message = Message(self.next_ts(), target.id, text=text, blocks=blocks, user=user, bot_id=bot_id,
                              thread_ts=thread_ts, metadata=metadata)
            if thread_ts:
                for parent in target.messages:
                    if parent.ts == thread_ts:
                        parent.reply_count += 1
            target.messages.append(message)
            self._notify()
            return message

    def post_as_bot(self, channel: str, **kwargs: Any) -> Message:
        return self.post(channel, user=self.bot_user_id, bot_id=self.bot_id, **kwargs)

    def edit(self, channel: str, ts: str, *, by: str, text: Optional[str] = None,
             blocks: Optional[List[dict]] = None) -> Message:
        with self.lock:
            message = self.message(channel, ts)
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = blocks
            message.edited = {"user": by, "ts": self.next_ts()}
            self._notify()
            return message

    def delete(self, channel: str, ts: str) -> Message:
        with self.lock:
            message = self.message(channel, ts)
            message.deleted = True
            self._notify()
            return message

    def post_ephemeral(self, channel: str, user: str, *, text: str = "", blocks: Optional[List[dict]] = None,
                       thread_ts: Optional[str] = None) -> Ephemeral:
        with self.lock:
            target = self.channel(channel)
            self.user(user)
            ephemeral = Ephemeral(self.next_ts(), target.id, user, text=text, blocks=blocks,
                                  thread_ts=thread_ts, bot_id=self.bot_id)
            self.ephemerals.append(ephemeral)
            self._notify()
            return ephemeral

    def mint_trigger(self, user_id: str, lifetime: Optional[float] = None) -> str:
        """A trigger_id for an interaction by this person, valid for `lifetime` seconds
        (default `trigger_lifetime`, 3 s like Slack) and exchangeable once."""
        with self.lock:
            now = self.clock()
            trigger_id = f"{int(now)}.{next(self._ids)}.{secrets.token_hex(16)}"
            life = self.trigger_lifetime if lifetime is None else lifetime
            self.triggers[trigger_id] = Trigger(trigger_id, user_id, now + life)
            return trigger_id

    def exchange_trigger(self, trigger_id: Optional[str]) -> Trigger:
        """Use a trigger once; NotFound with Slack's error if it is unknown, expired or used."""
        with self.lock:
            trigger = self.triggers.get(trigger_id or "")
            if trigger is None:
                raise NotFound("invalid_trigger_id")
            if trigger.used:
                raise NotFound("exchanged_trigger_id")
            if self.clock() > trigger.expires:
                raise NotFound("expired_trigger_id")
            trigger.used = True
            return trigger

    def mint_response_url(self, user_id: str, channel: Optional[str], message_ts: Optional[str] = None,
                          is_ephemeral: bool = False) -> str:
        with self.lock:
            key = f"{self.team_id}/{next(self._ids)}/{secrets.token_hex(12)}"
            self.response_urls[key] = ResponseUrl(key, user_id, channel, message_ts, is_ephemeral)
            base = self.origin or "https://hooks.slack.com"
            return f"{base}/actions/{key}"

    def new_view(self, view_type: str, user: str, definition: Dict[str, Any], *,
                 root: Optional[str] = None, previous: Optional[str] = None) -> View:
        with self.lock:
            view_id = f"V{next(self._ids):010d}"
            view = View(view_id, view_type, user, copy.deepcopy(definition), self._new_hash(),
                        external_id=definition.get("external_id", "") or "", root_view_id=root or view_id,
                        previous_view_id=previous)
            self.views[view_id] = view
            self._notify()
            return view

    def replace_view(self, view: View, definition: Dict[str, Any]) -> View:
        with self.lock:
            view.definition = copy.deepcopy(definition)
            if definition.get("external_id"):
                view.external_id = definition["external_id"]
            block_ids = {b.get("block_id") for b in definition.get("blocks", [])}
            view.state = {k: v for k, v in view.state.items() if k in block_ids}
            view.hash = self._new_hash()
            self._notify()
            return view

    def view_by_external_id(self, external_id: str) -> View:
        with self.lock:
            for view in self.views.values():
                if view.external_id == external_id and not view.closed:
                    return view
            raise NotFound("not_found")

    def close_modals(self, user_id: str, upto: Optional[str] = None) -> None:
        """Close this person's modals: all of them, or the top ones down to and including `upto`."""
        with self.lock:
            stack = self.modal_stacks.get(user_id, [])
            while stack:
                view_id = stack.pop()
                self.views[view_id].closed = True
                if view_id == upto:
                    break
            self._notify()

    def record_call(self, method: str, args: Dict[str, Any]) -> ApiCall:
        with self.lock:
            call = ApiCall(method, copy.deepcopy(args))
            self.api_log.append(call)
            self._notify()
            return call

    # -- waiting --------------------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Block until `predicate()` (called under the lock) returns something truthy; return it.
        Raises TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"workspace never satisfied {predicate!r} within {timeout} s")
                self._changed.wait(left)

    def changed(self) -> None:
        """Tell waiters that something changed (for code that edits the dataclasses directly)."""
        with self.lock:
            self._notify()

    def _notify(self) -> None:
        self.version += 1
        self._changed.notify_all()

    def _new_hash(self) -> str:
        return f"{int(self.clock())}.{secrets.token_hex(4)}"


def _handle(real_name: str) -> str:
    return ".".join(real_name.lower().split())


def _tz_offset(tz: str) -> int:
    try:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        return int(offset.total_seconds()) if offset else 0
    except Exception:  # noqa: BLE001 - a zone name Python does not know: shown as UTC
        return 0
