"""Helpers for the custom-action tests: saved trackers, the domain, running an action, reading
what it did.

Each file in trackers/ is the tracker Rasa 3.6 sent to the action server just before one action
ran, captured from a real conversation (its "_about" says which message and how it was made)
and trimmed to what rasa_sdk.Tracker.from_dict reads. The actions read the database from
DATABASE_URL and today's date from MICROBUY_TODAY; `point_actions_at` sets both.
"""
from __future__ import annotations

import asyncio
import copy
import json
import string
from datetime import date, datetime, time, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

import storage
from dialogues import services

TRACKERS = Path(__file__).with_name("trackers")
DOMAIN_FILE = Path(__file__).resolve().parents[2] / "dialogues" / "project" / "domain.yml"
# The day the trackers were captured: their dates (needed-by, spending windows) are judged on it.
CAPTURED_ON = "2026-11-25"


# -- inputs ---------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _tracker_state(name: str) -> Dict[str, Any]:
    return json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8"))


def tracker_state(name: str) -> Dict[str, Any]:
    """A saved tracker as a fresh dict (tests may change it)."""
    return copy.deepcopy(_tracker_state(name))


def load_tracker(name: str, **slots: Any) -> Tracker:
    """A saved tracker, with some slots replaced if given.

    Only answers already held may be replaced: a value the form is about to validate lives in
    the trailing slot events too (Tracker.slots_to_validate), so changing the slot alone would
    test a state Rasa never sends.
    """
    state = tracker_state(name)
    candidates = Tracker.from_dict(tracker_state(name)).slots_to_validate()
    for slot, value in slots.items():
        assert slot in state["slots"], f"{name} has no slot {slot}"
        assert slot not in candidates, f"{slot} is being validated in {name}; save another tracker"
        state["slots"][slot] = value
    return Tracker.from_dict(state)


def next_action(name: str) -> str:
    """The action Rasa was about to run when the tracker was saved."""
    return _tracker_state(name)["_next_action"]


@lru_cache(maxsize=1)
def _domain() -> Dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(DOMAIN_FILE)).as_dict()


def domain() -> Dict[str, Any]:
    """The domain as Rasa sends it to the action server (Domain.as_dict())."""
    return copy.deepcopy(_domain())


def point_actions_at(monkeypatch, database_url: str, today: str = CAPTURED_ON) -> None:
    """Make the actions use `database_url` and judge on `today`, with the policy in the repo."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MICROBUY_TODAY", today)
    monkeypatch.delenv("MICROBUY_POLICY", raising=False)
    services._session_factory.cache_clear()


def release_action_engines() -> None:
    """Close the connections the actions opened on DATABASE_URL and forget the engine."""
    if services._session_factory.cache_info().currsize:
        services.sessions().kw["bind"].dispose()
    services._session_factory.cache_clear()


# -- running --------------------------------------------------------------------------------------

def run(action: Action, tracker: Tracker, the_domain: Optional[Dict[str, Any]] = None
        ) -> Tuple[List[Dict[str, Any]], CollectingDispatcher]:
    """Run one action as the action server would; its events and what it said."""
    dispatcher = CollectingDispatcher()
    the_domain = the_domain if the_domain is not None else domain()
    events = asyncio.run(action.run(dispatcher, tracker, the_domain))
    assert_known_responses(dispatcher, the_domain)
    return events, dispatcher


# -- reading what an action did -----------------------------------------------------------------

def slot_sets(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """slot -> value of every SlotSet, the last one winning."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def slot_set_names(events: List[Dict[str, Any]]) -> List[str]:
    return [e["name"] for e in events if e.get("event") == "slot"]


def followups(events: List[Dict[str, Any]]) -> List[str]:
    return [e["name"] for e in events if e.get("event") == "followup"]


def loop_changes(events: List[Dict[str, Any]]) -> List[Optional[str]]:
    """The ActiveLoop events' loop names (None: the form is closed)."""
    return [e["name"] for e in events if e.get("event") == "active_loop"]


def responses(dispatcher: CollectingDispatcher) -> List[Optional[str]]:
    """The response keys the action used, in order (None for a custom or text message)."""
    return [m.get("response") for m in dispatcher.messages]


def message(dispatcher: CollectingDispatcher, response: str) -> Dict[str, Any]:
    """The one message sent with `response`."""
    found = [m for m in dispatcher.messages if m.get("response") == response]
    assert len(found) == 1, f"expected one {response}, got {responses(dispatcher)}"
    return found[0]


def custom_payloads(dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


def render(dispatcher_message: Dict[str, Any], the_domain: Optional[Dict[str, Any]] = None,
           language: Optional[str] = None) -> str:
    """The text the requester reads: the domain's response filled with the message's values, in
    the variation for `language` (the language slot's condition), else the unconditional one."""
    the_domain = the_domain if the_domain is not None else _domain()
    variations = the_domain["responses"][dispatcher_message["response"]]
    chosen = [v for v in variations if language and any(c.get("name") == "language" and c.get("value") == language
                                                         for c in v.get("condition") or [])]
    template = (chosen or [v for v in variations if not v.get("condition")])[0]["text"]
    return template.format(**{k: v for k, v in dispatcher_message.items() if k in _placeholders(template)})


def _placeholders(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def assert_known_responses(dispatcher: CollectingDispatcher, the_domain: Dict[str, Any]) -> None:
    """Every response an action names is in the domain, with a value for each {placeholder}."""
    for sent in dispatcher.messages:
        name = sent.get("response")
        if name is None:
            continue
        assert name in the_domain["responses"], f"{name} is not a response of domain.yml"
        for variant in the_domain["responses"][name]:
            missing = _placeholders(variant.get("text") or "") - set(sent)
            assert not missing, f"{name} is sent without {sorted(missing)}"


# -- the database ---------------------------------------------------------------------------------

def stored_requests(url: str, requester: Optional[str] = None) -> list:
    """Every request in the database at `url`, newest first (read on a fresh connection)."""
    engine = storage.make_engine(url)
    try:
        with storage.make_session_factory(engine)() as session:
            return storage.list_requests(session, requester=requester, limit=1000)
    finally:
        engine.dispose()


def seed_purchase(url: str, *, supplier: str, cost_centre: str, total: str, on: str = "2026-11-20",
                  description: str = "earlier purchase", category: str = "office_supplies",
                  requester: str = "U05ELENA") -> str:
    """A submitted request already on record, dated `on` (noon UTC); returns its reference.

    Stored through storage.create_request (not the action under test), then back-dated so the
    spending windows the policy reads are the same whatever day the tests run.
    """
    card = {"100200": "ESDC-CARD-DS-01", "100300": "ESDC-CARD-BDM-01"}.get(cost_centre)
    when = datetime.combine(date.fromisoformat(on), time(12), tzinfo=timezone.utc)
    amount = Decimal(total)
    engine = storage.make_engine(url)
    try:
        with storage.make_session_factory(engine).begin() as session:
            req = storage.create_request(
                session, requester=requester, cost_centre=cost_centre, category=category,
                supplier=supplier, description=description, subtotal=amount, tax=Decimal("0"),
                total=amount, answers={"supplier": supplier}, evaluation={"findings": []},
                route=[{"level": "manager", "name": "Manager", "approvers": ["U01AMINA"], "delegates": []}],
                policy_version="seeded-by-test", card_id=card,
            )
            req.created_at = req.submitted_at = req.updated_at = when
            return req.reference
    finally:
        engine.dispose()
