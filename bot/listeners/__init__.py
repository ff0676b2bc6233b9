"""Every Slack listener, one module per kind (as slack-samples/bolt-python-starter-template)."""
from slack_bolt import App

from . import actions, after_approval, commands, events, messages, views


def register(app: App, services) -> None:
    messages.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    after_approval.register(app, services)
    events.register(app, services)
