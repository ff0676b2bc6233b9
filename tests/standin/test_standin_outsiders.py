"""The two people `python -m standin` seeds who may not use microbuy: a guest and someone of a
partner organisation (Slack Connect). users.info describes them with Slack's own fields, the page
offers them in its user switcher, and what they do reaches the app as Slack sends it."""
import httpx
from slack_sdk import WebClient

from standin import Deliverer, StandIn
from standin.seed import workspace_from_policy

from app_recorder import Recorder

GUEST, EXTERNAL, MEMBER = "U0GUEST", "U0EXTERNAL", "U01AMINA"
PARTNER_TEAM = "T0PARTNER"  # the partner organisation's workspace (standin/seed.py)


def test_users_info_marks_the_guest_and_the_partner_as_slack_does():
    workspace = workspace_from_policy()
    with StandIn(workspace) as standin:
        client = WebClient(token=workspace.bot_token, base_url=standin.url, timeout=5)
        guest = client.users_info(user=GUEST)["user"]
        external = client.users_info(user=EXTERNAL)["user"]
        member = client.users_info(user=MEMBER)["user"]
        assert (guest["is_restricted"], guest["is_ultra_restricted"], guest["team_id"]) == \
            (True, False, workspace.team_id)
        assert (external["is_restricted"], external["team_id"], external["profile"]["team"]) == (
            False, PARTNER_TEAM, PARTNER_TEAM)
        assert (member["is_restricted"], member["is_ultra_restricted"], member["team_id"]) == (
            False, False, workspace.team_id)
        assert not any("is_stranger" in u for u in (guest, external, member))  # in a shared channel: not strangers
        # The page lists them (last) so a person can try microbuy as them.
        state = httpx.get(f"{standin.origin}/ui/api/state", params={"user": GUEST}).json()
        people = {p["id"]: p["title"] for p in state["people"]}
        assert list(people)[-2:] == [GUEST, EXTERNAL]
        assert "Guest" in people[GUEST] and "Slack Connect" in people[EXTERNAL]
        assert state["user"]["id"] == GUEST and len(state["conversations"]) > 1  # their DM and the channels


def test_the_partners_actions_carry_their_own_workspace():
    workspace = workspace_from_policy()
    channel = next(c.id for c in workspace.channels.values() if not c.is_im)
    recorder = Recorder()
    try:
        deliver = Deliverer(recorder.url, "secret", workspace)
        check_payloads(deliver, workspace, channel)
    finally:
        recorder.close()


def check_payloads(deliver, workspace, channel):
    mention = deliver.mention(EXTERNAL, channel, "I need pens")
    event = mention.payload["event"]
    assert (mention.payload["team_id"], event["user_team"], event["source_team"]) == (
        workspace.team_id, PARTNER_TEAM, PARTNER_TEAM)
    assert mention.payload["is_ext_shared_channel"] is True
    message = workspace.messages(channel)[-1]
    click = deliver.block_action(EXTERNAL, message, "approve", "x")
    assert click.payload["user"]["team_id"] == PARTNER_TEAM and click.payload["team"]["id"] == workspace.team_id
    member = deliver.mention(MEMBER, channel, "hello").payload
    assert "user_team" not in member["event"] and member["is_ext_shared_channel"] is False
