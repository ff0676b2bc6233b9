"""Fixtures for the fault tests: the whole product (stand-in Slack, `rasa run`, `rasa run actions`,
the bot over signed HTTP) on PostgreSQL, started once for the whole folder.

The helper modules of tests/bot and tests/dialogues (`slack_kit`, `rasa_stack`) are imported by
their own names; their folders are put on the path here, as pytest does for their own tests.
"""
from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "bot", TESTS / "dialogues", Path(__file__).resolve().parent):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))

from faults_kit import dialogue_model, product  # noqa: E402, F401 - the shared fixtures
