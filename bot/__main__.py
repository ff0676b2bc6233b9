"""`python -m bot`: the Slack app. Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT at /slack/events."""
from __future__ import annotations

import logging
import sys

from slack_sdk.errors import SlackApiError

from policies import PolicyError

from .settings import Settings, SettingsError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .app import build
    from .policy_watch import poll_interval_from_env, start_policy_thread
    from .reminders import Reminders, interval_from_env, start_reminder_thread

    try:
        interval_s = interval_from_env()
        poll_s = poll_interval_from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        app, services = build(settings)
    except PolicyError as exc:
        print(f"error: the policy is broken:\n{exc.report()}", file=sys.stderr)
        return 3
    except SlackApiError as exc:
        print(f"error: Slack refused the bot token (SLACK_BOT_TOKEN): {exc.response.get('error')}", file=sys.stderr)
        return 2
    if poll_s:
        start_policy_thread(services.policy, poll_s)
    if interval_s:
        start_reminder_thread(Reminders(services.sessions, services.policy, app.client,
                                        services.approvals.refresh_post, services.languages), interval_s)
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(app, settings.app_token).start()
    else:
        from .server import make_http_server

        server = make_http_server(app, host=settings.host, port=settings.port)
        logging.getLogger("bot").info("listening on %s:%s at /slack/events", settings.host, settings.port)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
