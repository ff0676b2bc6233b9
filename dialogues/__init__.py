"""The Rasa side of microbuy (see dialogues/README.md): the Rasa project in project/, the code
`rasa run` loads in rasa_plugins/, the action server's actions in actions/, and the tooling that
trains, checks and starts them."""
from __future__ import annotations

from pathlib import Path

# The Rasa project: domain, config, endpoints, credentials, training data, test stories, and the
# wording admins edit (fields.yml, texts.yml).
PROJECT = Path(__file__).parent / "project"
