"""The Bolt app: the Slack client, the services the listeners share, and the listeners."""
from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Callable, Optional, Tuple

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy, PolicyInForce

from . import listeners
from .approvals import Approvals
from .conversation import Conversation
from .delivery import AfterApproval
from .language import Languages
from .policy_watch import PolicyWatch
from .rasa import RasaClient
from .settings import Settings

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[A-Z0-9]+>")
# Threads that run the listeners. Bolt's default is 5, and a listener holds its thread for a whole
# turn (the wait on Rasa): with 5 turns in progress, every other message waited in a queue, and so
# did button clicks, which Bolt acknowledges from inside the listener, past Slack's 3 s under
# load (bench/slack_load.py). A waiting thread costs little memory and no CPU.
LISTENER_THREADS = 64


class Services:
    """What the listeners share: Bolt hands it to each as its `services` argument (the context,
    set by bot/listeners/middleware.py, `Share`)."""

    def __init__(self, sessions: sessionmaker, conversation: Conversation, approvals: Approvals,
                 after_approval: AfterApproval, policy: Callable[[], LoadedPolicy],
                 languages: Optional[Languages] = None):
        self.sessions = sessions
        self.policy = policy
        self.conversation = conversation
        self.approvals = approvals
        self.after_approval = after_approval
        # The language each person is served in (bot/language.py), shared by everything here.
        self.languages = languages or approvals.languages

    def first_time(self, key: Optional[str], kind: str) -> bool:
        """True once per Slack event, command or click; a retry or a second click gets False.
        Asked around the listeners (bot/listeners/middleware.py, `once`), after Slack is answered."""
        if not key:
            return True
        try:
            with self.sessions.begin() as session:
                return storage.claim_event(session, key[:255], kind)
        except SQLAlchemyError:
            log.exception("could not record %s %s; handling it anyway", kind, key)
            return True

    @staticmethod
    def without_mentions(text: str) -> str:
        return MENTION.sub("", text or "").strip()


def slack_client(settings: Settings) -> WebClient:
    """Slack's Web API (or the stand-in at SLACK_API_URL), retrying 429s after their Retry-After."""
    return WebClient(token=settings.bot_token, base_url=settings.slack_api_url,
                     retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3),
                                     ConnectionErrorRetryHandler(max_retry_count=2)])


def build_app(settings: Settings, sessions: Optional[sessionmaker] = None,
              policy: Optional[Callable[[], LoadedPolicy]] = None, today: Optional[Callable[[], date]] = None) -> App:
    return build(settings, sessions, policy, today)[0]


def build(settings: Settings, sessions: Optional[sessionmaker] = None,
          policy: Optional[Callable[[], LoadedPolicy]] = None,
          today: Optional[Callable[[], date]] = None) -> Tuple[App, Services]:
    """The app and the services its listeners share (sessions, policy), for background work.
    `today` pins the date decisions and deliveries are checked on (tests); by default
    workflow.today, the pack's time zone's date."""
    sessions = sessions or storage.make_session_factory(storage.make_engine())
    policy = policy or PolicyInForce()
    client = slack_client(settings)
    languages = Languages(sessions, policy)
    if isinstance(policy, PolicyInForce):
        # Heard from the first load on: every version in force is audited, refused edits reported.
        PolicyWatch(sessions, policy, client, languages)
    policy()  # a broken policy stops start-up with its report, rather than failing the first click
    after_approval = AfterApproval(sessions, policy, today=today, languages=languages)
    approvals = Approvals(sessions, policy, approved_message=after_approval.approved_message, languages=languages,
                          today=today)
    conversation = Conversation(RasaClient(settings.rasa_url, settings.rasa_secret), approvals.post_for_approval,
                                languages)
    approvals.on_changes_requested = conversation.reopen_for_changes
    app = App(client=client, signing_secret=settings.signing_secret or "socket-mode",
              request_verification_enabled=not settings.socket_mode,
              listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"))
    services = Services(sessions, conversation, approvals, after_approval, policy, languages)
    listeners.register(app, services)
    return app, services
