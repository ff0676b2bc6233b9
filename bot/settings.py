"""The Slack app's settings, all from the environment; a missing or wrong one stops start-up with
a message that names it (and never prints a secret's value)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import List, Mapping, Optional
from urllib.parse import urlsplit

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_PORT = 3000
RASA_SECRET = "MICROBUY_RASA_SECRET"  # Rasa's webhook refuses a message without it (dialogues/rasa_plugins/channel.py)
MIN_SECRET_LENGTH = 16


class SettingsError(ValueError):
    """Every problem with the settings, one line each."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__("the Slack app cannot start:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    # Secrets stay out of repr(): a logged Settings must not print them.
    bot_token: str = field(repr=False)
    signing_secret: Optional[str] = field(repr=False)
    app_token: Optional[str] = field(repr=False)
    slack_api_url: str = field()
    rasa_url: str = field()
    port: int = field()
    rasa_secret: str = field(repr=False)
    # HTTP mode: where the bot listens. Every address by default (Slack posts from the internet);
    # `microbuy up` with the local stand-in sets 127.0.0.1.
    host: str = field(default="0.0.0.0")

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        problems: List[str] = []
        get = lambda name: (env.get(name) or "").strip()  # noqa: E731
        bot_token, app_token, secret = get("SLACK_BOT_TOKEN"), get("SLACK_APP_TOKEN"), get("SLACK_SIGNING_SECRET")
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
        api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        rasa_url = get("RASA_URL") or DEFAULT_RASA_URL
        for name, url in (("SLACK_API_URL", api_url), ("RASA_URL", rasa_url)):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                example = DEFAULT_SLACK_API_URL if name == "SLACK_API_URL" else DEFAULT_RASA_URL
                problems.append(f"{name} must be an http(s) URL such as {example}, not {url!r}")
        rasa_secret = get(RASA_SECRET)
        if not rasa_secret:
            problems.append(f"{RASA_SECRET} is not set: the secret Rasa's webhook asks of the Slack app; give Rasa the "
                            "same value (`microbuy up` makes one per run)")
        elif len(rasa_secret) < MIN_SECRET_LENGTH:
            problems.append(f"{RASA_SECRET} is too short: at least {MIN_SECRET_LENGTH} characters")
        port_text = get("PORT") or str(DEFAULT_PORT)
        port = int(port_text) if port_text.isdigit() else -1
        if not 0 < port < 65536:
            problems.append(f"PORT must be a port number (1-65535), not {port_text!r}")
        if problems:
            raise SettingsError(problems)
        if not api_url.endswith("/"):
            api_url += "/"
        host = get("HOST") or "0.0.0.0"
        return cls(bot_token, secret or None, app_token or None, api_url, rasa_url.rstrip("/"), port, rasa_secret,
                   host)
