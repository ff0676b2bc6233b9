"""Fixtures for the bad-input tests: the corpus (corpus.py), and the whole product (stand-in
Slack, `rasa run`, `rasa run actions`, the bot over signed HTTP) on PostgreSQL, the same running
product as tests/faults (started once for both folders).

The helper modules of tests/bot, tests/dialogues and tests/faults (`slack_kit`, `rasa_stack`,
`faults_kit`) are imported by their own names; their folders are put on the path here.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "bot", HERE.parent / "dialogues", HERE.parent / "faults", HERE):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))

from faults_kit import dialogue_model, product  # noqa: E402, F401 - the shared fixtures
