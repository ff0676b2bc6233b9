"""The purchase request lifecycle: the one place that says which status
changes are allowed. Every status change in storage goes through
check_transition()."""

from enum import Enum
from typing import FrozenSet, Mapping, Union

from .errors import InvalidTransition


class Status(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    CANCELLED = "cancelled"
    PURCHASED = "purchased"
    RECEIVED = "received"
    CERTIFIED = "certified"

    def __str__(self) -> str:  # so f-strings show "approved", not "Status.APPROVED"
        return self.value


S = Status

TRANSITIONS: Mapping[Status, FrozenSet[Status]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    # submitted -> submitted: an approval step passed and the next level is asked.
    S.SUBMITTED: frozenset(
        {S.SUBMITTED, S.APPROVED, S.REJECTED, S.CHANGES_REQUESTED, S.CANCELLED}
    ),
    S.CHANGES_REQUESTED: frozenset({S.SUBMITTED, S.CANCELLED}),
    # approved -> submitted: the amount rose after approval, so it goes back
    # for approval (section 32 approves a maximum amount).
    S.APPROVED: frozenset({S.PURCHASED, S.CANCELLED, S.SUBMITTED}),
    S.PURCHASED: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.CERTIFIED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.CERTIFIED: frozenset(),
}

FINAL_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)

# Statuses submit_request() accepts. submitted -> submitted is only for moving
# to the next approval step, and approved -> submitted only for an edit that
# raises the amount (update_request), never a bare "submit again".
SUBMITTABLE_STATUSES = frozenset({S.DRAFT, S.CHANGES_REQUESTED})

# Statuses in which the requester may still change the answers. A draft stays
# a draft; the others go (back) through approval, see update_request().
EDITABLE_STATUSES = frozenset({S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED})


def as_status(value: Union[str, Status]) -> Status:
    """Coerce a string to a Status, refusing unknown values."""
    try:
        return Status(value)
    except ValueError:
        raise InvalidTransition(f"unknown request status {value!r}") from None


def check_transition(current: Union[str, Status], new: Union[str, Status]) -> Status:
    """Return the new status, or raise InvalidTransition if it is not allowed."""
    cur, nxt = as_status(current), as_status(new)
    if nxt not in TRANSITIONS[cur]:
        if not TRANSITIONS[cur]:
            raise InvalidTransition(f"the request is {cur}, which is final; it cannot become {nxt}")
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[cur]))
        raise InvalidTransition(
            f"a request that is {cur} cannot become {nxt} (allowed: {allowed})"
        )
    return nxt
