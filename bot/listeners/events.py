"""App Home: the Home tab shows the person's requests and what each waits for (bot/home.py), and
the language buttons (English / Français) that record the person's choice and redraw the tab."""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Optional

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from ..home import SET_LANGUAGE, home_view, unavailable_view

if TYPE_CHECKING:
    from ..app import Services
    from .middleware import LazyLanguage

log = logging.getLogger(__name__)
LANGUAGE_BUTTON = re.compile(rf"^{SET_LANGUAGE}_[a-z]{{2}}$")


def publish(services: Services, client, user: str, language: Optional[str] = None) -> None:
    """Build and publish `user`'s Home tab in their language (`language`, or asked here)."""
    shown = language or "en"
    try:
        shown = language or services.languages.of(user, client)
        policy = services.approvals.policy()
        with services.sessions() as session:
            # A read: on SQLite it does not hold the write lock while the view is built.
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            view = home_view(session, policy, user, shown)
    except Exception:  # the database (or policy) is down: say so rather than show nothing
        log.exception("the Home tab of %s could not be built", user)
        view = unavailable_view(shown)
    try:
        client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        log.error("could not publish the Home tab of %s: %s", user, exc.response.get("error"))


def home_opened(event, client, services: Services, language: LazyLanguage) -> None:
    if event.get("tab") != "home":
        return  # the Messages tab: the conversation is in listeners/messages.py
    user = event.get("user")
    if user:
        publish(services, client, user, language())


def language_chosen(ack, body, action, client, services: Services, language: LazyLanguage) -> None:
    """English / Français on the Home tab: the person's own choice, from their next message on,
    and the tab redrawn in it at once (the `language` the request came with is the one before)."""
    ack()
    user = (body.get("user") or {}).get("id")
    if not user:
        return
    chosen = action.get("value") or ""
    recorded = services.languages.choose(user, chosen, "app_home")
    publish(services, client, user, chosen if recorded else language())


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
    app.action(LANGUAGE_BUTTON)(language_chosen)
