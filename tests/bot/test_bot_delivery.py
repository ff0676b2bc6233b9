"""bot/delivery.py without processes: the buttons after approval, driven with a recording Slack
client on a real database, for the refusals that only the workflow can see (a button of an
earlier revision, a purchase dated after today)."""
from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any, Dict, List

import pytest

import policies
import storage
import workflow
from bot.delivery import AfterApproval, after_value
from bot.language import Languages

ESDC = policies.load_policy(policies.DEFAULT_POLICY)
ON = date(2026, 11, 25)
NADIA, AMINA = "U09NADIA", "U01AMINA"
PENS = {"requester": NADIA, "cost_centre": "100200", "category": "office_supplies", "description": "box of pens",
        "supplier": "Staples", "quantity": 1, "unit_price": "89.99", "province": "ON", "needed_by": "2027-01-20",
        "data_classification": "unclassified", "payment_method": "acquisition_card",
        "justification": "for the team's planning"}


class RecordingSlack:
    """The Web API methods bot/delivery.py calls, answered as Slack answers them, each call kept."""

    def __init__(self):
        self.calls: List[Dict[str, Any]] = []

    def _record(self, method: str, **kwargs) -> Dict[str, Any]:
        self.calls.append({"method": method, **kwargs})
        return {"ok": True}

    def users_info(self, user: str, include_locale: bool = False) -> Dict[str, Any]:
        self._record("users.info", user=user, include_locale=include_locale)
        return {"ok": True, "user": {"id": user, "locale": "en-US"}}

    def conversations_open(self, users: str) -> Dict[str, Any]:
        self._record("conversations.open", users=users)
        return {"ok": True, "channel": {"id": f"D{users}"}}

    def chat_postMessage(self, **kwargs) -> Dict[str, Any]:
        return self._record("chat.postMessage", **kwargs)

    def chat_postEphemeral(self, **kwargs) -> Dict[str, Any]:
        return self._record("chat.postEphemeral", **kwargs)

    def chat_update(self, **kwargs) -> Dict[str, Any]:
        return self._record("chat.update", **kwargs)

    def texts(self, method: str) -> List[str]:
        return [call["text"] for call in self.calls if call["method"] == method]


@pytest.fixture
def after(session_factory) -> AfterApproval:
    return AfterApproval(session_factory, lambda: ESDC, today=lambda: ON,
                         languages=Languages(session_factory, lambda: ESDC))


def _approved_and_lowered(sessions) -> int:
    """Approved at revision 1, then a lower price (revision 2, still approved)."""
    with sessions.begin() as session:
        request, evaluation = workflow.judge(session, ESDC, PENS, ON)
        request_id = workflow.record(session, ESDC, request, evaluation).id
    workflow.decide(sessions, ESDC, request_id, revision=1, step=0, approver=AMINA, outcome="approved",
                    on=ON)
    with sessions.begin() as session:
        request, evaluation = workflow.judge(session, ESDC, dict(PENS, unit_price="79.99"), ON,
                                             exclude_request_id=request_id)
        assert workflow.revise(session, ESDC, request_id, 1, request, evaluation).kept_approval
    return request_id


def _modal(request_id: int, revision: int, amount: str, day: date) -> dict:
    return {"private_metadata": json.dumps({"r": request_id, "v": revision, "c": "DU09NADIA", "t": "1.0"}),
            "state": {"values": {"amount": {"amount": {"value": amount}},
                                 "date": {"date": {"selected_date": day.isoformat()}}}}}


def test_a_form_of_an_earlier_revision_records_nothing(after, session_factory):
    request_id = _approved_and_lowered(session_factory)
    slack, acks = RecordingSlack(), []
    after.purchase_reported(lambda **kw: acks.append(kw), slack, user=NADIA, view=_modal(request_id, 1, "85.00", ON))
    assert acks == [{}]
    [told] = slack.texts("chat.postEphemeral")  # the form came from the DM: only Nadia sees it there
    assert "was changed since this form was opened (revision 1, now 2)" in told
    with session_factory() as session:
        assert storage.get_request(session, request_id).status == "approved"


def test_a_receipt_button_of_an_earlier_revision_is_refused(after, session_factory):
    request_id = _approved_and_lowered(session_factory)
    slack, acks = RecordingSlack(), []
    after.purchase_reported(lambda **kw: acks.append(kw), slack, user=NADIA, view=_modal(request_id, 2, "85.00", ON))
    assert acks == [{}]
    slack.calls.clear()
    after.report_receipt(slack, user=NADIA, value=after_value(request_id, 1), channel="C0OTHER", message_ts="2.0")
    [told] = slack.texts("chat.postMessage")
    assert "was changed since this button was sent (revision 1, now 2)" in told
    with session_factory() as session:
        assert storage.get_request(session, request_id).status == "purchased"
    after.report_receipt(slack, user=NADIA, value=after_value(request_id, 2), channel="C0OTHER", message_ts="3.0")
    with session_factory() as session:
        assert storage.get_request(session, request_id).status == "received"


def test_a_purchase_date_after_today_stays_in_the_form(after, session_factory):
    request_id = _approved_and_lowered(session_factory)
    slack, acks = RecordingSlack(), []
    after.purchase_reported(lambda **kw: acks.append(kw), slack, user=NADIA,
                            view=_modal(request_id, 2, "85.00", ON + timedelta(days=1)))
    assert [ack.get("response_action") for ack in acks] == ["errors"] and "date" in acks[0]["errors"]
    with session_factory() as session:
        assert storage.get_request(session, request_id).amount_paid is None
