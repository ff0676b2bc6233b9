"""Every Slack listener, one module per kind (as slack-samples/bolt-python-starter-template)."""
from slack_bolt import App

from . import actions, commands, messages, views


def register(app: App, services) -> None:
    messages.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
