"""`python -m standin`: the workspace seeded from a policy pack (titles, order, channels), and
the command line another tool starts it with (--app-url, SLACK_SIGNING_SECRET, two URL lines)."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from policies import load_policy
from standin.__main__ import main, workspace_from_policy

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cli-test-signing-secret"


def people(workspace):
    return [(u.id, u.title) for u in workspace.users.values() if not u.is_bot]


def test_esdc_people_are_titled_by_what_they_approve_requesters_first():
    shown = people(workspace_from_policy(str(ROOT / "policies" / "esdc.yml")))
    assert shown == [
        ("U09NADIA", "Requester"),
        ("U01AMINA", "Fund-centre manager (section 32), cost centre 100200"),
        ("U04KWAME", "Fund-centre manager (section 32), cost centre 100300"),
        ("U02MARC", "Director, cost centre 100200"),
        ("U05ELENA", "Director, cost centre 100300"),
        ("U06OLIVIA", "CFO branch"),  # department-wide
        ("U03SOPHIE", "Director General, cost centres 100200, 100300"),
        ("U07PIERRE", "Deputy head"),
        ("U08JORDAN", "Delegate of Amina Haddad, 2026-12-21 to 2027-01-04"),
        # Two whom Slack lets write to the app but who may not use microbuy, to try that with.
        ("U0GUEST", "Guest (contractor): may not use microbuy"),
        ("U0EXTERNAL", "Partner organization, via Slack Connect: may not use microbuy"),
    ]


def test_channels_are_the_ones_the_pack_names_with_everyone_in_them():
    policy = load_policy(ROOT / "policies" / "esdc.yml").rules
    workspace = workspace_from_policy(str(ROOT / "policies" / "esdc.yml"))
    named = [c.channel[1:] for c in policy.approval.cost_centres.values()]
    if policy.pack.admin_channel:
        named.append(policy.pack.admin_channel[1:])
    channels = [c for c in workspace.channels.values() if not c.is_im]
    assert [c.name for c in channels] == list(dict.fromkeys(named))  # '#microbuy-approvals' once
    assert channels[0].name == "microbuy-approvals"
    for channel in channels:
        assert set(channel.members) == set(workspace.users)  # the bot is invited, everyone is in
    assert workspace.team_name == "ESDC acquisition card and micro-acquisition"
    assert workspace.users["U09NADIA"].to_slack(workspace.team_id)["profile"]["title"] == "Requester"


def test_another_pack_and_a_channel_given_by_id(tmp_path):
    source = (ROOT / "policies" / "us-far.yml").read_text(encoding="utf-8")
    assert source.count("channel: '#purchase-card-approvals'") == 2
    pack = tmp_path / "us-far.yml"
    pack.write_text(source.replace("channel: '#purchase-card-approvals'", "channel: C0GRANTS", 1), encoding="utf-8")
    workspace = workspace_from_policy(str(pack))
    shown = people(workspace)
    assert shown[:2] == [("U27TYLER", "Requester"), ("U28ANA", "Requester")]
    assert shown[2][0] == "U20GRACE" and shown[2][1].startswith("Approving official")
    assert shown[-3] == ("U29JAMAL", "Delegate of Grace Holloway, 2026-12-21 to 2027-01-04")
    channels = {c.id: c.name for c in workspace.channels.values() if not c.is_im}
    assert channels["C0GRANTS"] == "c0grants" and "purchase-card-approvals" in channels.values()
    assert workspace.channel("C0GRANTS") is workspace.channels["C0GRANTS"]


def test_app_url_needs_the_signing_secret(monkeypatch, capsys):
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--app-url", "http://127.0.0.1:3000/slack/events"])
    assert exited.value.code == 2
    assert "SLACK_SIGNING_SECRET" in capsys.readouterr().err


def test_app_url_must_be_a_url(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--app-url", "127.0.0.1:3000"])
    assert exited.value.code == 2 and "--app-url must be an http(s) URL" in capsys.readouterr().err


def test_a_taken_port_is_a_clear_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_prints_the_api_and_page_urls_answers_health_and_keeps_the_secret(tmp_path):
    env = {**os.environ, "SLACK_SIGNING_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "standin", "--port", "0", "--app-url", "http://127.0.0.1:9/slack/events",
             "--policy", "policies/esdc.yml"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        api = process.stdout.readline().strip()
        ui = process.stdout.readline().strip()
        assert api.startswith("http://127.0.0.1:") and api.endswith("/api/")
        assert ui == "ui: " + api[: -len("api/")]
        origin = api[: -len("/api/")]
        health = httpx.get(origin + "/health", timeout=5)
        assert (health.status_code, health.text) == (200, "ok")
        shown = httpx.get(origin + "/ui/api/state", timeout=5).json()
        assert shown["app"] == {"connected": True, "url": "http://127.0.0.1:9/slack/events"}
        assert shown["user"]["id"] == "U09NADIA"  # the pack's requester comes first
    finally:
        process.terminate()
        rest, _ = process.communicate(timeout=10)
    assert SECRET not in rest and SECRET not in stderr.read_text()
    assert "app: http://127.0.0.1:9/slack/events" in stderr.read_text()
