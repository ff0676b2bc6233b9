"""Every Slack listener, one module per kind (as slack-samples/bolt-python-starter-template)."""
from slack_bolt import App

from ..membership import MembersOnly
from . import actions, after_approval, commands, events, messages, views


def register(app: App, services) -> None:
    # Before every listener, so none can skip it: only members of the workspace get through. One
    # users.info answer per person serves it and the person's language (bot/language.py).
    members_only = MembersOnly.for_client(app.client, heard=services.languages.heard_from_slack)
    services.languages.on_slack_user = members_only.membership.remember
    app.use(members_only)
    messages.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    after_approval.register(app, services)
    events.register(app, services)
