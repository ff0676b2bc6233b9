"""The action server's shared services: every ask action registered, fields.yml re-read on edit."""
from __future__ import annotations

import gc
import os
import shutil

from rasa_sdk.executor import ActionExecutor
from ruamel.yaml import YAML

from dialogues import services
from dialogues.actions.questions import REQUIREMENT_ASKS


def test_every_requirement_question_is_registered_even_after_a_garbage_collection():
    gc.collect()  # an unreferenced action class would be gone now
    executor = ActionExecutor()
    executor.register_package("dialogues.actions")
    for slot in REQUIREMENT_ASKS:
        assert f"action_ask_{slot}" in executor.actions, slot


def test_fields_are_read_again_when_the_file_changes_and_a_broken_edit_keeps_the_old(tmp_path, monkeypatch, caplog):
    copy = tmp_path / "fields.yml"
    shutil.copy(services.FIELDS_FILE, copy)
    monkeypatch.setattr(services.fields, "path", copy)
    assert services.fields()["unit_price"]["label"]["en"] != "Unit price (before tax)"

    data = YAML(typ="safe").load(copy.read_text())
    data["unit_price"]["label"]["en"] = "Unit price (before tax)"
    with copy.open("w") as out:
        YAML(typ="safe").dump(data, out)
    os.utime(copy, ns=(10**9, 10**9))
    assert services.fields()["unit_price"]["label"]["en"] == "Unit price (before tax)"

    copy.write_text("unit_price: [this is: not yaml")
    os.utime(copy, ns=(2 * 10**9, 2 * 10**9))
    assert services.fields()["unit_price"]["label"]["en"] == "Unit price (before tax)"
    services.fields()
    assert caplog.text.count("not reloaded") == 1
