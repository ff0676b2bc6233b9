"""Helpers for the Slack app's tests: the stand-in Slack as a test sees it, and reading posts."""
from __future__ import annotations

import time

from bot.settings import Settings
from standin import Deliverer, Workspace

SECRET = "test-signing-secret"
TODAY = "2026-11-25"
APPROVALS = "C0APPROVALS"
# The requester reads English (Slack locale en-US); the director and Nadia read French (fr-CA).
REQUESTER, MANAGER, DIRECTOR = "U04KWAME", "U01AMINA", "U02MARC"
FRENCH_REQUESTER = "U09NADIA"


class Slack:
    """The stand-in workspace, the deliverer of people's actions, and the running bot."""

    def __init__(self, workspace: Workspace, deliver: Deliverer, app, database_url: str):
        self.workspace, self.deliver, self.app, self.database_url = workspace, deliver, app, database_url

    def bot_messages(self, channel: str):
        return [m for m in self.workspace.messages(channel) if m.bot_id]

    def settle(self, channel: str, before: int, timeout: float = 30.0, quiet: float = 0.6):
        """Wait for the bot's replies in `channel` after `before` of them, until it goes quiet."""
        self.workspace.wait_for(lambda: len(self.bot_messages(channel)) > before, timeout=timeout)
        count, still = len(self.bot_messages(channel)), time.monotonic()
        while time.monotonic() - still < quiet:
            time.sleep(0.1)
            now = len(self.bot_messages(channel))
            if now != count:
                count, still = now, time.monotonic()
        return self.bot_messages(channel)[before:]

    def say(self, user: str, text: str):
        channel = self.workspace.dm(user).id
        before = len(self.bot_messages(channel))
        delivery = self.deliver.message(user, channel, text)
        assert delivery.status == 200, delivery.response_body
        return self.settle(channel, before)


def text_of(messages) -> str:
    parts = []
    for message in messages:
        parts.append(message.text or "")
        for block in message.blocks or []:
            if block.get("type") == "section":
                parts.append(block["text"]["text"])
            elif block.get("type") == "context":
                parts.extend(e.get("text", "") for e in block["elements"])
    return "\n".join(parts)


def buttons_of(message):
    return [e for b in (message.blocks or []) if b.get("type") == "actions" for e in b["elements"]]


def submit_a_purchase(slack, supplier: str, user: str = REQUESTER):
    """A requester's whole conversation in the DM, ending with the Submit button."""
    slack.say(user, f"I need to buy a box of pens from {supplier} for about $25")
    for answer in ["100200", "2", "Ontario", "2026-12-15", "for the team's sprint planning", "no"]:
        slack.say(user, answer)
    replies = slack.say(user, "not sure")
    summary = next(m for m in reversed(replies) if any(b.get("value") == "/affirm" for b in buttons_of(m)))
    submit = next(b for b in buttons_of(summary) if b["value"] == "/affirm")
    posts_before = len(slack.bot_messages(APPROVALS))
    dm = slack.workspace.dm(user).id
    before = len(slack.bot_messages(dm))
    delivery = slack.deliver.block_action(user, summary, submit["action_id"], submit["value"])
    assert delivery.status == 200
    done = slack.settle(dm, before)
    post = slack.workspace.wait_for(lambda: slack.bot_messages(APPROVALS)[posts_before:], timeout=20)[-1]
    # The question's buttons are gone, and a second click on Submit changes nothing.
    assert not buttons_of(slack.workspace.message(dm, summary.ts))
    settled = len(slack.bot_messages(dm)), len(slack.bot_messages(APPROVALS))
    assert slack.deliver.block_action(user, summary, submit["action_id"], submit["value"]).status == 200
    time.sleep(1.0)
    assert (len(slack.bot_messages(dm)), len(slack.bot_messages(APPROVALS))) == settled
    return done, post


def store_request(sessions, policy, *, supplier: str, requester: str = REQUESTER, total: str = "25.00",
                  title=None, needed_by: str = "2027-01-20", on=None) -> int:
    """A request judged and stored as the dialogue stores it (submitted), without a conversation."""
    from datetime import date

    from workflow import submit

    data = {"requester": requester, "cost_centre": "100200", "category": "office_supplies",
            "description": "whiteboard markers", "supplier": supplier, "quantity": 1, "unit_price": total,
            "province": "AB", "needed_by": needed_by, "data_classification": "unclassified",
            "payment_method": "acquisition_card", "justification": "workshops"}
    if title:
        data["title"] = title
    with sessions.begin() as session:
        return submit(session, policy, data, on or date(2026, 11, 25), requester=requester,
                      team_id="T0STANDIN").request_id


def workspace_of(policy, **kwargs) -> Workspace:
    """A stand-in workspace of the people the policy names, in their languages."""
    return Workspace.from_people({uid: (p.name, p.language or "en") for uid, p in policy.rules.people.items()},
                                 **kwargs)


def settings_for(workspace: Workspace, standin_url: str, rasa_secret: str, rasa_url: str = "http://127.0.0.1:9"):
    """The bot's settings for the stand-in at `standin_url` in HTTP mode (no Rasa unless `rasa_url`)."""
    return Settings.from_env({
        "SLACK_BOT_TOKEN": workspace.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": standin_url,
        "RASA_URL": rasa_url, "MICROBUY_RASA_SECRET": rasa_secret,
    })
