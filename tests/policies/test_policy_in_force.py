"""The policy a running process uses: reloaded when the file changes, never replaced by a broken edit."""
import os
import shutil

import pytest

from policies import DEFAULT_POLICY, PolicyError, PolicyInForce


def test_a_valid_edit_is_picked_up_and_a_broken_one_never_replaces_it(tmp_path, caplog):
    path = tmp_path / "pack.yml"
    shutil.copy(DEFAULT_POLICY, path)
    in_force = PolicyInForce(path)
    first = in_force()
    assert in_force() is first  # unchanged file: not read again

    path.write_text(path.read_text().replace("remind_after_hours: 24", "remind_after_hours: 12"))
    os.utime(path, ns=(1, 2))  # a new modification time, whatever the clock's resolution
    edited = in_force.get()
    assert edited.version != first.version and edited.rules.approval.reminders.remind_after_hours == 12

    path.write_text("pack: [this is not a policy")
    os.utime(path, ns=(3, 4))
    assert in_force() is edited
    assert "not reloaded" in caplog.text


def test_a_broken_file_at_start_is_an_error(tmp_path):
    path = tmp_path / "pack.yml"
    path.write_text("pack: {}\n")
    with pytest.raises(PolicyError):
        PolicyInForce(path).get()
