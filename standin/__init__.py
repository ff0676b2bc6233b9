"""A local Slack stand-in: an in-memory workspace, the Web API over it, and the deliverer that
plays a person's actions to the app, all with Slack's shapes, errors and signatures.

    workspace = Workspace.from_people({"U01AMINA": ("Amina Haddad", "en")})
    with StandIn(workspace) as slack:                       # slack.url: "http://127.0.0.1:PORT/api/"
        client = WebClient(token=workspace.bot_token, base_url=slack.url)
        deliver = Deliverer("http://127.0.0.1:3000/slack/events", SECRET, workspace)
        deliver.message("U01AMINA", "U01AMINA", "hello")    # a DM to the app, signed

It knows nothing of the bot: only Slack's side of the protocol.
"""
from .deliver import ACK_DEADLINE, Deliverer, Delivery, sign
from .webapi import METHODS, SlackError, StandIn
from .workspace import (ApiCall, Channel, Ephemeral, Message, NotFound, User, View, Workspace)

__all__ = [
    "ACK_DEADLINE", "ApiCall", "Channel", "Deliverer", "Delivery", "Ephemeral", "METHODS", "Message",
    "NotFound", "SlackError", "StandIn", "User", "View", "Workspace", "sign",
]
