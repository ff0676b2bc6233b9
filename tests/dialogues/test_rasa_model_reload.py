"""`microbuy train` hands a new model to the running Rasa (PUT /model) and a conversation in the
middle of the form carries on with its answers; a wrong token or no Rasa gives a clear message."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from dialogues.reload import ReloadError, reload_model, running_model
from storage.migrate import upgrade

from rasa_stack import ROOT, RasaStack, buttons, free_port, texts

TOKEN = "test-reload-token"


def microbuy_train(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "microbuy"), "train"], cwd=ROOT, text=True,
                          capture_output=True, timeout=300,
                          env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", **env})


@pytest.fixture(scope="module")
def stack_on_an_older_model(dialogue_model, tmp_path_factory, stack_logs):
    """Rasa started on a copy of the model under another name: to Rasa, an older model."""
    folder = tmp_path_factory.mktemp("reload")
    older = folder / "microbuy-older.tar.gz"
    shutil.copy(dialogue_model, older)
    url = f"sqlite:///{folder / 'microbuy.db'}"
    upgrade(url)
    stack = RasaStack(url, older, stack_logs, token=TOKEN).start()
    yield stack
    stack.stop()


def slots(stack, sender: str) -> dict:
    tracker = httpx.get(f"http://127.0.0.1:{stack.rasa_port}/conversations/{sender}/tracker",
                        params={"token": TOKEN}, timeout=30).json()
    return tracker["slots"]


def test_a_new_model_is_taken_mid_conversation(stack_on_an_older_model, dialogue_model, new_sender):
    stack = stack_on_an_older_model
    rasa_url = f"http://127.0.0.1:{stack.rasa_port}"
    first = stack.say(new_sender, "I need to buy a box of pens from Staples for about $25")
    assert "100200" in buttons(first)  # the form asks the cost centre
    assert Path(running_model(rasa_url, TOKEN)).name == "microbuy-older.tar.gz"

    done = microbuy_train(RASA_URL=rasa_url, RASA_TOKEN=TOKEN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"the running Rasa at {rasa_url} now uses it" in done.stdout
    assert Path(running_model(rasa_url, TOKEN)).name == dialogue_model.name

    # The conversation goes on where it was: the answer fills the open question, earlier answers kept.
    after = stack.say(new_sender, "100200")
    assert after and "cost centre" not in texts(after).lower()
    kept = slots(stack, new_sender)
    assert kept["cost_centre"] == "100200" and "Staples" in str(kept["supplier"])

    again = microbuy_train(RASA_URL=rasa_url, RASA_TOKEN=TOKEN)
    assert again.returncode == 0 and "already uses it" in again.stdout


def test_a_wrong_token_is_refused_and_the_model_stays(stack_on_an_older_model, dialogue_model):
    rasa_url = f"http://127.0.0.1:{stack_on_an_older_model.rasa_port}"
    before = running_model(rasa_url, TOKEN)
    with pytest.raises(ReloadError, match="refused the token in RASA_TOKEN"):
        reload_model(rasa_url, "not-the-token", dialogue_model)
    done = microbuy_train(RASA_URL=rasa_url, RASA_TOKEN="not-the-token")
    assert done.returncode == 1 and "the model is trained, but" in done.stderr + done.stdout
    assert running_model(rasa_url, TOKEN) == before


def test_no_rasa_running_is_not_an_error(dialogue_model):
    done = microbuy_train(RASA_URL=f"http://127.0.0.1:{free_port()}", RASA_TOKEN=TOKEN)
    assert done.returncode == 0 and "no Rasa running at" in done.stdout
    plain = microbuy_train(RASA_TOKEN="")
    assert plain.returncode == 0 and "set RASA_TOKEN" in plain.stdout
