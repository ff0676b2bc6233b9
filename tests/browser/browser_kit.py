"""Helpers for the browser tests: the running stack, screenshots, and what a person does on the page."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"  # git-ignored
SECRET = "browser-test-signing-secret"
TODAY = "2026-11-25"  # the date requests are judged on (MICROBUY_TODAY)
BOT = "U0BOT"
# From policies/esdc.yml: a requester, the manager who approves cost centre 100200, its director.
# The requester reads English (U09NADIA reads French); the director reads French.
REQUESTER, MANAGER, DIRECTOR = "U04KWAME", "U01AMINA", "U02MARC"
APPROVALS = "microbuy-approvals"


class Stack:
    """The stand-in (its workspace, connected to the running bot), and the bot's own pieces for
    setting up a request without a conversation."""

    def __init__(self, workspace, standin, app, sessions, policy):
        self.workspace, self.standin, self.app, self.sessions, self.policy = workspace, standin, app, sessions, policy

    def channel_id(self, name: str) -> str:
        return self.workspace.channel(name).id

    def bot_posts(self, name: str):
        return [m for m in self.workspace.messages(self.channel_id(name)) if m.bot_id]


class Screenshots:
    """One PNG per step: <test name>-<step number>-<what>.png, the test's older ones removed."""

    def __init__(self, folder: Path, test_name: str):
        self.folder, self.test_name, self.step = folder, test_name, 0
        for old in folder.glob(f"{test_name}-*.png"):
            old.unlink()

    def take(self, page: Page, what: str) -> Path:
        self.step += 1
        path = self.folder / f"{self.test_name}-{self.step:02d}-{what}.png"
        page.screenshot(path=str(path))
        return path


def bot_messages(page: Page, containing: str = "") -> Locator:
    found = page.locator(f"[data-testid=message][data-author={BOT}]")
    return found.filter(has_text=containing) if containing else found


def say(page: Page, text: str, reply: str) -> Locator:
    """Type `text` in the composer, press Enter; the app's new message that says `reply`."""
    before = bot_messages(page, reply).count()
    composer = page.get_by_test_id("composer")
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")
    return _new(page, reply, before)


def click(page: Page, message: Locator, button: str, reply: str) -> Locator:
    """Click the button labelled `button` in `message`; the app's new message that says `reply`."""
    before = bot_messages(page, reply).count()
    message.get_by_role("button", name=button, exact=True).click()
    return _new(page, reply, before)


def _new(page: Page, reply: str, before: int) -> Locator:
    expect(bot_messages(page, reply)).not_to_have_count(before)
    return bot_messages(page, reply).last


def by_ts(page: Page, message: Locator) -> Locator:
    """The same message found by its Slack timestamp, so it is followed through edits."""
    ts = message.get_attribute("data-ts")
    return page.locator(f'[data-testid=message][data-ts="{ts}"]')


def switch_to(page: Page, user: str) -> None:
    """Sign in as someone else with the switcher; back once the page shows their workspace."""
    page.get_by_test_id("user-switcher").select_option(user)
    expect(page).to_have_url(re.compile(f"[?&]user={user}(&|$)"))
    expect(page.locator(".me-name")).to_have_text(page.get_by_test_id("user-switcher").locator(
        f"option[value={user}]").inner_text().split(" · ")[0])


class HeldUpdates:
    """Holds back a page's live updates (its long polls of /ui/api/state) until `release()`:
    the screen of someone whose browser has not caught up yet, e.g. a laptop just woken up.
    Install before the page loads (`page.route`), so the first load goes through and every
    later poll waits."""

    PATTERN = re.compile(r"/ui/api/state\?")

    def __init__(self):
        self.holding, self.held = True, []

    def __call__(self, route) -> None:
        if self.holding and "since=" in route.request.url:
            self.held.append(route)  # answered by release()
        else:
            route.continue_()

    def release(self) -> None:
        self.holding = False
        for route in self.held:
            route.continue_()
        self.held.clear()


def post_a_stored_request(stack: Stack, supplier: str, requester: str) -> object:
    """A request judged and stored as the dialogue stores it, then posted for approval by the
    bot's own code (as after Submit in the DM); the workspace's message of that post."""
    from datetime import date

    from bot.approvals import Approvals
    from workflow import submit

    data = {"requester": requester, "cost_centre": "100200", "category": "office_supplies",
            "description": "whiteboard markers", "supplier": supplier, "quantity": 1, "unit_price": "25.00",
            "province": "AB", "needed_by": "2026-12-20", "data_classification": "unclassified",
            "payment_method": "acquisition_card", "justification": "workshops"}
    with stack.sessions.begin() as session:
        request_id = submit(session, stack.policy, data, date.fromisoformat(TODAY), requester=requester,
                            team_id=stack.workspace.team_id).request_id
    before = len(stack.bot_posts(APPROVALS))
    Approvals(stack.sessions, lambda: stack.policy).post_for_approval(stack.app.client, request_id)
    return stack.bot_posts(APPROVALS)[before:][-1]
