"""Who may call the action server and Rasa's webhook: only the process holding the shared secret.

The action server stores requests on the word of the tracker it is sent, and Rasa's webhook runs
a turn for whatever sender it is told; both run for real here (the session's `sqlite_stack`), and
each call without the secret is refused before anything is read or stored.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import httpx
import pytest
import rasa
from sqlalchemy import create_engine, text

from dialogues import shared_secret
from dialogues.rasa_cli import TokenOnCommandLine, with_api_token
from dialogues.stack import ROOT, listening_addresses

from actions_kit import domain, seed_purchase, stored_requests, tracker_state
from rasa_stack import sender

STORED = ("purchase_requests", "decisions", "audit_log", "audit_head", "policy_versions")


def everything_stored(url: str) -> Dict[str, List[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {table: sorted(repr(tuple(row)) for row in connection.execute(text(f"SELECT * FROM {table}")))
                    for table in STORED}
    finally:
        engine.dispose()


def turns_of(url: str, who: str) -> int:
    """How many events Rasa stored for `who`'s conversation (its tracker store, same database)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :who"), {"who": who}).scalar()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def forged_calls(sqlite_stack) -> List[dict]:
    """What the issue's reproduction sent to :5055/webhook: a finished purchase submitted in a
    third person's name, and the same answers as a revision of someone else's request (Elena's,
    from a supplier of this test's own: the session's other tests share the database)."""
    url = sqlite_stack.database_url
    victim = seed_purchase(url, supplier="Boundary Test Supplies", cost_centre="100200", total="89.99",
                           requester="U05ELENA")
    request = next(r for r in stored_requests(url, requester="U05ELENA") if r.reference == victim)
    calls = []
    for who, revising in (("T0THEM:U05ELENA", None),
                          ("T0ME:U09NADIA", {"id": request.id, "revision": request.revision, "reference": victim})):
        state = tracker_state("submit_office_supplies")
        state["sender_id"] = who
        state["slots"].update({"supplier": "Attacker Ltd", "revising": revising})
        calls.append({"next_action": "action_submit_purchase", "sender_id": who, "tracker": state,
                      "domain": domain(), "version": rasa.__version__})
    return calls


def actions_url(stack, path: str) -> str:
    return f"http://127.0.0.1:{stack.actions_port}{path}"


# -- Rasa -> the action server ------------------------------------------------------------------

@pytest.mark.parametrize("how", ["no secret", "wrong secret", "secret as ?token=", "secret without Bearer",
                                 "secret with another scheme"])
def test_the_action_server_refuses_a_forged_tracker_without_its_secret(sqlite_stack, forged_calls, how):
    right = sqlite_stack.actions_secret
    headers, params = {
        "no secret": ({}, {}),
        "wrong secret": ({"Authorization": shared_secret.bearer(shared_secret.new())}, {}),
        "secret as ?token=": ({}, {"token": right}),  # how Rasa sends its own `token:` setting
        "secret without Bearer": ({"Authorization": right}, {}),
        "secret with another scheme": ({"Authorization": f"Basic {right}"}, {}),
    }[how]
    url = sqlite_stack.database_url
    before = everything_stored(url)

    for call in forged_calls:
        answer = httpx.post(actions_url(sqlite_stack, "/webhook"), json=call, headers=headers, params=params,
                            timeout=30)
        assert answer.status_code == 401, (how, answer.status_code, answer.text[:300])
        assert answer.json() == {"error": "unauthorized"}  # nothing of the call echoed back
    listing = httpx.get(actions_url(sqlite_stack, "/actions"), headers=headers, params=params, timeout=30)
    assert listing.status_code == 401

    assert everything_stored(url) == before
    assert not [r for r in stored_requests(url) if r.supplier == "Attacker Ltd"]


def test_the_action_server_answers_rasa_and_health_checks(sqlite_stack):
    # The same server, with the secret Rasa sends: the refusals above are the secret's doing.
    with_secret = {"Authorization": shared_secret.bearer(sqlite_stack.actions_secret)}
    listing = httpx.get(actions_url(sqlite_stack, "/actions"), headers=with_secret, timeout=30)
    assert listing.status_code == 200 and {"name": "action_submit_purchase"} in listing.json()
    # Supervisors and Rasa's check before each turn need nothing.
    assert httpx.get(actions_url(sqlite_stack, "/health"), timeout=30).json() == {"status": "ok"}
    # And Rasa, given the secret in its environment, reaches it: a turn runs the actions.
    who = sender()
    replies = sqlite_stack.say(who, "I need a box of pens from Staples for $25")
    assert "cost centre" in " ".join(m.get("text", "") for m in replies).lower()


def test_the_action_server_and_rasa_listen_on_loopback_only(sqlite_stack):
    assert listening_addresses(sqlite_stack.actions_port) == {"127.0.0.1"}
    assert listening_addresses(sqlite_stack.rasa_port) == {"127.0.0.1"}
    # Tried from this machine's other addresses, as another host on its network would.
    others = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split() \
        if shutil.which("hostname") else []
    for address in others:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        for port in (sqlite_stack.actions_port, sqlite_stack.rasa_port):
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.settimeout(2)
                assert probe.connect_ex((address, port)) != 0, f"port {port} answers on {address}"


def test_the_action_server_does_not_start_without_its_secret(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "ACTIONS_PORT": "1"}
    for secret in (None, "", "short"):
        given = env if secret is None else {**env, shared_secret.ACTIONS_SECRET: secret}
        done = subprocess.run([sys.executable, "-m", "dialogues.action_server", "-p", "1"], cwd=ROOT, env=given,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert "the action server cannot start: MICROBUY_ACTIONS_SECRET is " in done.stderr


def test_rasa_calls_the_action_server_with_the_secret_from_the_environment():
    from rasa.utils.endpoints import read_endpoint_config

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
        patch.setenv(shared_secret.ACTIONS_SECRET, "the-secret-of-this-run")
        endpoint = read_endpoint_config(str(ROOT / "dialogues" / "project" / "endpoints.yml"), "action_endpoint")
    assert endpoint.headers == {"Authorization": "Bearer the-secret-of-this-run"}
    assert not endpoint.token and not endpoint.params  # not in the URL, where access logs would keep it


# -- the Slack app -> Rasa's webhook -----------------------------------------------------------

@pytest.mark.parametrize("how, status", [
    ("no secret", 401), ("wrong secret", 401), ("the action server's secret", 401),
    ("text/plain", 415), ("form", 415), ("no content type", 415),
])
def test_rasa_webhook_refuses_callers_without_the_secret_or_json(sqlite_stack, how, status):
    right = shared_secret.bearer(sqlite_stack.rasa_secret)
    headers = {
        "no secret": {"Content-Type": "application/json"},
        "wrong secret": {"Content-Type": "application/json",
                         "Authorization": shared_secret.bearer(shared_secret.new())},
        "the action server's secret": {"Content-Type": "application/json",
                                       "Authorization": shared_secret.bearer(sqlite_stack.actions_secret)},
        # What a web page may send to 127.0.0.1 without asking the browser's leave (no preflight).
        "text/plain": {"Content-Type": "text/plain", "Authorization": right},
        "form": {"Content-Type": "application/x-www-form-urlencoded", "Authorization": right},
        "no content type": {"Authorization": right},
    }[how]
    who = sender()
    body = json.dumps({"sender": who, "message": "I need a box of pens from Staples for $25"})
    answer = httpx.post(sqlite_stack.webhook, content=body, headers=headers, timeout=60)
    assert answer.status_code == status, (how, answer.status_code, answer.text[:300])
    assert turns_of(sqlite_stack.database_url, who) == 0  # no turn was run, nothing was kept

    # The health check stays open, and the bot's own call (secret, JSON) runs the turn.
    assert httpx.get(f"{sqlite_stack.rasa_url}/webhooks/rest/", timeout=30).json() == {"status": "ok"}
    assert sqlite_stack.post_raw(body).status_code == 200
    assert turns_of(sqlite_stack.database_url, who) > 0


# -- no secret on a command line ----------------------------------------------------------------

def test_the_stack_passes_secrets_in_the_environment_not_on_command_lines(sqlite_stack):
    for process in (sqlite_stack.actions, sqlite_stack.rasa):
        argv = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
        environ = Path(f"/proc/{process.pid}/environ").read_bytes().decode()
        assert sqlite_stack.actions_secret in environ
        assert sqlite_stack.actions_secret not in argv and sqlite_stack.rasa_secret not in argv
    assert sqlite_stack.rasa_secret not in Path(f"/proc/{sqlite_stack.actions.pid}/environ").read_bytes().decode()


def test_rasa_cli_turns_the_api_on_from_rasa_token_in_the_environment():
    run = ["run", "--model", "m.tar.gz", "-p", "5005"]
    assert with_api_token(run, {"RASA_TOKEN": "-tok"}) == [*run, "--enable-api", "--auth-token=-tok"]
    assert with_api_token(run, {}) == run  # no token: the API stays off
    assert with_api_token(["run", "actions"], {"RASA_TOKEN": "tok"}) == ["run", "actions"]
    assert with_api_token(["train"], {"RASA_TOKEN": "tok"}) == ["train"]
    for given in (["--auth-token", "tok"], ["--auth-token=tok"]):
        with pytest.raises(TokenOnCommandLine):
            with_api_token([*run, *given], {})


# -- the secret itself ------------------------------------------------------------------------

def test_rasa_webhook_channel_does_not_start_without_its_secret(monkeypatch):
    from dialogues.rasa_plugins.channel import MicrobuyRestInput

    monkeypatch.delenv(shared_secret.RASA_SECRET, raising=False)
    with pytest.raises(shared_secret.MissingSecret, match="MICROBUY_RASA_SECRET is not set"):
        MicrobuyRestInput.from_credentials({})
    monkeypatch.setenv(shared_secret.RASA_SECRET, "short")
    with pytest.raises(shared_secret.MissingSecret, match="too short"):
        MicrobuyRestInput.from_credentials({})


def test_only_the_exact_bearer_secret_matches():
    secret = shared_secret.new()
    assert len(secret) >= shared_secret.MIN_LENGTH and secret != shared_secret.new()
    assert shared_secret.is_bearer(f"Bearer {secret}", secret)
    assert shared_secret.is_bearer(f"bearer  {secret} ", secret)
    for wrong in (None, "", "Bearer", "Bearer ", f"Bearer {secret[:-1]}", f"Bearer {secret}x", f"Token {secret}",
                  secret, f"Bearer {secret.upper()}", "Bearer \u00e9t\u00e9"):
        assert not shared_secret.is_bearer(wrong, secret), wrong
