"""Fixtures for the policy engine tests; the builders live in policy_kit.py."""
import pytest

import policies

from policy_kit import Kit, load_kit


@pytest.fixture(scope="session")
def kit() -> Kit:
    """The ESDC pack, loaded once, with builders bound to it."""
    return load_kit()


@pytest.fixture(scope="session")
def policy(kit) -> policies.LoadedPolicy:
    return kit.policy
