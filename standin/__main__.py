"""`python -m standin --port 3001`: the Slack Web API stand-in, with the policy's people.

Point the app at it with WebClient(base_url=<the printed URL>) and the printed bot token.
"""
from __future__ import annotations

import argparse
import sys
import threading

from .webapi import StandIn
from .workspace import DEFAULT_CHANNELS, Workspace


def workspace_from_policy(policy_file: str | None = None) -> Workspace:
    from policies import load_policy

    policy = load_policy(policy_file) if policy_file else load_policy()
    people = {user_id: (person.name, person.language) for user_id, person in policy.rules.people.items()}
    return Workspace.from_people(people, channels=DEFAULT_CHANNELS, tz=policy.rules.pack.timezone)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m standin", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3001, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--policy", help="policy pack whose people fill the workspace (default: MICROBUY_POLICY)")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    options = parser.parse_args(argv)

    workspace = workspace_from_policy(options.policy)
    standin = StandIn(workspace, host=options.host, verbose=options.verbose)
    try:
        url = standin.start(options.port)
    except OSError as exc:
        print(f"cannot listen on {options.host}:{options.port}: {exc.strerror}", file=sys.stderr)
        return 1
    print(url, flush=True)
    print(f"bot token: {workspace.bot_token}  team: {workspace.team_id}  "
          f"people: {len(workspace.users) - 1}", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
