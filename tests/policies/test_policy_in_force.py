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


def test_listeners_hear_each_change_and_each_refused_edit_once(tmp_path):
    path = tmp_path / "pack.yml"
    shutil.copy(DEFAULT_POLICY, path)
    in_force = PolicyInForce(path)
    heard = []
    in_force.listen(on_change=lambda old, new, stamp: heard.append(("change", old and old.version, new.version, stamp)),
                    on_refused=lambda p, report, kept, stamp: heard.append(("refused", str(p), report, kept.version)))

    def broken_listener(*args):
        raise RuntimeError("a listener's own failure")
    in_force.listen(on_change=broken_listener)  # logged; the policy is still served

    first = in_force()
    in_force()
    assert heard == [("change", None, first.version, (str(path), path.stat().st_mtime_ns, path.stat().st_size))]

    path.write_text(path.read_text().replace("remind_after_hours: 24", "remind_after_hours: 12"))
    os.utime(path, ns=(1, 2))
    edited = in_force()
    assert heard[-1][:3] == ("change", first.version, edited.version)

    path.write_text(path.read_text().replace("remind_after_hours: 12", "remind_after_hours: twelve"))
    os.utime(path, ns=(3, 4))
    assert in_force() is edited and in_force() is edited
    refused = [h for h in heard if h[0] == "refused"]
    assert len(refused) == 1 and refused[0][3] == edited.version
    assert "remind_after_hours" in refused[0][2] and refused[0][1] == str(path)

    # Back to the rules in force: no change to announce.
    path.write_text(path.read_text().replace("remind_after_hours: twelve", "remind_after_hours: 12"))
    os.utime(path, ns=(5, 6))
    assert in_force() is not None and len(heard) == 3
