"""One fix to Rasa's own code for speed, installed in `rasa run` by dialogues/channel.py.

Rasa checks every answer of the action server against a JSON schema with
`jsonschema.validate(result, schema)`, which first checks the schema itself against the JSON
Schema meta-schema: 35-40 ms of CPU on Rasa's event loop for each custom action, of which the
answer's own check is about 1 ms. A form turn runs one or two custom actions, so this was most of
a turn's time in Rasa (bench/slack_load.py, cProfile of `rasa run`). The schema is Rasa's own and
never changes, so here it is checked once and its validator kept; answers are checked exactly as
before, with the same error (jsonschema's best match) and the same message.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, Text

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _response_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate would on every call
    return cls(schema)


def validate_action_result(self, result: Dict[Text, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator built once."""
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> bool:
    """Replace RemoteAction._validate_action_result; False (and nothing changed) if this Rasa has
    no such method."""
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction, "_validate_action_result", None) is None:
        log.warning("this Rasa has no RemoteAction._validate_action_result; its action answers are checked its own way")
        return False
    RemoteAction._validate_action_result = validate_action_result
    return True
