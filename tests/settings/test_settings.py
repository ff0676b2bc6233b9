"""The one settings class (settings/environment.py): each variable's default and override, a wrong
value named, secrets never shown, and an explicit mapping read instead of os.environ."""
import re
from datetime import date
from pathlib import Path

import pytest

from settings import Settings, SettingsError, SlackApp

README = Path(__file__).resolve().parents[2] / "README.md"

# variable -> (its default, a value to set, what that value reads as)
TABLE = {
    "SLACK_BOT_TOKEN": (None, "xoxb-1-2-abc", "xoxb-1-2-abc"),
    "SLACK_APP_TOKEN": (None, "xapp-1-A-2", "xapp-1-A-2"),
    "SLACK_SIGNING_SECRET": (None, "s3cret-value", "s3cret-value"),
    "SLACK_API_URL": ("https://slack.com/api/", "http://127.0.0.1:3001/api", "http://127.0.0.1:3001/api/"),
    "RASA_URL": ("http://127.0.0.1:5005", "http://rasa:5005/", "http://rasa:5005"),
    "MICROBUY_RASA_SECRET": (None, "rasa-webhook-secret-value", "rasa-webhook-secret-value"),
    "PORT": (3000, "8080", 8080),
    "HOST": ("0.0.0.0", "127.0.0.1", "127.0.0.1"),
    "MICROBUY_REMINDER_INTERVAL_S": (300.0, "60", 60.0),
    "MICROBUY_POLICY_POLL_S": (10.0, "0", 0.0),
    "MICROBUY_JUSTIFICATION_TEMPLATE": (None, "/srv/justification.md.j2", Path("/srv/justification.md.j2")),
    "MICROBUY_ACTIONS_SECRET": (None, "actions-secret-value", "actions-secret-value"),
    "RASA_TOKEN": (None, "-token", "-token"),
    "ACTIONS_HOST": ("127.0.0.1", "0.0.0.0", "0.0.0.0"),
    "REDIS_URL": (None, "redis://:pw@redis:6379/2", "redis://:pw@redis:6379/2"),
    "RASA_PORT": (5005, "5006", 5006),
    "ACTIONS_PORT": (5055, "5056", 5056),
    "STANDIN_PORT": (3001, "3002", 3002),
    "DATABASE_URL": ("sqlite:///microbuy.db", "postgres://u:pw@db/microbuy", "postgresql://u:pw@db/microbuy"),
    "MICROBUY_AUDIT_KEY": (None, "k" * 64, "k" * 64),
    "MICROBUY_AUDIT_KEY_FILE": (None, "/etc/microbuy/audit-key", Path("/etc/microbuy/audit-key")),
    "MICROBUY_POLICY": (None, "policies/us-far.yml", Path("policies/us-far.yml")),
    "MICROBUY_TODAY": (None, "2027-02-03", date(2027, 2, 3)),
}
SECRETS = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "MICROBUY_RASA_SECRET",
           "MICROBUY_ACTIONS_SECRET", "RASA_TOKEN", "MICROBUY_AUDIT_KEY"]


def revealed(value):
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def test_the_table_covers_every_variable():
    assert sorted(Settings.variables()) == sorted(TABLE)
    for variable, field in Settings.variables().items():
        assert field.field_info.description, f"{variable} has no description"


@pytest.mark.parametrize("variable", sorted(TABLE))
def test_each_default(variable):
    default = TABLE[variable][0]
    assert Settings.read(variable, {}) == default
    assert Settings.read(variable, {variable: "  "}) == default  # blank is unset
    assert revealed(getattr(Settings.from_env({}), Settings.variables()[variable].name)) == default


@pytest.mark.parametrize("variable", sorted(TABLE))
def test_each_override(variable):
    _, given, expected = TABLE[variable]
    assert revealed(Settings.read(variable, {variable: f" {given} "})) == expected
    settings = Settings.from_env({variable: given})
    assert revealed(getattr(settings, Settings.variables()[variable].name)) == expected
    assert Settings.is_set(variable, {variable: given}) and not Settings.is_set(variable, {variable: ""})


BAD = [
    ("PORT", "eighty", "PORT must be a port number (1-65535), not 'eighty'"),
    ("PORT", "70000", "PORT must be a port number (1-65535), not '70000'"),
    ("RASA_PORT", "0", "RASA_PORT must be a port number (1-65535), not '0'"),
    ("ACTIONS_PORT", "-1", "ACTIONS_PORT must be a port number"),
    ("STANDIN_PORT", "http", "STANDIN_PORT must be a port number"),
    ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL must be an http(s) URL such as https://slack.com/api/"),
    ("RASA_URL", "ftp://rasa", "RASA_URL must be an http(s) URL such as http://127.0.0.1:5005, not 'ftp://rasa'"),
    ("MICROBUY_REMINDER_INTERVAL_S", "soon", "MICROBUY_REMINDER_INTERVAL_S must be a number of seconds (0 turns "
                                             "reminders off)"),
    ("MICROBUY_REMINDER_INTERVAL_S", "nan", "MICROBUY_REMINDER_INTERVAL_S must be 0 or more seconds"),
    ("MICROBUY_POLICY_POLL_S", "-1", "MICROBUY_POLICY_POLL_S must be 0 or more seconds, not '-1'"),
    ("MICROBUY_POLICY_POLL_S", "inf", "MICROBUY_POLICY_POLL_S must be 0 or more seconds"),
    ("MICROBUY_TODAY", "tomorrow", "MICROBUY_TODAY must be a date, YYYY-MM-DD, not 'tomorrow'"),
    ("MICROBUY_TODAY", "2027-02-30", "MICROBUY_TODAY must be a date"),
    ("REDIS_URL", "http://:pw@redis:6379/0", "REDIS_URL must look like redis://host:6379/0, not http://…"),
]


@pytest.mark.parametrize("variable, bad, message", BAD, ids=[f"{v}={b}" for v, b, _ in BAD])
def test_a_wrong_value_is_named(variable, bad, message):
    with pytest.raises(SettingsError) as caught:
        Settings.read(variable, {variable: bad})
    assert caught.value.problems == [caught.value.problems[0]] and caught.value.problems[0].startswith(message)
    assert str(caught.value) == caught.value.problems[0]  # one variable read: the line alone
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: bad})
    assert any(problem.startswith(message) for problem in caught.value.problems)


def test_from_env_lists_every_problem_at_once():
    env = {variable: bad for variable, bad, _ in BAD}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    named = {problem.split(" ", 1)[0] for problem in caught.value.problems}
    assert named == set(env)
    assert str(caught.value).startswith("the settings in the environment are wrong:\n  ")


def test_read_only_checks_the_variable_asked_for():
    """A malformed variable a process never reads does not stop it (the command line, Rasa's plugins)."""
    assert Settings.read("DATABASE_URL", {"PORT": "eighty", "DATABASE_URL": "sqlite:///x.db"}) == "sqlite:///x.db"


def test_an_unknown_variable_is_a_bug_not_a_default():
    with pytest.raises(KeyError, match="DATABSE_URL"):
        Settings.read("DATABSE_URL", {})


def test_secrets_are_never_shown():
    mark = "hunter2"  # in every secret's value and password, in no message of ours
    env = {variable: f"{TABLE[variable][1]}-{mark}-{variable}" for variable in SECRETS}
    env.update({"DATABASE_URL": f"postgresql://app:{mark}@db/microbuy", "REDIS_URL": f"redis://:{mark}@redis:6379/0"})
    settings = Settings.from_env(env)
    for shown in (repr(settings), str(settings)):
        assert mark not in shown, shown
    assert settings.slack_bot_token.get_secret_value() == env["SLACK_BOT_TOKEN"]  # still there to use
    assert settings.database_url == env["DATABASE_URL"]

    app = SlackApp.from_env({**env, "SLACK_BOT_TOKEN": f"xoxb-{mark}", "SLACK_APP_TOKEN": ""})
    assert mark not in repr(app) and mark not in str(app)

    wrong = {**env, "SLACK_BOT_TOKEN": f"xoxp-{mark}", "SLACK_APP_TOKEN": f"xoxb-{mark}",
             "MICROBUY_RASA_SECRET": mark, "REDIS_URL": f"http://:{mark}@redis"}
    with pytest.raises(SettingsError) as caught:
        SlackApp.from_env(wrong)
    assert caught.value.problems == [
        "SLACK_BOT_TOKEN must be a bot token starting with xoxb-",
        "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Socket Mode)",
        "MICROBUY_RASA_SECRET is too short: at least 16 characters"]
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(wrong)
    assert caught.value.problems == ["REDIS_URL must look like redis://host:6379/0, not http://…"]
    assert mark not in str(caught.value)


def test_from_env_reads_the_mapping_given_and_not_os_environ(monkeypatch):
    monkeypatch.setenv("PORT", "8081")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-os-environ.db")
    monkeypatch.setenv("MICROBUY_TODAY", "2030-01-01")
    given = Settings.from_env({"PORT": "9090"})
    assert (given.port, given.database_url, given.today) == (9090, "sqlite:///microbuy.db", None)
    assert Settings.read("DATABASE_URL", {}) == "sqlite:///microbuy.db"
    # Without a mapping: os.environ, the same way through each door.
    assert Settings.from_env().port == Settings().port == Settings.read("PORT") == 8081
    assert Settings.from_env().today == Settings().today == date(2030, 1, 1)


def test_settings_are_frozen():
    settings = Settings.from_env({})
    with pytest.raises(TypeError):
        settings.port = 1


def test_the_slack_app_view():
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret", "MICROBUY_RASA_SECRET": "r" * 16,
           "SLACK_API_URL": "http://127.0.0.1:3001/api", "RASA_URL": "http://127.0.0.1:5005/", "PORT": "3100"}
    app = SlackApp.from_env(env)
    assert (app.bot_token, app.signing_secret, app.app_token, app.rasa_secret) == ("xoxb-1", "s3cret", None, "r" * 16)
    assert (app.slack_api_url, app.rasa_url, app.port, app.host) == (
        "http://127.0.0.1:3001/api/", "http://127.0.0.1:5005", 3100, "0.0.0.0")
    assert not app.socket_mode
    # Its problems and the malformed values of its variables, together; nobody else's.
    with pytest.raises(SettingsError) as caught:
        SlackApp.from_env({"PORT": "0", "RASA_URL": "rasa", "MICROBUY_TODAY": "soon"})
    assert [problem.split(" ", 1)[0] for problem in caught.value.problems] == [
        "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "RASA_URL", "MICROBUY_RASA_SECRET", "PORT"]
    assert str(caught.value).startswith("the Slack app cannot start:\n")


def test_the_readme_lists_every_variable():
    table = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\| ([^|]+) \|", table, flags=re.MULTILINE)
    listed = {name for cell in first_cells for name in re.findall(r"`([A-Z_]+)`", cell)}
    assert set(Settings.variables()) <= listed, sorted(set(Settings.variables()) - listed)
