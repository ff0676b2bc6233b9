"""Start-up settings: every problem named, secrets never printed."""
import subprocess
import sys

import pytest

from bot.settings import Settings, SettingsError

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cret-value", "RASA_URL": "http://127.0.0.1:5005",
        "MICROBUY_RASA_SECRET": "rasa-webhook-secret-value"}


def test_good_settings_for_http_mode():
    settings = Settings.from_env(GOOD)
    assert not settings.socket_mode and settings.port == 3000 and settings.slack_api_url == "https://slack.com/api/"


def test_socket_mode_needs_no_signing_secret():
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A-2",
                                  "MICROBUY_RASA_SECRET": GOOD["MICROBUY_RASA_SECRET"]})
    assert settings.socket_mode


@pytest.mark.parametrize("env, named", [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({**GOOD, "SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be a bot token"),
    ({**GOOD, "SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not set"),
    ({**GOOD, "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN must be an app-level token"),
    ({**GOOD, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL must be an http(s) URL"),
    ({**GOOD, "RASA_URL": "ftp://rasa"}, "RASA_URL must be an http(s) URL"),
    ({**GOOD, "PORT": "eighty"}, "PORT must be a port number"),
    ({**GOOD, "PORT": "70000"}, "PORT must be a port number"),
    ({**GOOD, "MICROBUY_RASA_SECRET": ""}, "MICROBUY_RASA_SECRET is not set"),
    ({**GOOD, "MICROBUY_RASA_SECRET": "short"}, "MICROBUY_RASA_SECRET is too short"),
])
def test_each_wrong_setting_is_named(env, named):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert any(named in problem for problem in caught.value.problems)


def test_python_m_bot_stops_with_the_names_and_without_secrets():
    env = {"PATH": "/usr/bin:/bin", "SLACK_BOT_TOKEN": "xoxp-secret-user-token", "SLACK_SIGNING_SECRET": ""}
    result = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN must be a bot token" in result.stderr and "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert "xoxp-secret-user-token" not in result.stderr + result.stdout
