"""The purchase workflow: what may happen to a request, who may do it, and what follows.

Free of Slack and Rasa. Each state change is one function that checks who is asking, records
the change through `storage` and returns what happened; `bot/` renders it for Slack, the
dialogue actions for Rasa, the command line for a terminal. Uses `policies` and `storage`;
nothing here imports `bot`, `dialogues` or `microbuy`.
"""
from .clock import today, zone
from .decisions import decide
from .judging import BlockedRequest, judge, record, spending_for
from .revision import Revised, approved_by, revise
from .submission import Submitted, submit

__all__ = ["BlockedRequest", "Revised", "Submitted", "approved_by", "decide", "judge", "record", "revise",
           "spending_for", "submit", "today", "zone"]
