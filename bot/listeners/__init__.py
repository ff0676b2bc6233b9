"""Every Slack listener, one module per kind (as slack-samples/bolt-python-starter-template): each
listener is a named function of its module, and the module's `register(app)` hands it to Bolt.

The order is Bolt's: the global middleware below (members only, the services, the person's
language), for every request, then each listener's own middleware, then the listener, wrapped in
the duplicate-delivery claim (`middleware.once`) where it needs one."""
from slack_bolt import App

from ..membership import MembersOnly
from . import actions, after_approval, commands, events, messages, views
from .middleware import Language, Share


def register(app: App, services) -> None:
    # Before every listener, so none can skip it: only members of the workspace get through. One
    # users.info answer per person serves it and the person's language (bot/language.py).
    members_only = MembersOnly.for_client(app.client, heard=services.languages.heard_from_slack)
    services.languages.on_slack_user = members_only.membership.remember
    app.use(members_only)
    # Then the services (bot/app.py), in the context: listeners take them as their `services` argument.
    app.use(Share(services))
    # Then the person's language, as their `language` argument: `language()`, looked up on first use
    # (in the listener's thread, after Slack is answered), from the users.info MembersOnly asked.
    app.use(Language(services))
    messages.register(app)
    commands.register(app)
    actions.register(app)
    views.register(app)
    after_approval.register(app)
    events.register(app)
