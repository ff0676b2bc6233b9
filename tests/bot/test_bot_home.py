"""App Home through the Slack protocol: a signed app_home_opened from the stand-in, the bot served
over HTTP (no Rasa: the Home tab never needs it), and the view it publishes read back from the
stand-in workspace. Requests are stored directly, as the dialogue would store them."""
from __future__ import annotations

import json
import time
from datetime import date

import pytest

import storage
from bot.app import build_app
from bot.home import home_view
from bot.server import serve_in_background
from bot.settings import Settings
from policies import load_policy
from standin import Deliverer, StandIn, Workspace
from standin.blocks import check_view

from slack_kit import APPROVALS, MANAGER, SECRET, store_request

REQUESTER = "U06OLIVIA"  # reads English
FRENCH_REQUESTER = "U09NADIA"  # reads French
DELEGATE = "U08JORDAN"  # the manager's delegate from 2026-12-21 (policies/esdc.yml)
NOBODY = "U05ELENA"  # no requests, on no route of cost centre 100200
TITLE = "<!channel> pens & <@U123> markers"


class Home:
    def __init__(self, workspace, deliver, policy, database_url, refs):
        self.workspace, self.deliver, self.policy, self.database_url, self.refs = (
            workspace, deliver, policy, database_url, refs)

    def publishes(self, user):
        return [c for c in self.workspace.calls("views.publish") if c.args.get("user_id") == user]

    def open(self, user, deliver=None):
        """Open `user`'s Home tab; the blocks of the view the bot publishes for it."""
        before = len(self.publishes(user))
        delivery = (deliver or self.deliver).app_home_opened(user)
        assert delivery.status == 200, delivery.response_body
        self.workspace.wait_for(lambda: len(self.publishes(user)) > before, timeout=5)
        call = self.publishes(user)[-1]
        assert call.ok, call.error
        return self.workspace.home_view(user).definition["blocks"]


def store(sessions, policy, requester, supplier, *, title=None, on=date(2026, 11, 25), total="25.00"):
    return store_request(sessions, policy, requester=requester, supplier=supplier, title=title, on=on, total=total)


def decide(sessions, request_id, outcome, reason=None):
    with sessions.begin() as session:
        storage.record_decision(session, request_id, revision=1, step=0, approver=MANAGER, outcome=outcome,
                                reason=reason)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    folder = tmp_path_factory.mktemp("home")
    url = f"sqlite:///{folder / 'microbuy.db'}"
    storage.upgrade(url)
    policy = load_policy()
    sessions = storage.make_session_factory(storage.make_engine(url))

    ids = {}
    ids["submitted"] = store(sessions, policy, REQUESTER, "Staples", title=TITLE)
    for status, supplier in [("approved", "Costco"), ("changes_requested", "Indigo"), ("rejected", "Best Buy"),
                             ("purchased", "Grand & Toy"), ("received", "Canadian Tire")]:
        ids[status] = store(sessions, policy, REQUESTER, supplier)
        decide(sessions, ids[status], "approved" if status in ("purchased", "received") else status,
               reason=None if status in ("approved", "purchased", "received") else "no")
    with sessions.begin() as session:
        for status in ("purchased", "received"):
            storage.mark_purchased(session, ids[status], actor=REQUESTER, amount_paid="26.25",
                                   purchased_on=date(2026, 11, 26))
        storage.mark_received(session, ids["received"], actor=REQUESTER, received_on=date(2026, 11, 28))
    # Judged while the manager is away: the route names the delegate too.
    ids["delegated"] = store(sessions, policy, REQUESTER, "Home Depot", on=date(2026, 12, 22))
    ids["french"] = store(sessions, policy, FRENCH_REQUESTER, "Bureau en gros", total="1234.50")
    refs = {name: f"MB-{request_id:06d}" for name, request_id in ids.items()}

    people = {uid: (p.name, p.language or "en") for uid, p in policy.rules.people.items()}
    workspace = Workspace.from_people(people, channels={APPROVALS: "microbuy-approvals"})
    with StandIn(workspace) as standin:
        settings = Settings.from_env({
            "SLACK_BOT_TOKEN": workspace.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": standin.url,
            "RASA_URL": "http://127.0.0.1:9",  # never called: nobody sends a message
            "MICROBUY_RASA_SECRET": "never-sent-to-anyone",
        })
        app = build_app(settings, sessions=sessions, policy=lambda: policy)
        server, events_url = serve_in_background(app)
        # The same bot on a database that is not there.
        broken = storage.make_session_factory(storage.make_engine(f"sqlite:///{folder / 'missing' / 'x.db'}"))
        broken_server, broken_url = serve_in_background(build_app(settings, sessions=broken, policy=lambda: policy))
        try:
            kit = Home(workspace, Deliverer(events_url, SECRET, workspace), policy, url, refs)
            kit.broken = Deliverer(broken_url, SECRET, workspace)
            yield kit
        finally:
            for running in (server, broken_server):
                running.shutdown()
                running.server_close()


def section_of(blocks, reference):
    found = [b["text"]["text"] for b in blocks if b["type"] == "section" and f"*{reference}*" in b["text"]["text"]]
    assert len(found) == 1, (reference, blocks)
    return found[0]


def headers(blocks):
    return [b["text"]["text"] for b in blocks if b["type"] == "header"]


def test_requester_sees_each_request_with_its_status_and_what_it_waits_for(home):
    blocks = home.open(REQUESTER)
    refs = home.refs
    assert headers(blocks) == ["Your purchase requests"]  # not an approver of anything pending

    submitted = section_of(blocks, refs["submitted"])
    assert "Status: *Waiting for approval*" in submitted and "Total: $26.25" in submitted
    assert f"Waiting for: <@{MANAGER}> (Fund-centre manager (section 32), step 1 of 1)" in submitted
    delegated = section_of(blocks, refs["delegated"])
    assert f"Waiting for: <@{MANAGER}> or <@{DELEGATE}> (" in delegated

    expected = {
        "approved": ("Approved", "you may buy it; report the purchase"),
        "changes_requested": ("Changes requested", "your changes"),
        "purchased": ("Bought", "report receipt"),
        "received": ("Received", f"section 34 certification by <@{MANAGER}>"),
    }
    for name, (status, waiting) in expected.items():
        text = section_of(blocks, refs[name])
        assert f"Status: *{status}*" in text, text
        assert text.endswith(f"Waiting for: {waiting}"), text
    rejected = section_of(blocks, refs["rejected"])
    assert "Status: *Rejected*" in rejected and "Waiting for" not in rejected  # final: waits for nothing

    # Newest first, and only this requester's.
    shown = [b["text"]["text"].split("*")[1] for b in blocks if b["type"] == "section"]
    mine = [refs[n] for n in ("submitted", "approved", "changes_requested", "rejected", "purchased", "received",
                              "delegated")]
    assert shown == sorted(mine, reverse=True)
    assert any("type /buy" in e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])


def test_a_title_typed_by_the_requester_is_inert(home):
    blocks = home.open(REQUESTER)
    text = section_of(blocks, home.refs["submitted"])
    assert "&lt;!channel&gt; pens &amp; &lt;@U123&gt; markers" in text
    published = json.dumps(blocks)
    assert "<!channel>" not in published and "<@U123>" not in published


def test_an_approver_sees_what_waits_for_their_decision(home):
    blocks = home.open(MANAGER)
    refs = home.refs
    assert headers(blocks) == ["Your purchase requests", "Waiting for your decision"]
    assert "Message me what you need to buy, or type /buy" in json.dumps(blocks)  # no requests of their own
    after = blocks[[b["type"] for b in blocks].index("divider"):]
    listed = [b["text"]["text"].split("*")[1] for b in after if b["type"] == "section"]
    # Pending ones only: the decided requests are not listed; newest first.
    assert listed == [refs["french"], refs["delegated"], refs["submitted"]]
    assert f"requested by <@{REQUESTER}>" in section_of(after, refs["submitted"])
    assert f"requested by <@{FRENCH_REQUESTER}>" in section_of(after, refs["french"])
    assert "$1,296.23" in section_of(after, refs["french"])  # the manager reads English: en_CA
    assert "as delegate" not in json.dumps(after)

    # The delegate sees only the request routed to them, marked as such.
    blocks = home.open(DELEGATE)
    after = blocks[[b["type"] for b in blocks].index("divider"):]
    assert [b["text"]["text"].split("*")[1] for b in after if b["type"] == "section"] == [refs["delegated"]]
    assert f"as delegate for <@{MANAGER}>" in section_of(after, refs["delegated"])


def test_a_person_with_no_requests_is_told_how_to_start(home):
    blocks = home.open(NOBODY)
    assert len(blocks) == 3 and headers(blocks) == ["Your purchase requests"]
    assert blocks[1]["block_id"] == "language"  # the language control
    assert blocks[2]["text"]["text"] == ("You have no purchase requests yet. "
                                         "Message me what you need to buy, or type /buy.")


def test_the_home_tab_is_in_the_readers_language(home):
    blocks = home.open(FRENCH_REQUESTER)
    assert headers(blocks) == ["Vos demandes d'achat"]
    text = section_of(blocks, home.refs["french"])
    assert "État: *En attente d'approbation*" in text
    assert "1\u00a0296,23\u00a0$" in text and f"<@{MANAGER}>" in text


def test_the_messages_tab_publishes_nothing(home):
    before = len(home.publishes(REQUESTER))
    assert home.deliver.app_home_opened(REQUESTER, tab="messages").status == 200
    time.sleep(0.5)
    assert len(home.publishes(REQUESTER)) == before


def test_a_database_that_is_down_gives_a_small_view_not_an_empty_tab(home):
    blocks = home.open(NOBODY, deliver=home.broken)
    assert "can't be shown right now" in blocks[-1]["text"]["text"] and len(blocks) == 2


def test_the_view_stays_within_slacks_limits(tmp_path):
    url = f"sqlite:///{tmp_path / 'many.db'}"
    storage.upgrade(url)
    policy = load_policy()
    sessions = storage.make_session_factory(storage.make_engine(url))
    route = [{"level": "manager", "approvers": [MANAGER], "delegates": []}]
    long_title = "&<>" * 66  # 198 characters, five times as many escaped
    with sessions.begin() as session:
        for i in range(130):
            requester = MANAGER if i < 25 else f"U7{i:04d}"
            storage.create_request(session, requester=requester, cost_centre="100200", category="office_supplies",
                                   supplier=f"S{i}", description="d", title=long_title, subtotal="10.00",
                                   tax="0.00", total="10.00", answers={}, evaluation={}, route=route,
                                   policy_version="v1")
    with sessions() as session:
        view = home_view(session, policy, MANAGER)
    assert check_view(view) == []  # 100 blocks, 3,000 characters a section, 150 a header
    blocks = view["blocks"]
    assert len(blocks) <= 100
    before_divider = blocks[:[b["type"] for b in blocks].index("divider")]
    assert sum(b["type"] == "section" for b in before_divider) == 20  # the newest 20 of their own 25
    # 105 others' requests wait for the manager (never their own 25): 40 listed, the rest counted.
    after = blocks[len(before_divider):]
    assert sum(b["type"] == "section" for b in after) == 40
    assert f"<@{MANAGER}>" not in json.dumps(after)
    assert blocks[-1]["elements"][0]["text"] == "… and 65 more waiting for you."
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
