"""Fixtures for the bad-input tests: the corpus (corpus.py), and the whole product (stand-in
Slack, `rasa run`, `rasa run actions`, the bot over signed HTTP) on PostgreSQL, the same running
product as tests/faults (started once for both folders).

The helper modules of tests/bot, tests/dialogues and tests/faults (`slack_kit`, `rasa_stack`,
`faults_kit`) are imported by their own names; their folders are put on the path here.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "bot", HERE.parent / "dialogues", HERE.parent / "faults", HERE):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))

from faults_kit import shared_product  # noqa: E402
from rasa_stack import train_model  # noqa: E402


@pytest.fixture(scope="session")
def dialogue_model():
    """The dialogue model, trained only when no model of the same data exists."""
    return train_model()


@pytest.fixture(scope="session")
def product(request, dialogue_model, postgres_admin_engine, tmp_path_factory):
    """The product on a PostgreSQL database of its own (conversations and requests), one for
    tests/faults and tests/bad_input: each test leaves it running and whole."""
    return shared_product(request.config, postgres_admin_engine, dialogue_model, tmp_path_factory.mktemp("product"))
