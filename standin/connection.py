"""The app the stand-in delivers to: its events URL and signing secret, a Deliverer for them,
and what went wrong there in words a person can act on ("microbuy did not answer at ...").

    standin.connect("http://127.0.0.1:3000/slack/events", secret)   # then standin.app.deliver

The signing secret is kept out of repr() and every message: it never reaches a log or a page.
"""
from __future__ import annotations

import http.client
import socket
import urllib.error
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

from .deliver import ACK_DEADLINE, Deliverer, Delivery
from .workspace import Workspace

KEEP_DELIVERIES = 500  # the newest, for tests and debugging; a stand-in may run for days


class AppProblem(Exception):
    """The app could not be reached, refused the request or answered too late; str() says which."""


@dataclass
class AppConnection:
    events_url: str  # Slack posts events, slash commands and interactions here (one Request URL)
    signing_secret: str = field(repr=False)
    workspace: Optional[Workspace] = field(default=None, repr=False)
    commands: Tuple[str, ...] = ("/buy",)  # the app's slash commands, as its manifest declares them
    ack_timeout: float = ACK_DEADLINE  # Slack gives up on an app that has not answered in 3 s
    deliver: Deliverer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.signing_secret:
            raise ValueError("an app connection needs the app's signing secret")
        self.deliver = Deliverer(self.events_url, self.signing_secret, self.workspace, timeout=self.ack_timeout)

    @property
    def app_name(self) -> str:
        ws = self.workspace
        return ws.users[ws.bot_user_id].name if ws is not None else "the app"

    def send(self, action: Callable[[Deliverer], Delivery]) -> Delivery:
        """Run one delivery (`lambda d: d.message(...)`); AppProblem unless the app acknowledged it
        in time with a 2xx answer, as Slack requires."""
        where = f"{self.app_name} did not answer at {self.events_url}"
        del self.deliver.deliveries[:-KEEP_DELIVERIES]
        try:
            delivery = action(self.deliver)
        except urllib.error.URLError as exc:
            raise AppProblem(f"{where}: {_reason(exc.reason, self.ack_timeout)}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise AppProblem(f"{where}: {_reason(exc, self.ack_timeout)}") from None
        if not delivery.ok:
            hint = " (is SLACK_SIGNING_SECRET the app's signing secret?)" if delivery.status == 401 else ""
            raise AppProblem(f"{self.app_name} answered HTTP {delivery.status} at {self.events_url}{hint}")
        if delivery.elapsed > self.ack_timeout:
            raise AppProblem(f"{self.app_name} answered after {delivery.elapsed:.1f} s at {self.events_url}; "
                             f"Slack gives up after {self.ack_timeout:g} s")
        return delivery


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f"no acknowledgement within {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, (http.client.RemoteDisconnected, ConnectionResetError)):
        return "the connection was closed without an answer"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
