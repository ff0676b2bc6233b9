"""Swapping the model of a running `rasa run` without a restart (Rasa's `PUT /model`).

    reload_model("http://127.0.0.1:5005", token, Path("dialogues/models/microbuy-....tar.gz"))

Rasa serves `PUT /model` only when started with `--enable-api --auth-token TOKEN` (the Procfile
does so when RASA_TOKEN is set). Conversations survive the swap: they live in the tracker store
(the requests database), not in the model, and the lock store is handed to the new agent. A
message being answered while the model loads is answered by the old one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Optional, Tuple

import httpx

from settings import Settings, SettingsError

TOKEN_ENV = "RASA_TOKEN"
DEFAULT_URL = Settings.default_of("RASA_URL")
# Written by `microbuy up` (owner-only) for the Rasa it started; removed when it stops.
HANDOVER = Path(__file__).resolve().parents[1] / ".run" / "rasa.json"
LOAD_TIMEOUT_S = 120  # loading reads the whole model; a cold disk takes a while


class ReloadError(RuntimeError):
    """The running Rasa did not take the model; the message says why and what to do."""


class NoRasa(ReloadError):
    """Nothing answers at the Rasa URL: it loads the newest model when it next starts."""


def token_from_env(env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    return Settings.secret(TOKEN_ENV, env) or None


def running_rasa(env: Optional[Mapping[str, str]] = None) -> Tuple[str, Optional[str]]:
    """(URL, token) of the Rasa to hand models to: RASA_URL and RASA_TOKEN, else what `microbuy up`
    wrote for the Rasa it started (HANDOVER), else the default URL and no token (`env` instead of
    os.environ)."""
    try:
        url = Settings.read("RASA_URL", env) if Settings.is_set("RASA_URL", env) else ""
    except SettingsError as exc:
        raise ReloadError(str(exc)) from None
    token = token_from_env(env)
    # RASA_TOKEN set but empty: no handover either.
    if not token and TOKEN_ENV not in (os.environ if env is None else env):
        try:
            handover = json.loads(HANDOVER.read_text())
            return url or handover["url"], handover["token"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return url or DEFAULT_URL, token


def running_model(rasa_url: str, token: str) -> str:
    """The file name of the model the running Rasa uses."""
    answer = _call("GET", f"{rasa_url.rstrip('/')}/status", token, timeout=10)
    return answer.json().get("model_file") or ""


def reload_model(rasa_url: str, token: Optional[str], model: Path) -> str:
    """Make the Rasa at `rasa_url` use `model`; returns the model file it reports afterwards."""
    if not token:
        raise ReloadError(f"{TOKEN_ENV} is not set: start Rasa with RASA_TOKEN set (the Procfile then adds "
                          f"--enable-api --auth-token) and set the same {TOKEN_ENV} here, or restart Rasa")
    url = rasa_url.rstrip("/")
    _call("PUT", f"{url}/model", token, json={"model_file": str(Path(model).resolve())}, timeout=LOAD_TIMEOUT_S)
    now = running_model(url, token)
    if Path(now).name != Path(model).name:
        raise ReloadError(f"Rasa at {url} still reports {now or 'no model'} after loading {Path(model).name}")
    return now


def _call(method: str, url: str, token: str, timeout: float, **kwargs) -> httpx.Response:
    try:
        answer = httpx.request(method, url, params={"token": token}, timeout=timeout, **kwargs)
    except httpx.ConnectError:
        raise NoRasa(f"no Rasa answers at {url.rsplit('/', 1)[0]}") from None
    except httpx.HTTPError as exc:
        raise ReloadError(f"Rasa at {url} did not answer: {exc.__class__.__name__}") from None
    if answer.status_code in (401, 403):
        raise ReloadError(f"Rasa at {url} refused the token in {TOKEN_ENV} ({answer.status_code})")
    if answer.status_code == 404 or answer.status_code == 405:
        raise ReloadError(f"Rasa at {url} has no model API: start it with --enable-api --auth-token "
                          f"(the Procfile does when {TOKEN_ENV} is set)")
    if answer.status_code >= 400:
        try:
            why = answer.json().get("message") or answer.text
        except ValueError:
            why = answer.text
        raise ReloadError(f"Rasa at {url} refused the model ({answer.status_code}): {why[:300]}")
    return answer
