"""Policy edits while the bot runs (bot/policy_watch.py): each version in force audited once, each
refused edit audited and reported in the admin channel once, across processes; the stand-in is
the Slack, the database a migrated SQLite file, the policy a copy of the default pack."""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

import storage
from bot.policy_watch import PolicyWatch, poll_interval_from_env, start_policy_thread
from policies import DEFAULT_POLICY, PolicyInForce
from standin import StandIn, Workspace

from slack_kit import MANAGER, REQUESTER, store_request

ADMINS = "C0ADMINS"


class Kit:
    def __init__(self, tmp_path, standin, workspace):
        self.path = tmp_path / "pack.yml"
        shutil.copy(DEFAULT_POLICY, self.path)
        url = f"sqlite:///{tmp_path / 'microbuy.db'}"
        storage.upgrade(url)
        self.sessions = storage.make_session_factory(storage.make_engine(url))
        self.workspace, self.standin = workspace, standin
        self.client = WebClient(token=workspace.bot_token, base_url=standin.url)
        self.edits = 0

    def watched(self):
        """A process's view of the policy: its own PolicyInForce and watch on the shared file."""
        in_force = PolicyInForce(self.path)
        PolicyWatch(self.sessions, in_force, self.client)
        return in_force

    def edit(self, old, new):
        self.path.write_text(self.path.read_text().replace(old, new))
        self.edits += 1
        os.utime(self.path, ns=(self.edits * 10**9, self.edits * 10**9))  # a new stamp, whatever the clock

    def audit(self, prefix="policy."):
        with self.sessions() as session:
            rows = session.execute(select(storage.AuditEntry).order_by(storage.AuditEntry.id)).scalars()
            return [(row.action, row.payload) for row in rows if row.action.startswith(prefix)]

    def admin_posts(self):
        return [m.text for m in self.workspace.channel(ADMINS).messages if m.bot_id]


@pytest.fixture
def kit(tmp_path):
    workspace = Workspace.from_people({MANAGER: ("Amina Haddad", "en"), REQUESTER: ("Nadia Roy", "fr")},
                                      channels={ADMINS: "microbuy-admins"})
    with StandIn(workspace) as standin:
        yield Kit(tmp_path, standin, workspace)


def test_the_version_at_start_is_audited_without_a_post(kit):
    first = kit.watched()()
    [(action, data)] = kit.audit("policy.in_force")
    assert data["version"] == first.version and data["previous"] is None
    assert len(data["sha256"]) == 64
    assert kit.admin_posts() == []
    with kit.sessions() as session:
        assert session.get(storage.PolicyVersion, first.version).content == first.content


def test_a_valid_edit_is_audited_and_announced_once_across_processes(kit):
    bot, other = kit.watched(), kit.watched()
    first, _ = bot(), other()
    kit.edit("remind_after_hours: 24", "remind_after_hours: 12")
    new = bot()
    assert other().version == new.version != first.version
    in_force = kit.audit("policy.in_force")
    assert [d["previous"] for _, d in in_force] == [None, first.version]
    assert in_force[-1][1]["version"] == new.version
    [post] = kit.admin_posts()
    assert f"Policy *{new.short_version}* is now in force (was {first.short_version})" in post


def test_a_broken_edit_is_refused_audited_and_reported_once(kit):
    bot, other = kit.watched(), kit.watched()
    first, _ = bot(), other()
    kit.edit("remind_after_hours: 24", "remind_after_hours: 24\n    '<!channel>': 1")
    assert bot() is first and bot() is first and other().version == first.version
    [(_, data)] = kit.audit("policy.refused")
    assert data["kept_version"] == first.version and "reminders.<!channel>" in data["report"]
    [post] = kit.admin_posts()
    assert "was refused" in post and f"version {first.short_version}" in post
    assert "approval.reminders." in post
    assert "<!channel>" not in post and "&lt;!channel&gt;" in post  # the file's text is data


def test_no_admin_channel_means_no_post_but_the_audit_stands(kit):
    kit.edit("  admin_channel: '#microbuy-admins'\n", "")
    bot = kit.watched()
    bot()
    kit.edit("remind_after_hours: 24", "remind_after_hours: 12")
    bot()
    assert len(kit.audit("policy.in_force")) == 2 and kit.admin_posts() == []


def test_slack_failing_does_not_lose_the_audit(kit):
    bot = kit.watched()
    bot()
    kit.standin.rate_limit("chat.postMessage", times=5)
    kit.edit("remind_after_hours: 24", "remind_after_hours: 12")
    assert bot().rules.approval.reminders.remind_after_hours == 12
    assert len(kit.audit("policy.in_force")) == 2 and kit.admin_posts() == []


def test_the_watch_thread_takes_an_edit_nobody_asked_for(kit):
    bot = kit.watched()
    bot()
    stop = threading.Event()
    thread = start_policy_thread(bot, 0.05, stop)
    try:
        kit.edit("remind_after_hours: 24", "remind_after_hours: 12")
        kit.workspace.wait_for(lambda: kit.admin_posts(), timeout=5)
    finally:
        stop.set()
        thread.join(2)
    assert "now in force" in kit.admin_posts()[0]


def test_pending_requests_judged_differently_are_flagged_to_their_approver_once(kit):
    bot = kit.watched()
    first = bot()
    # The small one first: judged as of its submission, the big one is not yet its history.
    small = store_request(kit.sessions, first, supplier="Staples", total="25.00")
    big = store_request(kit.sessions, first, supplier="Dell", total="4000.00")
    kit.edit("- {from: 2019-04-01, amount: 10000}", "- {from: 2019-04-01, amount: 3000}")
    new = bot()
    assert new.version != first.version

    dms = [m.text for c in kit.workspace.channels.values() if c.is_im and c.user == MANAGER
           for m in c.messages if m.bot_id]
    assert len(dms) == 1, "\n".join(dms)
    [dm] = dms
    assert f"MB-{big:06d}" in dm and "goes to approval → blocked" in dm and "over the" in dm
    assert f"MB-{small:06d}" not in dm
    [post] = kit.admin_posts()
    assert "1 request(s) waiting for a decision are judged differently" in post and f"MB-{big:06d}" in post
    [(_, data)] = kit.audit("policy.flagged")
    assert data["to"] == [MANAGER] and data["changed"][0] == "outcome"

    # A second process seeing the same edit flags nobody again.
    kit.watched()()
    assert len(kit.audit("policy.flagged")) == 1


def test_poll_interval_from_the_environment():
    assert poll_interval_from_env({}) == 10.0
    assert poll_interval_from_env({"MICROBUY_POLICY_POLL_S": "0"}) == 0
    for bad in ("soon", "-1", "inf"):
        with pytest.raises(ValueError, match="MICROBUY_POLICY_POLL_S"):
            poll_interval_from_env({"MICROBUY_POLICY_POLL_S": bad})
