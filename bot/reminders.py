"""Reminders and escalation for decisions that wait, worded and sent on Slack.

    reminders = Reminders(sessions, policy, app.client)
    reminders.run_once(now=datetime.now(timezone.utc))   # what it did, one line each
    start_reminder_thread(reminders, interval_s=300)       # python -m bot does this

What is due, and each action claimed, audited and (for an escalation) done once, is
workflow/reminders.py's. This module words each message in its reader's language (every value a
requester typed escaped) and sends the DMs after the action's transaction committed, so no lock
is held while Slack answers (or asks to wait after a 429): approvers' decisions go on meanwhile,
and a second bot sees the claim and leaves the action alone. If Slack still refuses (after
slack_sdk's own retries), workflow.reminders.release frees the claim and audits
"reminder.failed", so the next run does it again; an escalation stays done and the next run
tells the same people. People already reached before the failure may get the DM twice; all DM
channels are opened first, so an unknown user fails before anything is posted. (A bot killed
between the commit and the DMs loses that one action, audited as done.) After an escalation the
approval post is redrawn before the DMs, which point to its buttons.
"""
from __future__ import annotations

import functools
import logging
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy
from settings import Settings
from workflow import reminders as follow_up

from .background import every
from .formats import level_name, request_total
from .language import Languages
from .mrkdwn import escape, truncate
from .texts import Raw, mentions, plain, t

log = logging.getLogger(__name__)

TITLE_CHARS = 100
ERROR_CHARS = 300  # of Slack's error, in the reminder.failed audit row
INTERVAL_ENV = "MICROBUY_REMINDER_INTERVAL_S"


class SlackFailed(Exception):
    """A DM could not be sent; the action's claim was released (retried next run) unless `retried`
    is False."""

    def __init__(self, message: str, retried: bool = True):
        super().__init__(message)
        self.retried = retried


class Reminders:
    def __init__(self, sessions: sessionmaker, policy: Union[LoadedPolicy, Callable[[], LoadedPolicy]],
                 client: WebClient, refresh_post: Optional[Callable[[WebClient, int], Any]] = None,
                 languages: Optional[Languages] = None):
        self.sessions = sessions
        # Redraws a request's approval post (Approvals.refresh_post): after an escalation it names
        # the people who may now decide.
        self.refresh_post = refresh_post
        # The policy in force (app.PolicyInForce) or a fixed one.
        self.policy: Callable[[], LoadedPolicy] = policy if callable(policy) else (lambda: policy)
        self.client = client
        # Each DM in its recipient's language.
        self.languages = languages or Languages(sessions, self.policy)

    def _language(self, person: str, policy: LoadedPolicy) -> str:
        # Asked after the action's claim committed; read only (record=False): a run writes nothing
        # but its claims and audit rows.
        return self.languages.of(person, self.client, record=False, policy=policy)

    # -- one pass ---------------------------------------------------------------------------------

    def run_once(self, now: datetime) -> List[str]:
        """Send what is due at `now` (UTC if naive); one line per thing done or failed."""
        now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        policy = self.policy()
        done: List[str] = []
        for due in follow_up.due(self.sessions, policy, now):
            try:
                done.append(self._act(due, policy))
            except SlackFailed as exc:
                line = (f"failed: {due.what} MB-{due.request_id:06d} (revision {due.revision}, step {due.step}): {exc}"
                        + ("; retried next run" if exc.retried else ""))
                log.error("%s", line)
                done.append(line)
            except storage.StaleDecision:
                continue  # decided or edited while this run was acting: the next run sees the new state
            except SQLAlchemyError:
                log.exception("%s of request %s not done; retried next run", due.what, due.request_id)
                done.append(f"failed: {due.what} MB-{due.request_id:06d}: database error; retried next run")
        return [line for line in done if line]

    def _refresh(self, request_id: int) -> None:
        assert self.refresh_post is not None  # called only when there is one
        try:
            self.refresh_post(self.client, request_id)
        except Exception:  # the escalation is done and audited; only the post's redraw is missed
            log.exception("could not redraw the approval post of request %s", request_id)

    def _act(self, due: follow_up.Due, policy: LoadedPolicy) -> str:
        """Claim and audit one action (workflow.follow_up.claim), then send its DMs after commit.
        SlackFailed after the claim was released and the failure audited."""
        claimed = follow_up.claim(self.sessions, due, policy)
        if claimed is None:
            return ""
        if claimed.escalated and self.refresh_post:
            self._refresh(due.request_id)  # before the DMs: they point to the post's buttons
        try:
            self._send(_texts(claimed, policy), policy)
        except SlackFailed as exc:
            try:
                follow_up.release(self.sessions, claimed, str(exc), ERROR_CHARS)
            except SQLAlchemyError:
                log.exception("%s of request %s failed and its claim could not be released", due.what,
                              due.request_id)
                raise SlackFailed(f"{exc}; the claim could not be released (database error)", retried=False) from exc
            raise
        return claimed.line

    def _send(self, texts: Mapping[str, Callable[[str], str]], policy: LoadedPolicy) -> None:
        """DM each person in their language; every DM channel is opened before anything is posted."""
        try:
            messages = {person: text(self._language(person, policy)) for person, text in texts.items()}
            channels = {person: self.client.conversations_open(users=person)["channel"]["id"]
                        for person in messages}
            for person, text in messages.items():
                self.client.chat_postMessage(channel=channels[person], text=text,
                                             unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            raise SlackFailed(str(exc.response.get("error") or exc)) from exc
        except Exception as exc:  # the connection to Slack failing
            raise SlackFailed(repr(exc)) from exc


def _texts(claimed: follow_up.Claimed, policy: LoadedPolicy) -> Dict[str, Callable[[str], str]]:
    """Each person's message as a function of the language they read."""
    about = _About(claimed, policy)
    wording: Dict[str, Callable[[str], str]] = {
        follow_up.REMINDER: about.reminder, follow_up.NOBODY_HIGHER: about.nobody_higher}
    if claimed.level is not None:
        wording[follow_up.ESCALATION] = functools.partial(about.escalation, claimed.level)
        wording[follow_up.ESCALATED] = functools.partial(about.escalated, claimed.level, claimed.people)
    return {person: wording[what] for person, what in claimed.tell.items()}


class _About:
    """The words about one waiting request, in each reader's language: every value a requester
    typed is escaped (bot.texts.t)."""

    def __init__(self, claimed: follow_up.Claimed, policy: LoadedPolicy):
        req, step, due = claimed.request, claimed.step, claimed.due
        self.req, self.step, self.due, self.policy = req, step, due, policy
        rules = policy.rules
        title = req.title or req.description or req.supplier
        self.title = truncate(" ".join(str(title).split()), TITLE_CHARS) if title else None
        centre = rules.approval.cost_centres.get(req.cost_centre)
        self.channel_id = centre.channel if centre is not None else ""
        self.hours = due.waited_hours

    def level_name(self, level_id: Optional[str], language: str) -> str:
        fallback = self.step.get("name") if level_id == self.step.get("level") else None
        return level_name(self.policy, level_id, language, fallback)

    def channel(self, language: str) -> Raw:
        channel = self.channel_id
        if channel.startswith("#"):
            return Raw(escape(channel))
        return Raw(f"<#{channel}>") if channel else t("reminders.the_channel", language)

    def waiting_for(self, language: str) -> Raw:
        return mentions(self.step.get("approvers") or [], language) or t("reminders.the_approver", language)

    def what(self, language: str) -> Raw:
        title = self.title if self.title else plain("reminders.no_title", language)
        return t("reminders.what", language, reference=self.req.reference, title=title,
                 total=request_total(self.policy, self.req, language))

    def reminder(self, language: str) -> str:
        return t("reminders.reminder", language, what=self.what(language), hours=self.hours,
                 channel=self.channel(language), level=self.level_name(self.step.get("level"), language),
                 number=self.due.step + 1, count=len(self.req.route))

    def escalation(self, level: str, language: str) -> str:
        return t("reminders.escalation", language, what=self.what(language), hours=self.hours,
                 waiting_for=self.waiting_for(language), level=self.level_name(self.step.get("level"), language),
                 channel=self.channel(language), to_level=self.level_name(level, language))

    def escalated(self, level: str, people: Sequence[str], language: str) -> str:
        return t("reminders.escalated", language, what=self.what(language), hours=self.hours,
                 waiting_for=self.waiting_for(language), people=mentions(people, language),
                 level=self.level_name(level, language))

    def nobody_higher(self, language: str) -> str:
        return t("reminders.nobody_higher", language, what=self.what(language), hours=self.hours,
                 waiting_for=self.waiting_for(language))



# -- running in the background ----------------------------------------------------------------------

def interval_from_env(env: Optional[Mapping[str, str]] = None) -> float:
    """MICROBUY_REMINDER_INTERVAL_S: seconds between runs (default 300); 0 turns reminders off.
    A wrong value is a SettingsError, a ValueError naming the variable."""
    return Settings.read(INTERVAL_ENV, env)


def start_reminder_thread(reminders: Reminders, interval_s: float,
                          stop: Optional[threading.Event] = None) -> threading.Thread:
    """A daemon thread running `reminders.run_once` now and then every `interval_s` seconds until
    `stop` is set; an exception is logged and the next run goes ahead."""

    def run() -> None:
        for line in reminders.run_once(now=datetime.now(timezone.utc)):
            log.info("reminders: %s", line)

    return every(interval_s, run, name="microbuy-reminders", first_now=True, stop=stop)
