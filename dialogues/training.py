"""Training the dialogue model: examples regenerated from the policy, then `rasa train`, skipped
when a model of the same data, domain, config and Rasa version already exists.

A model is named after the fingerprint of what it was trained from (microbuy-<sha256>.tar.gz),
so "nothing changed" is simply "that file is there".
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import PROJECT, policy_nlu

# Trained models, outside the Rasa project (PROJECT, dialogues/project/): git-ignored.
MODELS = Path(__file__).parent / "models"
KEEP_MODELS = 3


@dataclass
class Trained:
    model: Path
    retrained: bool
    seconds: float


def rasa_env(extra=None) -> dict:
    """The environment every Rasa process of ours runs with.

    Telemetry off: Rasa would otherwise send usage data and error reports (with tracebacks) to
    its servers. Cache off: two trainings at once (tests, an admin) corrupt a shared cache.
    """
    import os

    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_MAX_CACHE_SIZE": "0",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1", **(extra or {})}


class TrainingFailed(RuntimeError):
    """`rasa train` failed; the message holds the end of its output."""


def latest_model(folder: Path = MODELS) -> Optional[Path]:
    models = sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def fingerprint() -> str:
    """SHA-256 of the training inputs: config, domain, every data file, and the Rasa version."""
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    files = [PROJECT / "config.yml", PROJECT / "domain.yml", *sorted((PROJECT / "data").rglob("*.yml"))]
    for path in files:
        digest.update(f"{path.relative_to(PROJECT)}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_name(print_: Optional[str] = None) -> str:
    return f"microbuy-{(print_ or fingerprint())[:16]}"


def train(policy_file: Optional[str] = None, out: Path = MODELS) -> Trained:
    started = time.monotonic()
    argv = ["--policy", policy_file] if policy_file else []
    if policy_nlu.main(argv) != 0:
        raise TrainingFailed("could not write the examples generated from the policy")
    name = model_name()
    model = out / f"{name}.tar.gz"
    if model.exists():
        return Trained(model, False, time.monotonic() - started)
    result = subprocess.run(
        [sys.executable, "-m", "dialogues.rasa_cli", "train", "--config", "config.yml", "--domain", "domain.yml",
         "--data", "data", "--out", str(out),
         "--fixed-model-name", name],
        cwd=PROJECT, capture_output=True, text=True, env=rasa_env(),
    )
    if result.returncode != 0 or not model.exists():
        raise TrainingFailed((result.stdout + result.stderr)[-3000:] or f"rasa train wrote no {model}")
    _prune(out, keep=KEEP_MODELS)
    return Trained(model, True, time.monotonic() - started)


def _prune(out: Path, keep: int) -> None:
    """Keep the newest models (a running server may still use the one before), delete the rest."""
    models = sorted(out.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in models[keep:]:
        old.unlink(missing_ok=True)
