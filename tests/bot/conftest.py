"""The Slack app under test: the stand-in Slack, real Rasa and action servers, the bot served
over HTTP exactly as in production, all on one SQLite database of the run's own."""
from __future__ import annotations

from pathlib import Path

import pytest

import storage
from bot.app import build_app
from bot.server import serve_in_background
from bot.settings import Settings
from dialogues import policy_nlu
from dialogues.stack import RasaStack
from dialogues.training import train
from policies import load_policy
from standin import Deliverer, StandIn, Workspace

from slack_kit import APPROVALS, SECRET, TODAY, Slack


@pytest.fixture(scope="session")
def bot_model():
    assert policy_nlu.main(["--check"]) == 0, "run: python -m dialogues.policy_nlu"
    return train().model


@pytest.fixture(scope="session")
def slack(bot_model, tmp_path_factory):
    """One product for every module here (starting Rasa is most of a module's time); tests tell
    their requests apart by supplier and count what they see from before to after."""
    folder: Path = tmp_path_factory.mktemp("slack")
    url = f"sqlite:///{folder / 'microbuy.db'}"
    storage.upgrade(url)
    policy = load_policy()
    people = {uid: (p.name, p.language or "en") for uid, p in policy.rules.people.items()}
    workspace = Workspace.from_people(people, channels={APPROVALS: "microbuy-approvals"})
    stack = RasaStack(url, bot_model, folder, {"MICROBUY_TODAY": TODAY}).start()
    with StandIn(workspace) as standin:
        settings = Settings.from_env({
            "SLACK_BOT_TOKEN": workspace.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": standin.url,
            **stack.bot_env(),
        })
        sessions = storage.make_session_factory(storage.make_engine(url))
        app = build_app(settings, sessions=sessions, policy=lambda: policy)
        server, events_url = serve_in_background(app)
        try:
            yield Slack(workspace, Deliverer(events_url, SECRET, workspace), app, url)
        finally:
            server.shutdown()
            server.server_close()
            stack.stop()
