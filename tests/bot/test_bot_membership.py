"""Only members of the workspace may use microbuy (bot/membership.py): a guest, someone of another
organisation (Slack Connect) and anyone Slack cannot vouch for are refused at every entry point,
politely, and nothing of what they did reaches Rasa, the database or a decision. Through the
stand-in to the bot over signed HTTP: the product with Rasa (tests/bot/conftest.py) for what
people say, and one without Rasa for clicks on a request stored as the dialogue stores it."""
from __future__ import annotations

import contextlib
import logging
import time
import uuid

from sqlalchemy import create_engine, text

import storage
from bot.app import build_app
from bot.approvals import button_value
from bot.server import serve_in_background
from policies import load_policy
from standin import Deliverer, StandIn, Workspace

from slack_kit import (
    APPROVALS,
    MANAGER,
    SECRET,
    buttons_of,
    settings_for,
    store_request,
    submit_a_purchase,
    text_of,
    workspace_of,
)

PARTNER = "T0PARTNER"
REFUSED = "only members of this workspace can use microbuy"
UNCHECKED = "cannot check right now that you are a member"
NOTHING = {"rasa turns": 0, "requests": 0, "audit rows": 0, "decisions": 0, "claimed": 0}


def rows(url: str, sql: str, **params):
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def outsider(slack, kind: str) -> str:
    """A new guest ("guest") or person of a partner organisation ("external") in the workspace and
    the approval channel, described by users.info as Slack describes them."""
    user = f"U0{kind[:3].upper()}{uuid.uuid4().hex[:6].upper()}"
    flags = {"guest": {"is_restricted": True}, "external": {"team_id": PARTNER}}[kind]
    slack.workspace.add_user(user, user.lower(), real_name=f"{kind.title()} {user[-4:]}", **flags)
    with slack.workspace.lock:
        slack.workspace.channels[APPROVALS].members.append(user)
    return user


def footprint(url: str, user: str, delivery_id: str = "") -> dict:
    """What a person left behind: turns in Rasa's conversation store (no table: no Rasa ran),
    requests, audit rows, decisions, and the delivery (event id or trigger id) claimed as handled."""
    count = lambda sql, **p: rows(url, sql, **p)[0][0]  # noqa: E731
    rasa_ran = bool(rows(url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'"))
    return {
        "rasa turns": count("SELECT count(*) FROM events WHERE sender_id LIKE :s", s=f"%:{user}") if rasa_ran else 0,
        "requests": count("SELECT count(*) FROM purchase_requests WHERE requester = :u", u=user),
        "audit rows": count("SELECT count(*) FROM audit_log WHERE actor = :u", u=user),
        "decisions": count("SELECT count(*) FROM decisions WHERE approver = :u", u=user),
        "claimed": count("SELECT count(*) FROM processed_events WHERE event_id = :e", e=delivery_id or "-"),
    }


def refusals(workspace: Workspace, user: str, channel: str, timeout: float = 10.0):
    return workspace.wait_for(lambda: [e.text for e in workspace.ephemerals_for(user, channel)], timeout=timeout)


# -- what people say and open, with Rasa running -------------------------------------------------

def test_a_guests_dm_is_answered_with_a_refusal_and_reaches_nothing(slack):
    guest = outsider(slack, "guest")
    replies = slack.say(guest, "I need to buy a box of pens from Staples for $25")
    assert [REFUSED in text_of([m]).lower() for m in replies] == [True]
    assert footprint(slack.database_url, guest, slack.deliver.deliveries[-1].event_id) == NOTHING
    # A member's DM is the conversation as always.
    member = f"U0MEM{uuid.uuid4().hex[:6].upper()}"
    slack.workspace.add_user(member, member.lower(), real_name="Member Tester")
    replies = slack.say(member, "I need to buy a box of pens from Staples for $25")
    assert REFUSED not in text_of(replies).lower()
    assert footprint(slack.database_url, member)["rasa turns"] > 0


def test_a_guests_buy_command_is_refused_in_its_answer(slack):
    guest = outsider(slack, "guest")
    dm = slack.workspace.dm(guest).id
    delivery = slack.deliver.slash_command(guest, "/buy", "a box of pens from Staples for $25")
    assert delivery.status == 200
    shown = refusals(slack.workspace, guest, dm)
    assert len(shown) == 1 and REFUSED in shown[0].lower()
    time.sleep(1.0)  # nothing follows in the DM
    assert slack.bot_messages(dm) == []
    assert footprint(slack.database_url, guest, delivery.trigger_id) == NOTHING


def test_a_mention_by_someone_of_another_organisation_is_refused(slack):
    external = outsider(slack, "external")
    delivery = slack.deliver.mention(external, APPROVALS, "I need to buy a box of pens from Staples for $25")
    assert delivery.status == 200
    shown = refusals(slack.workspace, external, APPROVALS)
    assert len(shown) == 1 and REFUSED in shown[0].lower()
    time.sleep(1.0)
    assert slack.bot_messages(slack.workspace.dm(external).id) == []
    assert footprint(slack.database_url, external, delivery.event_id) == NOTHING


def test_a_guests_home_tab_shows_the_refusal_not_requests(slack):
    guest = outsider(slack, "guest")
    assert slack.deliver.app_home_opened(guest).status == 200
    home = slack.workspace.wait_for(lambda: slack.workspace.home_view(guest), timeout=10)
    shown = " ".join(b["text"]["text"] for b in home.definition["blocks"] if b.get("type") == "section")
    assert REFUSED in shown.lower()


def test_a_guests_click_on_approve_decides_nothing_and_the_approver_still_can(slack):
    _, post = submit_a_purchase(slack, "Guestclick Supplies")  # a member's whole conversation
    ((request_id, status),) = rows(slack.database_url, "SELECT id, status FROM purchase_requests WHERE supplier = :s",
                                   s="Guestclick Supplies")
    assert status == "submitted"
    approve = next(b for b in buttons_of(post) if b["action_id"] == "approve")
    guest = outsider(slack, "guest")
    delivery = slack.deliver.block_action(guest, post, "approve", approve["value"])
    assert delivery.status == 200
    shown = refusals(slack.workspace, guest, APPROVALS)
    assert len(shown) == 1 and REFUSED in shown[0].lower()
    time.sleep(1.0)
    assert rows(slack.database_url, "SELECT status FROM purchase_requests WHERE id = :r",
                r=request_id) == [("submitted",)]
    assert rows(slack.database_url, "SELECT count(*) FROM decisions WHERE request_id = :r", r=request_id) == [(0,)]
    assert slack.workspace.message(APPROVALS, post.ts).edited is None  # the post is as it was
    assert footprint(slack.database_url, guest) == NOTHING
    # The approver on the route, a member, decides it.
    assert slack.deliver.block_action(MANAGER, post, "approve", approve["value"]).status == 200
    slack.workspace.wait_for(lambda: rows(slack.database_url, "SELECT status FROM purchase_requests WHERE id = :r",
                                          r=request_id) == [("approved",)], timeout=15)


# -- clicks on a stored request, without Rasa ------------------------------------------------------

class Clicks:
    """The bot over signed HTTP on a database of its own, its Rasa nowhere (no one talks here)."""

    def __init__(self, workspace: Workspace, standin: StandIn, deliver: Deliverer, url: str, sessions, policy):
        self.workspace, self.standin, self.deliver, self.url = workspace, standin, deliver, url
        self.sessions, self.policy = sessions, policy

    def pending_post(self, supplier: str):
        """A request waiting for its manager (Amina, cost centre 100200) and its post's Approve button."""
        request_id = store_request(self.sessions, self.policy, supplier=supplier)
        ((revision, step),) = rows(self.url, "SELECT revision, approval_step FROM purchase_requests WHERE id = :r",
                                   r=request_id)
        button = {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"},
                  "value": button_value(request_id, revision, step)}
        post = self.workspace.post_as_bot(APPROVALS, text=f"MB-{request_id:06d}",
                                          blocks=[{"type": "actions", "block_id": "decide", "elements": [button]}])
        return request_id, post

    def status(self, request_id: int) -> str:
        return rows(self.url, "SELECT status FROM purchase_requests WHERE id = :r", r=request_id)[0][0]


@contextlib.contextmanager
def clicks_product(tmp_path, guests=()):
    url = f"sqlite:///{tmp_path / 'microbuy.db'}"
    storage.upgrade(url)
    policy = load_policy()
    workspace = workspace_of(policy, channels={APPROVALS: "microbuy-approvals"})
    for user in guests:  # the policy names them, but Slack says they are guests now
        workspace.users[user].is_restricted = True
    engine = storage.make_engine(url)
    try:
        with StandIn(workspace) as standin:
            settings = settings_for(workspace, standin.url, "membership-tests-rasa-secret")
            sessions = storage.make_session_factory(engine)
            app = build_app(settings, sessions=sessions, policy=lambda: policy)
            server, events_url = serve_in_background(app)
            try:
                yield Clicks(workspace, standin, Deliverer(events_url, SECRET, workspace), url, sessions, policy)
            finally:
                server.shutdown()
                server.server_close()
    finally:
        engine.dispose()


def test_an_approver_the_policy_names_who_is_now_a_guest_cannot_decide(tmp_path):
    with clicks_product(tmp_path, guests={MANAGER}) as product:
        request_id, post = product.pending_post("Guest Approver Supplies")
        assert product.deliver.block_action(MANAGER, post, "approve").status == 200
        shown = refusals(product.workspace, MANAGER, APPROVALS)
        assert len(shown) == 1 and REFUSED in shown[0].lower()
        time.sleep(1.0)
        assert product.status(request_id) == "submitted"
        assert footprint(product.url, MANAGER) == NOTHING


def test_when_slack_cannot_say_who_someone_is_they_are_refused_and_the_log_says_why(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="bot.membership")
    with clicks_product(tmp_path) as product:
        request_id, post = product.pending_post("Slack Down Supplies")
        product.standin.rate_limit("users.info", times=1)  # Slack answers 429 to the next users.info
        assert product.deliver.block_action(MANAGER, post, "approve").status == 200
        shown = refusals(product.workspace, MANAGER, APPROVALS)
        assert len(shown) == 1 and UNCHECKED in shown[0].lower()
        time.sleep(1.0)
        assert product.status(request_id) == "submitted"
        assert footprint(product.url, MANAGER) == NOTHING
        assert any(MANAGER in r.getMessage() and "refused" in r.getMessage() and "users.info" in r.getMessage()
                   for r in caplog.records), [r.getMessage() for r in caplog.records]
        # Slack answers again: the same click by the same member decides it.
        assert product.deliver.block_action(MANAGER, post, "approve").status == 200
        product.workspace.wait_for(lambda: product.status(request_id) == "approved", timeout=15)
        product.workspace.wait_for(lambda: product.workspace.message(APPROVALS, post.ts).edited, timeout=15)
        time.sleep(0.5)  # the requester's DM, before the stand-in stops


# -- the rule itself ----------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_slacks_fields_decide_who_is_a_member():
    from bot.membership import verdict_of

    team = "T0STANDIN"
    member = {"id": "U1", "team_id": team, "is_restricted": False, "is_ultra_restricted": False, "is_bot": False,
              "deleted": False, "locale": "fr-CA"}
    cases = {
        "member": (member, True),
        "guest": ({**member, "is_restricted": True}, False),
        "single-channel guest": ({**member, "is_restricted": True, "is_ultra_restricted": True}, False),
        "another organisation": ({**member, "team_id": PARTNER}, False),
        "stranger": ({**member, "is_stranger": True}, False),
        "bot": ({**member, "is_bot": True}, False),
        "deactivated": ({**member, "deleted": True}, False),
        "no team": ({k: v for k, v in member.items() if k != "team_id"}, False),
        # Enterprise Grid: a member of this workspace whose home workspace is another of the org.
        "grid member": ({**member, "team_id": "T0OTHER", "enterprise_user": {"teams": [team, "T0OTHER"]}}, True),
        "grid non-member": ({**member, "team_id": "T0OTHER", "enterprise_user": {"teams": ["T0OTHER"]}}, False),
    }
    assert {name: verdict_of(user, team).member for name, (user, _) in cases.items()} == {
        name: expected for name, (_, expected) in cases.items()}
    assert verdict_of(member, team).language == "fr"  # the refusal is in their Slack language


def test_a_member_known_within_the_hour_stays_one_while_slack_is_down_and_no_longer():
    from slack_sdk import WebClient

    from bot.membership import FRESH_S, STALE_S, Membership

    workspace = Workspace.from_people({MANAGER: ("Amina Haddad", "en")})
    with StandIn(workspace) as standin:
        clock = Clock()
        membership = Membership.asking(WebClient(token=workspace.bot_token, base_url=standin.url), clock=clock)
        team = workspace.team_id
        assert membership.check(MANAGER, team).member
        assert membership.check(MANAGER, team).member and len(workspace.calls("users.info")) == 1  # remembered
        standin.rate_limit("users.info", times=10)
        clock.now += FRESH_S + 1
        assert membership.check(MANAGER, team).member  # asked again, Slack down, a member 5 minutes ago
        assert len(workspace.calls("users.info")) == 2
        clock.now += STALE_S
        verdict = membership.check(MANAGER, team)
        assert not verdict.member and not verdict.checked
