"""The product's processes, in one table: each one's command, the environment variable that sets
its port, its default port, the path its health is probed on and how long it may take to start.

`microbuy up`, the tests' RasaStack (dialogues/stack.py) and the benchmarks start processes from
these commands, and tests/dialogues/test_processes.py checks the Procfile says the same. It is
data only (it imports neither the bot nor Rasa), kept here so that dialogues/stack.py may use it
as well as the command line above it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

from settings import Settings

ENDPOINTS, CREDENTIALS = "dialogues/project/endpoints.yml", "dialogues/project/credentials.yml"
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Process:
    name: str  # as in the Procfile and the logs
    args: Tuple[str, ...]  # after the Python interpreter; {port}, {model}, {app_url} are filled in
    port_variable: str  # the environment variable that sets its port (a field of settings.Settings)
    default_port: int
    health: str  # the path that answers once the process is ready
    start_timeout_s: float  # how long `microbuy up` waits for it to be ready

    def command(self, python: str, **values: object) -> List[str]:
        """The argument list to start it, with `values` (port, model, app_url) filled in."""
        return [python, *(arg.format(**{k: str(v) for k, v in values.items()}) for arg in self.args)]


def _port(variable: str) -> Tuple[str, int]:
    return variable, Settings.default_of(variable)


PROCESSES: Dict[str, Process] = {process.name: process for process in (
    # The bot reads PORT itself (settings.SlackApp).
    Process("web", ("-m", "bot"), *_port("PORT"), "/health", 60.0),
    # Rasa's API token comes from RASA_TOKEN in the environment, never the command line
    # (dialogues/rasa_cli.py); the action server's address from ACTION_ENDPOINT_URL.
    Process("rasa", ("-m", "dialogues.rasa_cli", "run", "--model", "{model}", "--endpoints", ENDPOINTS,
                     "--credentials", CREDENTIALS, "-i", LOOPBACK, "-p", "{port}"), *_port("RASA_PORT"), "/", 180.0),
    Process("actions", ("-m", "dialogues.action_server", "-p", "{port}"), *_port("ACTIONS_PORT"), "/health", 120.0),
    # The local Slack, started by `microbuy up` without a workspace's tokens (not in the Procfile).
    Process("standin", ("-m", "standin", "--port", "{port}", "--app-url", "{app_url}"), *_port("STANDIN_PORT"),
            "/health", 30.0),
)}
