"""App Home: the Home tab shows the person's requests and what each waits for (bot/home.py)."""
from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from ..home import home_view, language_of, unavailable_view

log = logging.getLogger(__name__)


def register(app: App, services) -> None:
    @app.event("app_home_opened")
    def home_opened(event, client):
        if event.get("tab") != "home":
            return  # the Messages tab: the conversation is in listeners/messages.py
        user = event.get("user")
        if not user:
            return
        language = "en"
        try:
            policy = services.approvals.policy()
            language = language_of(policy, user)
            with services.sessions() as session:
                view = home_view(session, policy, user, language)
        except Exception:  # noqa: BLE001 - the database (or policy) is down: say so rather than show nothing
            log.exception("the Home tab of %s could not be built", user)
            view = unavailable_view(language)
        try:
            client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.error("could not publish the Home tab of %s: %s", user, exc.response.get("error"))
