"""Helpers for the fault tests: the whole product (stand-in Slack, real Rasa and action server,
the bot over signed HTTP) on a database the test chooses, and reading what was stored."""
from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import storage
from bot.app import build_app
from bot.server import serve_in_background
from bot.settings import Settings
from policies import load_policy
from standin import Deliverer, StandIn, Workspace

from rasa_stack import RasaStack, train_model
from slack_kit import APPROVALS, SECRET, Slack


class Product(Slack):
    """`Slack` (tests/bot/slack_kit.py) plus the stand-in server and the Rasa stack behind the bot."""

    def __init__(self, workspace, deliver, app, database_url, standin: StandIn, stack):
        super().__init__(workspace, deliver, app, database_url)
        self.standin, self.stack = standin, stack


@contextlib.contextmanager
def running_product(url: str, model: Path, folder: Path) -> Iterator[Product]:
    """Everything the requester talks to, as tests/bot/conftest.py starts it, on `url`."""
    storage.upgrade(url)
    policy = load_policy()
    people = {uid: (p.name, p.language or "en") for uid, p in policy.rules.people.items()}
    workspace = Workspace.from_people(people, channels={APPROVALS: "microbuy-approvals"})
    stack = RasaStack(url, model, folder).start()
    engine = storage.make_engine(url)
    try:
        with StandIn(workspace) as standin:
            settings = Settings.from_env({
                "SLACK_BOT_TOKEN": workspace.bot_token, "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": standin.url, **stack.bot_env(),
            })
            app = build_app(settings, sessions=storage.make_session_factory(engine), policy=lambda: policy)
            server, events_url = serve_in_background(app)
            try:
                yield Product(workspace, Deliverer(events_url, SECRET, workspace), app, url, standin, stack)
            finally:
                server.shutdown()
                server.server_close()
    finally:
        stack.stop()
        engine.dispose()


@contextlib.contextmanager
def postgres_database(admin_engine) -> Iterator[str]:
    """A new PostgreSQL database (not migrated) for one module, dropped afterwards."""
    name = f"microbuy_faults_{uuid.uuid4().hex[:12]}"
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(str(admin_engine.url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_SHARED: dict = {}


def shared_product(config, admin_engine, model: Path, folder: Path) -> Product:
    """One product on a PostgreSQL database of its own for every folder that asks (tests/faults,
    tests/bad_input): started by the first, stopped when pytest ends (config cleanup; pytest may
    finish a folder's session fixtures as soon as the folder's tests are done)."""
    if "product" not in _SHARED:
        with contextlib.ExitStack() as stop:
            url = stop.enter_context(postgres_database(admin_engine))
            _SHARED["product"] = stop.enter_context(running_product(url, model, folder))
            config.add_cleanup(stop.pop_all().close)
    return _SHARED["product"]


def sql(url: str, *statements: str, **params) -> List[Tuple]:
    """Run statements as an administrator would, outside the app; the last one's rows, if any."""
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            result = None
            for statement in statements:
                result = connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result is not None and result.returns_rows else []
    finally:
        engine.dispose()


def requests_of(url: str, requester: str) -> List[Tuple]:
    """(id, reference, supplier, status) of each stored request of `requester`, read with SQL."""
    rows = sql(url, "SELECT id, supplier, status FROM purchase_requests WHERE requester = :who ORDER BY id",
               who=requester)
    return [(i, f"MB-{i:06d}", supplier, status) for i, supplier, status in rows]


def new_requester(product: Product) -> str:
    """A person of the workspace with a conversation of their own (the policy need not know them)."""
    user = f"U0F{uuid.uuid4().hex[:8].upper()}"
    product.workspace.add_user(user, user.lower(), real_name=f"Tester {user[-4:]}")
    return user


def user_turns(url: str, team: str, user: str) -> List[str]:
    """The texts Rasa took as this person's turns (its conversation store, `events`)."""
    import json

    rows = sql(url, "SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id",
               sender=f"{team}:{user}")
    return [json.loads(data).get("text") for (data,) in rows]


def audit_of(url: str, request_id=None) -> List[Tuple]:
    if request_id is None:
        return sql(url, "SELECT id, action, request_id FROM audit_log ORDER BY id")
    return sql(url, "SELECT id, action, request_id FROM audit_log WHERE request_id = :r ORDER BY id", r=request_id)


# The fixtures of tests/faults and tests/bad_input, which share one running product: each
# folder's conftest imports them.
@pytest.fixture(scope="session")
def dialogue_model():
    """The dialogue model, trained only when no model of the same data exists."""
    return train_model()


@pytest.fixture(scope="session")
def product(request, dialogue_model, postgres_admin_engine, tmp_path_factory):
    """The product on a PostgreSQL database of its own (conversations and requests), one for
    tests/faults and tests/bad_input: each test leaves it running and whole."""
    return shared_product(request.config, postgres_admin_engine, dialogue_model, tmp_path_factory.mktemp("product"))
