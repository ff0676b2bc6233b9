"""The table of processes (dialogues/processes.py) and the Procfile say the same, and every
command names a module that exists."""
from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from typing import Dict, List

import pytest

from dialogues.processes import PROCESSES

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"
PYTHON = ".venv/bin/python"


def commands(procfile: str) -> Dict[str, List[str]]:
    """Each Procfile line's command, after its VAR=value assignments."""
    found = {}
    for line in procfile.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            words = shlex.split(command)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]
            found[name.strip()] = words
    return found


def differences(procfile: str) -> List[str]:
    """Where the Procfile and the table disagree (the stand-in is local only: not in the Procfile)."""
    found = commands(procfile)
    wanted = {name for name in PROCESSES if name != "standin"}
    problems = [f"{name}: in one and not the other" for name in set(found) ^ wanted]
    for name in set(found) & wanted:
        process = PROCESSES[name]
        port = f"${{{process.port_variable}:-{process.default_port}}}"
        expected = process.command(PYTHON, port=port, model="dialogues/models")
        if found[name] != expected:
            problems.append(f"{name}: Procfile {found[name]} != table {expected}")
    return problems


def test_the_procfile_starts_the_processes_of_the_table():
    assert differences(PROCFILE.read_text(encoding="utf-8")) == []


def test_a_procfile_that_drifted_is_caught():
    text = PROCFILE.read_text(encoding="utf-8")
    assert differences(text.replace("-i 127.0.0.1", "-i 0.0.0.0"))[0].startswith("rasa:")
    assert differences(text + "worker: .venv/bin/python -m bot.worker\n") == ["worker: in one and not the other"]


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_command_names_a_module_that_exists(name):
    args = PROCESSES[name].args
    assert args[0] == "-m"
    assert importlib.util.find_spec(args[1]) is not None
