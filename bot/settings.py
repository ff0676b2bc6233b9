"""The Slack app's settings, under the names the bot has always used. They are read and checked
by the one settings class (settings/environment.py, `SlackApp`): a missing or wrong one stops
start-up with a message that names it (and never prints a secret's value)."""
from settings import SettingsError, SlackApp

Settings = SlackApp

__all__ = ["Settings", "SettingsError"]
