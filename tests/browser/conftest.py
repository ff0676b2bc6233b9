"""The whole product in a browser: headless Chromium driving the stand-in's page, which delivers
to the bot (served over HTTP as in production), which talks to real Rasa and action servers, all
on one SQLite database of the session's own. Only Slack is a stand-in."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import pytest
from playwright.sync_api import expect, sync_playwright

import storage
from bot.app import build_app
from bot.server import serve_in_background
from bot.settings import Settings
from dialogues import policy_nlu
from dialogues.stack import RasaStack
from dialogues.training import train
from policies import load_policy
from standin import StandIn
from standin.seed import workspace_from_policy

from browser_kit import SECRET, SHOTS, TODAY, HeldUpdates, Screenshots, Stack

CHROMIUM = os.environ.get("MICROBUY_CHROMIUM", "/usr/bin/chromium")
# No network but the stand-in's: the machine has none for the browser, and nothing may phone home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def bot_model():
    assert policy_nlu.main(["--check"]) == 0, "run: python -m dialogues.policy_nlu"
    return train().model


@pytest.fixture(scope="session")
def stack(bot_model, tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'microbuy.db'}"
    storage.upgrade(url)
    policy = load_policy()
    workspace = workspace_from_policy()  # the people and channels `python -m standin` seeds
    rasa = RasaStack(url, bot_model, folder, {"MICROBUY_TODAY": TODAY}).start()
    standin = StandIn(workspace)
    server = None
    try:
        standin.start()
        settings = Settings.from_env({
            "SLACK_BOT_TOKEN": workspace.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": standin.url,
            **rasa.bot_env(),
        })
        sessions = storage.make_session_factory(storage.make_engine(url))
        app = build_app(settings, sessions=sessions, policy=lambda: policy)
        server, events_url = serve_in_background(app)
        standin.connect(events_url, SECRET)
        yield Stack(workspace, standin, app, sessions, policy)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        standin.stop()
        rasa.stop()


@pytest.fixture(scope="module")
def browser():
    # Per module, not per session: Playwright's sync API keeps an asyncio loop running in this
    # thread while it is started, and later tests that call asyncio.run() would find it.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser):
    """open_page(standin, user, view, held) -> the stand-in's page signed in as `user`, in a
    browser context of its own (a person's own browser); `held` holds back its live updates."""
    contexts = []

    def opened(standin: StandIn, user: str, view: str = "dm", held: Optional[HeldUpdates] = None):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)  # a turn goes through Rasa on a shared 2-core machine
        if held is not None:
            page.route(HeldUpdates.PATTERN, held)
        page.goto(f"{standin.origin}/?user={user}&view={view}")
        expect(page.get_by_test_id("user-switcher")).to_have_value(user)
        return page

    yield opened
    for context in contexts:
        context.close()


@pytest.fixture
def shots(request):
    SHOTS.mkdir(parents=True, exist_ok=True)
    return Screenshots(SHOTS, request.node.name)
