"""Exceptions raised by the storage layer.

Callers (bot, CLI) catch these to tell the user what happened; every one is
raised before anything is written, or with the function's savepoint rolled
back, so catching one never leaves a half-applied change behind.
"""


class StorageError(Exception):
    """Base class for every error the storage layer raises on purpose."""


class NotFound(StorageError, LookupError):
    """The requested row does not exist."""


class InvalidTransition(StorageError):
    """The request's status does not allow this change."""


class StaleDecision(StorageError):
    """A decision was made on an out-of-date view of the request.

    Raised when someone else already decided this step, the request was
    edited since the button was rendered, or it is no longer awaiting approval.
    """


class NotAuthorized(StorageError):
    """The actor may not do this to this request."""


class SelfApproval(NotAuthorized):
    """A requester tried to approve or certify their own purchase."""


class SecondDecision(NotAuthorized):
    """Someone who already decided one step of a revision tried to decide another: two steps
    are two people, whatever delegation or escalation allows."""


class AmountExceedsApproval(StorageError):
    """The amount paid is more than the section 32 approval allows."""


class StaleRevision(StorageError):
    """An edit was based on a revision that is no longer current."""


class PolicyVersionConflict(StorageError):
    """The same policy version string was recorded with different content."""
