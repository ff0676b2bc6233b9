"""Fixtures for the dialogue tests: the trained model, real Rasa stacks, and printed metrics."""
from __future__ import annotations

import pytest

from storage.migrate import upgrade

import cross_validation
from rasa_stack import METRICS, RasaStack, sender, train_model


def pytest_collection_finish(session):
    if any(item.nodeid.endswith(cross_validation.TEST_ID) for item in session.items):
        cross_validation.start()


def pytest_terminal_summary(terminalreporter):
    if METRICS:
        terminalreporter.section("dialogue metrics")
        for line in METRICS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def dialogue_model():
    """The dialogue model, trained once per run, and only when no model of the same data exists."""
    return train_model()


@pytest.fixture(scope="session")
def stack_logs(tmp_path_factory):
    return tmp_path_factory.mktemp("rasa-logs")


@pytest.fixture(scope="session")
def sqlite_stack(dialogue_model, tmp_path_factory, stack_logs):
    """Rasa and the action server on a migrated SQLite file of their own, one pair for the run
    (starting Rasa is most of a module's time); each test talks as a new sender."""
    url = f"sqlite:///{tmp_path_factory.mktemp('stack-db') / 'microbuy.db'}"
    upgrade(url)
    stack = RasaStack(url, dialogue_model, stack_logs).start()
    yield stack
    stack.stop()


@pytest.fixture
def new_sender() -> str:
    return sender()
