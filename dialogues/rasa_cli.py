"""`python -m dialogues.rasa_cli ARGS...`: Rasa's own command line (`rasa ARGS...`) with the skops
fix of dialogues/rasa_plugins/rasa_speedups.py installed first, which saves 5-10 s each time a process loads
or saves the intent classifier (training, `rasa test nlu`).

`rasa run` here takes its API token from RASA_TOKEN in the environment and turns the API on behind
it (`--enable-api --auth-token`), added to the arguments inside this process: a token on the
command line would be shown by `ps` to every user of the machine. A token given as an argument
is refused for the same reason.
"""
from __future__ import annotations

import sys
from typing import List, Mapping, Optional

from dialogues.rasa_plugins import rasa_speedups
from settings import Settings

TOKEN_ENV = "RASA_TOKEN"


class TokenOnCommandLine(ValueError):
    """`--auth-token` was given as an argument."""


def with_api_token(args: List[str], env: Optional[Mapping[str, str]] = None) -> List[str]:
    """Rasa's arguments (without the program name), with the API on behind RASA_TOKEN for `rasa run`
    (`env` instead of os.environ)."""
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in args):
        raise TokenOnCommandLine(f"give the token in {TOKEN_ENV}, not as --auth-token: every user of the machine "
                                 "can read a process's arguments")
    token = Settings.secret(TOKEN_ENV, env)
    if not token or args[:1] != ["run"] or args[1:2] == ["actions"]:
        return args
    return [*args, "--enable-api", f"--auth-token={token}"]  # "=": a token may start with "-"


def main() -> None:
    try:
        sys.argv[1:] = with_api_token(sys.argv[1:])
    except TokenOnCommandLine as exc:
        sys.exit(f"error: {exc}")
    rasa_speedups.install_skops()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
