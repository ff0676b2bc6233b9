"""Fixtures for the workflow tests: the ESDC pack and its variants, requests judged and stored
as the dialogue stores them, on SQLite and PostgreSQL (the database fixtures are in
tests/conftest.py)."""
from __future__ import annotations

import pytest

from workflow_kit import Kit


@pytest.fixture
def kit(session_factory) -> Kit:
    return Kit(session_factory)
