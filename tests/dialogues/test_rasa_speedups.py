"""dialogues/rasa_plugins/rasa_speedups.py: Rasa's check of the action server's answers, built once, judges
every answer as Rasa's own check does (same verdict, same error message)."""
from __future__ import annotations

from jsonschema import ValidationError

# Rasa's modules (TensorFlow with them: 8 s) are imported by the tests that use them, not when
# pytest collects this file in every test process.
from dialogues.rasa_plugins import rasa_speedups

GOOD = {"events": [{"event": "slot", "timestamp": None, "name": "supplier", "value": "Staples"}],
        "responses": [{"text": "Which cost centre pays for it?",
                       "buttons": [{"title": "100200", "payload": "100200"}]}]}
BAD = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot", "name": "supplier"}], "responses": []},  # a slot event needs a value
    {"events": [{"event": "no_such_event"}], "responses": []},
]


def rasas_own_check():
    """Rasa's check as shipped, whether or not install() has replaced it in this process."""
    from rasa.core.actions.action import RemoteAction

    found = RemoteAction.__dict__["_validate_action_result"]
    return rasa_speedups.RASAS_OWN_CHECK if found is rasa_speedups.validate_action_result else found


def verdict(check, result):
    from rasa.core.actions.action import RemoteAction

    try:
        return check(RemoteAction("action_x", None), result), None
    except ValidationError as exc:
        return False, exc.message


def test_installed_and_same_verdicts_as_rasa():
    from rasa.core.actions.action import RemoteAction

    original = rasas_own_check()
    assert original is not None and original is not rasa_speedups.validate_action_result
    assert rasa_speedups.install() is True
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert verdict(rasa_speedups.validate_action_result, GOOD) == (True, None)
    for result in BAD:
        ours, rasas = verdict(rasa_speedups.validate_action_result, result), verdict(original, result)
        assert rasas[0] is False, result  # the examples are bad by Rasa's own check
        assert ours == rasas, result


def _skops_own_whichmodule():
    """skops.io._utils' whichmodule as shipped, loaded afresh under another name (the module in
    sys.modules may be patched already)."""
    import importlib.util
    import sys

    import skops.io._utils as loaded

    spec = importlib.util.spec_from_file_location("skops.io._utils_as_shipped", loaded.__file__)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert module.whichmodule is not rasa_speedups.whichmodule
    return module.whichmodule


def test_skops_module_search_gives_the_same_answers_as_skops():
    import numpy
    import scipy.special

    shipped = _skops_own_whichmodule()
    asked = 0
    for module in (numpy, scipy.special):
        for name in dir(module):
            obj = getattr(module, name)
            if isinstance(obj, numpy.ufunc):  # what skops looks up at import: no __module__
                assert rasa_speedups.whichmodule(obj, name) == shipped(obj, name), name
                asked += 1
    assert asked > 300
    stray = numpy.frompyfunc(lambda x: x, 1, 1)  # a ufunc no module holds
    assert rasa_speedups.whichmodule(stray, "nowhere") == shipped(stray, "nowhere") == "__main__"
    assert rasa_speedups.whichmodule(numpy.add, "<locals>.add") == shipped(numpy.add, "<locals>.add")
    assert rasa_speedups.whichmodule(ValidationError, "x") == "jsonschema.exceptions"  # has __module__


def test_skops_is_patched_as_it_is_imported():
    import subprocess
    import sys

    code = ("from dialogues.rasa_plugins import rasa_speedups as s; s.install_skops();"
            "import skops.io, skops.io._utils as u;"
            "from sklearn.linear_model import LogisticRegression as L; import numpy as np;"
            "m = L().fit(np.array([[0.], [1.]]), [0, 1]);"
            "back = skops.io.loads(skops.io.dumps(m), trusted=skops.io.get_untrusted_types(data=skops.io.dumps(m)));"
            "print(u.whichmodule is s.whichmodule, list(back.predict(np.array([[1.]]))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "[1]"]
