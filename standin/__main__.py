"""`python -m standin --port 3001 [--app-url http://127.0.0.1:3000/slack/events]`: a local Slack,
with the policy's people, in a browser.

Prints the Web API base URL (point the app's SLACK_API_URL at it) and, on the second line, the
page to open. With --app-url, what people do on the page is delivered to the app there, signed
with the signing secret from SLACK_SIGNING_SECRET, as Slack delivers it.
"""
from __future__ import annotations

import argparse
import sys
import threading
from urllib.parse import urlsplit

from settings import Settings

from .seed import workspace_from_policy
from .webapi import StandIn

__all__ = ["main", "workspace_from_policy"]
SECRET_VARIABLE = "SLACK_SIGNING_SECRET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m standin", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3001, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--app-url", help="the app's Request URL (events, commands, interactivity), "
                                          f"e.g. http://127.0.0.1:3000/slack/events; needs {SECRET_VARIABLE}")
    parser.add_argument("--policy", help="policy pack whose people fill the workspace (default: MICROBUY_POLICY)")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    options = parser.parse_args(argv)

    secret = Settings.secret(SECRET_VARIABLE)
    if options.app_url:
        if urlsplit(options.app_url).scheme not in ("http", "https") or not urlsplit(options.app_url).netloc:
            parser.error(f"--app-url must be an http(s) URL such as http://127.0.0.1:3000/slack/events, "
                         f"not {options.app_url!r}")
        if not secret:
            parser.error(f"--app-url needs the app's signing secret in the environment variable {SECRET_VARIABLE} "
                         f"(Basic Information > App Credentials, or the value the bot runs with)")

    workspace = workspace_from_policy(options.policy)
    standin = StandIn(workspace, host=options.host, verbose=options.verbose)
    if options.app_url:
        standin.connect(options.app_url, secret)
    try:
        url = standin.start(options.port)
    except OSError as exc:
        print(f"cannot listen on {options.host}:{options.port}: {exc.strerror}", file=sys.stderr)
        return 1
    print(url, flush=True)
    print(f"ui: {standin.origin}/", flush=True)
    print(f"bot token: {workspace.bot_token}  team: {workspace.team_id}  people: {len(workspace.users) - 1}  "
          f"app: {options.app_url or 'none (the page only shows; start with --app-url to deliver)'}",
          file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
