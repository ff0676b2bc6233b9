"""The NLU cross-validation, started in the background as soon as the run has collected its
tests, so that its three trainings (about 100 s of one core) use the core the rest of the suite
leaves idle, at low priority; `test_nlu_cross_validation_f1` waits for it and reads its results.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Tuple

from dialogues.training import rasa_env

from rasa_stack import BIN, PROJECT

FOLDS = 3
TEST_ID = "test_rasa_project.py::test_nlu_cross_validation_f1"
TIMEOUT_S = 1_200

_running: Optional[Tuple[subprocess.Popen, Path]] = None


def start() -> None:
    """Start it once (nothing if it runs already)."""
    global _running
    if _running is not None:
        return
    out = Path(tempfile.mkdtemp(prefix="microbuy-nlu-cv-"))
    atexit.register(shutil.rmtree, out, True)
    log = open(out / "rasa.log", "w")
    # --successes: every prediction is written (successes and errors), to score each language.
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "dialogues.rasa_cli", "test", "nlu", "--config", "config.yml", "--nlu", "data",
         "--cross-validation", "--folds", str(FOLDS), "--successes", "--no-plot", "--out", str(out / "results")],
        cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, env=rasa_env(), preexec_fn=lambda: os.nice(10))
    log.close()
    atexit.register(lambda: process.poll() is None and process.kill())
    _running = (process, out)


def results() -> Tuple[int, str, Path]:
    """Wait for it: (exit code, the end of its output, the folder of its reports)."""
    start()
    process, out = _running
    code = process.wait(timeout=TIMEOUT_S)
    return code, (out / "rasa.log").read_text(errors="replace")[-4000:], out / "results"
