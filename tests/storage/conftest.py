"""Fixtures for storage tests; the database fixtures are in tests/conftest.py."""

import pytest

from storage import create_request

from storage_factories import request_fields


@pytest.fixture
def new_request(session_factory):
    """Create and commit a request; returns its id."""

    def make(**overrides):
        with session_factory.begin() as session:
            return create_request(session, **request_fields(**overrides)).id

    return make
