"""Every environment variable microbuy reads, in one class: its name, type, default and meaning.

    Settings.from_env()              # all of them, every problem listed at once
    Settings.read("DATABASE_URL")    # one of them, for a function that needs only that one
    SlackApp.from_env()              # what the Slack app needs, checked for starting it

A blank variable counts as unset. A malformed value is refused with a message that names the
variable and never prints a secret's value; secrets are SecretStr, and the URLs that may carry a
password stay out of repr(). `env`, any mapping, is read instead of os.environ (tests, and
`microbuy up`, which checks the environment it will give its children).

Not here: variables microbuy only sets for others (ACTION_ENDPOINT_URL, read by Rasa from
dialogues/project/endpoints.yml; RASA_TELEMETRY_ENABLED) and the tests' own.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Collection, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from pydantic import BaseSettings, Field, SecretStr, ValidationError, validator
from pydantic.fields import ModelField

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
MIN_SECRET_LENGTH = 16  # a guessable secret is no secret


class SettingsError(ValueError):
    """Every problem with the settings, one line each, each naming its variable."""

    def __init__(self, problems: List[str], heading: Optional[str] = None):
        self.problems = problems
        listed = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{heading}:\n{listed}" if heading else "\n".join(problems))


class Settings(BaseSettings):
    """The environment microbuy runs in. Build it with from_env(), or read one variable with read()."""

    # The Slack app (python -m bot)
    slack_bot_token: Optional[SecretStr] = Field(
        None, env="SLACK_BOT_TOKEN", description="the bot token (xoxb-...); the Slack app needs it")
    slack_app_token: Optional[SecretStr] = Field(
        None, env="SLACK_APP_TOKEN", description="an app-level token (xapp-...): Socket Mode; unset: HTTP mode")
    slack_signing_secret: Optional[SecretStr] = Field(
        None, env="SLACK_SIGNING_SECRET",
        description="checks that requests come from Slack (HTTP mode); the stand-in signs its deliveries with it")
    slack_api_url: str = Field(
        DEFAULT_SLACK_API_URL, env="SLACK_API_URL", description="Slack's Web API, or the local stand-in's")
    rasa_url: str = Field(
        DEFAULT_RASA_URL, env="RASA_URL", description="where the Slack app and `microbuy train` find `rasa run`")
    rasa_secret: Optional[SecretStr] = Field(
        None, env="MICROBUY_RASA_SECRET",
        description="the secret the Slack app sends Rasa's webhook, which refuses a message without it")
    port: int = Field(3000, env="PORT", description="HTTP mode: the port the Slack app listens on")
    host: str = Field("0.0.0.0", env="HOST", description="HTTP mode: the address the Slack app listens on")
    reminder_interval_s: float = Field(
        300.0, env="MICROBUY_REMINDER_INTERVAL_S", description="seconds between reminder runs; 0 turns them off")
    policy_poll_s: float = Field(
        10.0, env="MICROBUY_POLICY_POLL_S", description="seconds between looks at the policy file; 0 turns it off")
    justification_template: Optional[Path] = Field(
        None, env="MICROBUY_JUSTIFICATION_TEMPLATE",
        description="the approval post's template; unset: policies/templates/justification.md.j2")

    # Rasa and the action server
    actions_secret: Optional[SecretStr] = Field(
        None, env="MICROBUY_ACTIONS_SECRET",
        description="the secret Rasa sends the action server, which refuses every call but /health without it")
    rasa_token: Optional[SecretStr] = Field(
        None, env="RASA_TOKEN", description="turns Rasa's HTTP API on behind this token; unset: the API is off")
    actions_host: str = Field("127.0.0.1", env="ACTIONS_HOST", description="the address the action server listens on")
    redis_url: Optional[str] = Field(
        None, env="REDIS_URL", repr=False,
        description="redis://host:6379/0: Rasa's conversation locks in Redis; unset: in memory (one Rasa only)")
    rasa_port: int = Field(5005, env="RASA_PORT", description="the port of `rasa run` (the Procfile, `microbuy up`)")
    actions_port: int = Field(
        5055, env="ACTIONS_PORT", description="the port of the action server (the Procfile, `microbuy up`)")
    standin_port: int = Field(3001, env="STANDIN_PORT", description="the port of the Slack stand-in (`microbuy up`)")

    # Every process
    database_url: str = Field(
        "sqlite:///microbuy.db", env="DATABASE_URL", repr=False,  # it may hold a password
        description="the database: a SQLite file in the working directory, or postgresql://... in production")
    audit_key: Optional[SecretStr] = Field(
        None, env="MICROBUY_AUDIT_KEY", description="the secret that seals the audit log, 32 characters at least")
    audit_key_file: Optional[Path] = Field(
        None, env="MICROBUY_AUDIT_KEY_FILE",
        description="a file only its owner may read, holding the audit key; unset: beside a SQLite database")
    policy: Optional[Path] = Field(
        None, env="MICROBUY_POLICY", description="the policy pack in force; unset: policies/esdc.yml")
    today: Optional[date] = Field(
        None, env="MICROBUY_TODAY",
        description="YYYY-MM-DD: the date requests are judged on (demos, tests); unset: today in the pack's zone")

    class Config:
        case_sensitive = True  # the exact names: `port` is not PORT
        allow_mutation = False
        validate_all = False  # the defaults are already in their final form

        @classmethod
        def customise_sources(cls, init_settings, env_settings, file_secret_settings):
            # Settings() reads os.environ as from_env() does (blank is unset); no .env file, no secrets dir.
            return init_settings, lambda settings: _given(type(settings), os.environ)

    @validator("port", "rasa_port", "actions_port", "standin_port", pre=True)
    def _port(cls, value: Any, field: ModelField) -> int:
        text = str(value).strip()
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise ValueError(f"{_variable(field)} must be a port number (1-65535), not {text!r}")
        return int(text)

    @validator("slack_api_url", "rasa_url", pre=True)
    def _http_url(cls, value: Any, field: ModelField) -> str:
        url = str(value).strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{_variable(field)} must be an http(s) URL such as {field.default}, not {url!r}")
        # The Web API's methods are joined to it; Rasa's paths are added after a "/".
        return url if field.name == "rasa_url" or url.endswith("/") else url + "/"

    @validator("rasa_url")
    def _no_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @validator("reminder_interval_s", "policy_poll_s", pre=True)
    def _seconds(cls, value: Any, field: ModelField) -> float:
        raw = str(value).strip()
        off = "reminders" if field.name == "reminder_interval_s" else "it"
        try:
            seconds = float(raw)
        except ValueError:
            raise ValueError(f"{_variable(field)} must be a number of seconds (0 turns {off} off), not {raw!r}") \
                from None
        if not 0 <= seconds < float("inf"):  # nan too
            raise ValueError(f"{_variable(field)} must be 0 or more seconds, not {raw!r}")
        return seconds

    @validator("today", pre=True)
    def _date(cls, value: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"MICROBUY_TODAY must be a date, YYYY-MM-DD, not {value!r}") from None

    @validator("redis_url", pre=True)
    def _redis_url(cls, value: Any) -> str:
        url = str(value).strip()
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            # Only the scheme: the rest may hold a password.
            raise ValueError(f"REDIS_URL must look like redis://host:6379/0, not {parts.scheme or 'no scheme'}://…")
        return url

    @validator("database_url")
    def _sqlalchemy_scheme(cls, url: str) -> str:
        # Heroku-style "postgres://" is not a scheme SQLAlchemy knows.
        return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url

    # -- reading ----------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        """Every variable, from `env` only (default os.environ); SettingsError lists every problem."""
        values, problems = cls._check(env)
        if problems:
            raise SettingsError(list(problems.values()), "the settings in the environment are wrong")
        return cls.construct(**values)

    @classmethod
    def read(cls, variable: str, env: Optional[Mapping[str, str]] = None) -> Any:
        """One variable's value (its default when unset), checked as from_env() checks it. Only that
        one: a malformed variable a process never uses does not stop it."""
        values, problems = cls._check(env, (variable,))
        if problems:
            raise SettingsError(list(problems.values()))
        return values[cls._field(variable).name]

    @classmethod
    def secret(cls, variable: str, env: Optional[Mapping[str, str]] = None) -> str:
        """A secret's value, "" when unset: for the code that sends or checks it, never for a message."""
        value = cls.read(variable, env)
        return value.get_secret_value() if isinstance(value, SecretStr) else ""

    @classmethod
    def is_set(cls, variable: str, env: Optional[Mapping[str, str]] = None) -> bool:
        """Whether the variable is set (not blank), so that its default would not be used."""
        return cls._field(variable).name in _given(cls, os.environ if env is None else env)

    @classmethod
    def variables(cls) -> Dict[str, ModelField]:
        """Each environment variable's field (its type, default and field_info.description)."""
        return {_variable(f): f for f in cls.__fields__.values()}

    @classmethod
    def default_of(cls, variable: str) -> Any:
        return cls._field(variable).default

    @classmethod
    def _field(cls, variable: str) -> ModelField:
        try:
            return cls.variables()[variable]
        except KeyError:
            raise KeyError(f"{variable} is not a variable of settings.Settings") from None

    @classmethod
    def _check(cls, env: Optional[Mapping[str, str]],
               variables: Optional[Collection[str]] = None) -> Tuple[Dict[str, Any], Dict[str, str]]:
        """(field name -> value, variable -> problem) for `variables` (default: all)."""
        for variable in variables or ():
            cls._field(variable)  # a misspelt name is a bug, not an unset variable
        given = _given(cls, os.environ if env is None else env)
        values: Dict[str, Any] = {}
        problems: Dict[str, str] = {}
        for name, model_field in cls.__fields__.items():
            variable = _variable(model_field)
            if variables is not None and variable not in variables:
                continue
            if name not in given:
                values[name] = model_field.get_default()
                continue
            value, error = model_field.validate(given[name], values, loc=variable, cls=cls)
            if error:
                message = ValidationError([error], cls).errors()[0]["msg"]
                problems[variable] = message if message.startswith(variable) else f"{variable}: {message}"
            else:
                values[name] = value
        return values, problems


def _variable(model_field: ModelField) -> str:
    return model_field.field_info.extra["env"]


def _given(model: Any, env: Mapping[str, str]) -> Dict[str, str]:
    """Field name -> the variable's text, stripped, for the variables set and not blank."""
    found = {}
    for name, model_field in model.__fields__.items():
        text = (env.get(_variable(model_field)) or "").strip()
        if text:
            found[name] = text
    return found


@dataclass(frozen=True)
class SlackApp:
    """What the Slack app runs with, checked for starting it: a bot token, and Socket Mode's app
    token or HTTP mode's signing secret, and the secret Rasa asks for. Secrets stay out of repr()."""

    bot_token: str = field(repr=False)
    signing_secret: Optional[str] = field(repr=False)
    app_token: Optional[str] = field(repr=False)
    slack_api_url: str = field()
    rasa_url: str = field()
    port: int = field()
    rasa_secret: str = field(repr=False)
    # HTTP mode: every address by default (Slack posts from the internet); `microbuy up` with the
    # local stand-in sets 127.0.0.1.
    host: str = field(default="0.0.0.0")

    VARIABLES: ClassVar[Tuple[str, ...]] = (
        "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL", "RASA_URL",
        "MICROBUY_RASA_SECRET", "PORT", "HOST")

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "SlackApp":
        """SettingsError lists every problem, one line each, naming the variable."""
        values, malformed = Settings._check(env, cls.VARIABLES)
        reveal = lambda name: values[name].get_secret_value() if values[name] else ""  # noqa: E731
        bot_token, app_token, secret = reveal("slack_bot_token"), reveal("slack_app_token"), \
            reveal("slack_signing_secret")
        rasa_secret = reveal("rasa_secret")
        problems: List[str] = []
        if not bot_token:
            problems.append("SLACK_BOT_TOKEN is not set: "
                            "the bot token (xoxb-...) from the app's OAuth & Permissions page")
        elif not bot_token.startswith("xoxb-"):
            problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if app_token and not app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp- (Socket Mode)")
        if not app_token and not secret:
            problems.append("SLACK_SIGNING_SECRET is not set: HTTP mode (no SLACK_APP_TOKEN) checks every request's "
                            "signature with it (Basic Information > App Credentials)")
        problems += [malformed[name] for name in ("SLACK_API_URL", "RASA_URL") if name in malformed]
        if not rasa_secret:
            problems.append("MICROBUY_RASA_SECRET is not set: the secret Rasa's webhook asks of the Slack app; give "
                            "Rasa the same value (`microbuy up` makes one per run)")
        elif len(rasa_secret) < MIN_SECRET_LENGTH:
            problems.append(f"MICROBUY_RASA_SECRET is too short: at least {MIN_SECRET_LENGTH} characters")
        problems += [problem for name, problem in malformed.items() if name not in ("SLACK_API_URL", "RASA_URL")]
        if problems:
            raise SettingsError(problems, "the Slack app cannot start")
        return cls(bot_token, secret or None, app_token or None, values["slack_api_url"], values["rasa_url"],
                   values["port"], rasa_secret, values["host"])
