"""Two fixes for speed, to Rasa's own code and to a library it uses, installed in `rasa run` by
dialogues/rasa_plugins/channel.py (and in training and NLU tests by `python -m dialogues.rasa_cli`).

1. The action server's answers. Rasa checks every answer of the action server against a JSON schema with
`jsonschema.validate(result, schema)`, which first checks the schema itself against the JSON
Schema meta-schema: 35-40 ms of CPU on Rasa's event loop for each custom action, of which the
answer's own check is about 1 ms. A form turn runs one or two custom actions, so this was most of
a turn's time in Rasa (bench/slack_load.py, cProfile of `rasa run`). The schema is Rasa's own and
never changes, so here it is checked once and its validator kept; answers are checked exactly as
before, with the same error (jsonschema's best match) and the same message.

2. Loading the model. Rasa's intent classifier is stored with skops, whose `skops.io` looks up
the module of each of about 760 numpy and scipy functions when it is imported, by trying every
module loaded (about 2,500 with TensorFlow) and formatting an error message for each miss: 1.2
million exceptions, 9-10 s of the 13 s that `rasa run` took to load a model (cProfile of
`Agent.load`). `skops.io._utils.whichmodule` is replaced, as it is loaded, by the same search
(same modules, same order, same answer) that asks `getattr` with a default instead.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
from functools import lru_cache
from types import ModuleType
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
    """Both fixes. Replace RemoteAction._validate_action_result; False (and nothing changed) if
    this Rasa has no such method."""
    from rasa.core.actions.action import RemoteAction

    install_skops()
    if getattr(RemoteAction, "_validate_action_result", None) is None:
        log.warning("this Rasa has no RemoteAction._validate_action_result; its action answers are checked its own way")
        return False
    global RASAS_OWN_CHECK
    if RemoteAction.__dict__["_validate_action_result"] is not validate_action_result:
        RASAS_OWN_CHECK = RemoteAction.__dict__["_validate_action_result"]
    RemoteAction._validate_action_result = validate_action_result
    return True


# Rasa's own check, kept when install() replaces it: the tests judge ours against it.
RASAS_OWN_CHECK: Any = None


# -- 2. skops' module search -------------------------------------------------------------------

SKOPS_UTILS = "skops.io._utils"
_MISSING = object()


def whichmodule(obj: Any, name: str) -> str:
    """skops.io._utils.whichmodule (itself pickle's): the module `obj` belongs to, the first of
    sys.modules that has it as `name`, without an exception per module tried."""
    module_name = getattr(obj, "__module__", None)
    if module_name is not None:
        return module_name
    first = name.split(".", 1)[0]
    on_every_module = hasattr(ModuleType, first)
    for module_name, module in sys.modules.copy().items():
        if module_name in ("__main__", "__mp_main__") or module is None:
            continue
        # getattr(module, first) fails on a plain module (not a lazy loader's subclass) that has
        # neither the name nor a __getattr__ of its own: skip it without asking.
        if type(module) is ModuleType and not on_every_module:
            attributes = module.__dict__
            if first not in attributes and "__getattr__" not in attributes:
                continue
        found: object = module
        for part in name.split("."):
            found = _MISSING if part == "<locals>" else getattr(found, part, _MISSING)
            if found is _MISSING:
                break
        if found is obj:
            return module_name
    return "__main__"


class _PatchSkopsWhenLoaded(importlib.abc.MetaPathFinder):
    """Finds skops.io._utils as Python would, and replaces its whichmodule right after it runs,
    before skops.io's other modules (which call it at import) are loaded."""

    def find_spec(self, fullname, path, target=None):
        if fullname != SKOPS_UTILS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader: Any = spec.loader  # patched below, so typed as anything
        loaded = loader.exec_module

        def exec_module(module):
            loaded(module)
            module.whichmodule = whichmodule

        loader.exec_module = exec_module  # this spec's own loader object
        return spec


def install_skops() -> None:
    """Make skops.io's import fast; idempotent. Already imported: too late to matter, patched anyway."""
    if SKOPS_UTILS in sys.modules:
        utils: Any = sys.modules[SKOPS_UTILS]  # skops's own module, patched
        utils.whichmodule = whichmodule
    elif not any(isinstance(finder, _PatchSkopsWhenLoaded) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchSkopsWhenLoaded())
