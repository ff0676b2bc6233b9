"""A local Slack stand-in: an in-memory workspace, the Web API over it, the deliverer that plays
a person's actions to the app, and a page that looks like a small Slack, all with Slack's
shapes, errors and signatures.

    workspace = Workspace.from_people({"U01AMINA": ("Amina Haddad", "en")})
    with StandIn(workspace) as slack:                       # slack.url: "http://127.0.0.1:PORT/api/"
        client = WebClient(token=workspace.bot_token, base_url=slack.url)
        deliver = Deliverer("http://127.0.0.1:3000/slack/events", SECRET, workspace)
        deliver.message("U01AMINA", "U01AMINA", "hello")    # a DM to the app, signed
        slack.connect("http://127.0.0.1:3000/slack/events", SECRET)   # the page at slack.origin + "/"

It knows nothing of the bot: only Slack's side of the protocol.
"""
from .connection import AppConnection, AppProblem
from .deliver import ACK_DEADLINE, Deliverer, Delivery, sign
from .webapi import METHODS, SlackError, StandIn
from .workspace import ApiCall, Channel, Ephemeral, Message, NotFound, User, View, Workspace

__all__ = [
    "ACK_DEADLINE", "ApiCall", "AppConnection", "AppProblem", "Channel", "Deliverer", "Delivery", "Ephemeral",
    "METHODS", "Message", "NotFound", "SlackError", "StandIn", "User", "View", "Workspace", "sign",
]
