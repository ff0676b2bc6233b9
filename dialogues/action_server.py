"""`python -m dialogues.action_server [-p PORT]`: the action server (`rasa run actions`) with the
two things rasa_sdk leaves out.

- It listens on 127.0.0.1 (`ACTIONS_HOST` to change it); rasa_sdk listens on every address.
- Every call but `GET /health` must carry MICROBUY_ACTIONS_SECRET (`Authorization: Bearer ...`,
  which Rasa sends: dialogues/project/endpoints.yml), else 401. The actions store requests on the word of
  the tracker they are sent, so only Rasa may send one. Without the secret it does not start.

The same options as `rasa run actions` (`--actions` defaults to dialogues.actions).
"""
from __future__ import annotations

import logging
import sys
from typing import List, Optional

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request

from dialogues import shared_secret
from settings import Settings

log = logging.getLogger(__name__)

HOST_ENV = "ACTIONS_HOST"
DEFAULT_ACTIONS = "dialogues.actions"
OPEN = {("GET", "/health")}  # for supervisors, and Rasa's check before each turn (dialogues/rasa_plugins/channel.py)


def require_secret(app: Sanic, secret: str) -> None:
    """Refuse every call without the secret, before any handler reads its body."""

    @app.middleware("request")
    async def authenticate(request: Request):
        if (request.method, request.path) in OPEN:
            return None
        if shared_secret.is_bearer(request.headers.get("authorization"), secret):
            return None
        log.warning("refused %s %s from %s: no valid %s", request.method, request.path, request.ip,
                    shared_secret.ACTIONS_SECRET)
        return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})


def build_app(actions: str, secret: str, cors_origins=None, auto_reload: bool = False) -> Sanic:
    app = create_app(actions, cors_origins=cors_origins, auto_reload=auto_reload)
    require_secret(app, secret)
    return app


def main(argv: Optional[List[str]] = None) -> int:
    parser = create_argument_parser()
    parser.prog = "python -m dialogues.action_server"
    parser.set_defaults(actions=DEFAULT_ACTIONS)
    args = parser.parse_args(argv)
    try:
        secret = shared_secret.from_env(shared_secret.ACTIONS_SECRET)
    except shared_secret.MissingSecret as exc:
        print(f"the action server cannot start: {exc}", file=sys.stderr)
        return 2
    host = Settings.read(HOST_ENV)

    # As rasa_sdk's own `main_from_args` and `run`, with our app.
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    app = build_app(args.actions, secret, cors_origins=args.cors, auto_reload=args.auto_reload)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    log.info("action server on %s://%s:%s", "https" if ssl_context else "http", host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
