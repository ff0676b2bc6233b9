"""The environment microbuy runs in, read and checked in one place (settings/environment.py).

The bottom layer: every package may import it, and it imports none of ours.
"""
from .environment import MIN_SECRET_LENGTH, Settings, SettingsError, SlackApp

__all__ = ["MIN_SECRET_LENGTH", "Settings", "SettingsError", "SlackApp"]
