"""Fixtures for the Slack stand-in: a workspace on a clock the test controls, and its server."""
import pytest
from slack_sdk import WebClient

from standin import StandIn, Workspace

from app_recorder import Recorder

PEOPLE = {
    "U01AMINA": ("Amina Haddad", "en"),
    "U02MARC": ("Marc Tremblay", "fr"),
}


class Clock:
    """A clock that moves only when told to (trigger expiry without sleeping)."""

    def __init__(self, now: float = 1764070000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workspace(clock) -> Workspace:
    return Workspace.from_people(PEOPLE, clock=clock)


@pytest.fixture
def standin(workspace):
    with StandIn(workspace) as running:
        yield running


@pytest.fixture
def client(standin, workspace) -> WebClient:
    return WebClient(token=workspace.bot_token, base_url=standin.url, timeout=5)


@pytest.fixture
def recorder():
    """An app the stand-in delivers to, keeping what it receives (app_recorder.py)."""
    running = Recorder()
    yield running
    running.close()
