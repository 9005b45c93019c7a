"""The request lifecycle as one table of allowed transitions.

Statuses and their labels follow the product documents (``shared/seeds``): Pending,
Approved, Active, Expired, Revoked, Rejected. A pending request whose approval window
passes is ``TIMED_OUT`` internally and shown as "Expired", as the quick start says
("Requests expire"). The same table decides which buttons a message shows: a button is
offered only if its event is allowed from the current status.
"""

from __future__ import annotations

from enum import StrEnum

from workflows.errors import WorkflowError


class Status(StrEnum):
    """Where a request is in its lifecycle (stored as the value)."""

    PENDING = "pending"
    PENDING_OWNER = "pending_owner"  # custom sets: waiting for an account owner
    PENDING_ADMIN = "pending_admin"  # custom sets: owner approved, waiting for an SSO admin
    APPROVED = "approved"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Event(StrEnum):
    """What can happen to a request. ``SUBMIT`` (a standard request) and
    ``SUBMIT_CUSTOM`` (a custom permission set) lead from no status yet (``None``) to the
    first one."""

    SUBMIT = "submit"
    SUBMIT_CUSTOM = "submit_custom"
    APPROVE = "approve"
    REJECT = "reject"
    TIME_OUT = "time_out"
    CANCEL = "cancel"
    GRANTED = "granted"
    GRANT_FAILED = "grant_failed"
    EXPIRE = "expire"
    REVOKE = "revoke"
    EXTEND = "extend"  # an Active session's end moves later (workflows.extensions)


LABELS: dict[Status, str] = {
    Status.PENDING: "Pending",
    Status.PENDING_OWNER: "Pending Owner",
    Status.PENDING_ADMIN: "Pending Admin",
    Status.APPROVED: "Approved",
    Status.ACTIVE: "Active",
    Status.EXPIRED: "Expired",
    Status.REVOKED: "Revoked",
    Status.REJECTED: "Rejected",
    Status.TIMED_OUT: "Expired",
    Status.CANCELLED: "Cancelled",
    Status.FAILED: "Failed",
}

EMOJI: dict[Status, str] = {
    Status.PENDING: ":hourglass_flowing_sand:",
    Status.PENDING_OWNER: ":hourglass_flowing_sand:",
    Status.PENDING_ADMIN: ":hourglass_flowing_sand:",
    Status.APPROVED: ":white_check_mark:",
    Status.ACTIVE: ":large_green_circle:",
    Status.EXPIRED: ":black_circle:",
    Status.REVOKED: ":no_entry:",
    Status.REJECTED: ":x:",
    Status.TIMED_OUT: ":black_circle:",
    Status.CANCELLED: ":heavy_minus_sign:",
    Status.FAILED: ":warning:",
}

VERBS: dict[Event, str] = {
    Event.SUBMIT: "submit",
    Event.SUBMIT_CUSTOM: "submit as a custom request",
    Event.APPROVE: "approve",
    Event.REJECT: "reject",
    Event.TIME_OUT: "time out",
    Event.CANCEL: "cancel",
    Event.GRANTED: "grant",
    Event.GRANT_FAILED: "fail the grant of",
    Event.EXPIRE: "expire",
    Event.REVOKE: "revoke",
    Event.EXTEND: "extend",
}

#: ``(status, event) -> status``; a ``None`` status is a request not stored yet.
TRANSITIONS: dict[tuple[Status | None, Event], Status] = {
    (None, Event.SUBMIT): Status.PENDING,
    (None, Event.SUBMIT_CUSTOM): Status.PENDING_OWNER,
    (Status.PENDING, Event.APPROVE): Status.APPROVED,
    (Status.PENDING, Event.REJECT): Status.REJECTED,
    (Status.PENDING, Event.TIME_OUT): Status.TIMED_OUT,
    (Status.PENDING, Event.CANCEL): Status.CANCELLED,
    (Status.PENDING_OWNER, Event.APPROVE): Status.PENDING_ADMIN,
    (Status.PENDING_OWNER, Event.REJECT): Status.REJECTED,
    (Status.PENDING_OWNER, Event.TIME_OUT): Status.TIMED_OUT,
    (Status.PENDING_OWNER, Event.CANCEL): Status.CANCELLED,
    (Status.PENDING_ADMIN, Event.APPROVE): Status.APPROVED,
    (Status.PENDING_ADMIN, Event.REJECT): Status.REJECTED,
    (Status.PENDING_ADMIN, Event.TIME_OUT): Status.TIMED_OUT,
    (Status.PENDING_ADMIN, Event.CANCEL): Status.CANCELLED,
    (Status.APPROVED, Event.GRANTED): Status.ACTIVE,
    (Status.APPROVED, Event.GRANT_FAILED): Status.FAILED,
    (Status.ACTIVE, Event.EXPIRE): Status.EXPIRED,
    (Status.ACTIVE, Event.REVOKE): Status.REVOKED,
    (Status.ACTIVE, Event.EXTEND): Status.ACTIVE,
}

FINAL: frozenset[Status] = frozenset(
    s for s in Status if not any(src == s for src, _ in TRANSITIONS)
)


#: How a request with no status yet reads in a refusal.
UNSUBMITTED = "not submitted yet"


class TransitionNotAllowed(WorkflowError):
    """Raised when an event is not allowed in a request's current status; ``str()`` is
    the sentence a person reads (``Can't approve a request that is Expired``)."""

    def __init__(self, status: Status | None, event: Event) -> None:
        label = LABELS[status] if status is not None else UNSUBMITTED
        super().__init__(f"Can't {VERBS[event]} a request that is {label}")
        self.status = status
        self.event = event


PENDING_STATUSES: frozenset[Status] = frozenset(
    {Status.PENDING, Status.PENDING_OWNER, Status.PENDING_ADMIN}
)


def next_status(status: Status | None, event: Event) -> Status:
    """Return the status ``event`` leads to from ``status`` (None: not stored yet).

    Raises:
        TransitionNotAllowed: the pair is not in :data:`TRANSITIONS`.
    """
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionNotAllowed(status, event) from None


def allowed_events(status: Status | None) -> list[Event]:
    """Events allowed from ``status``, in table order (decides which buttons show)."""
    return [event for (src, event) in TRANSITIONS if src == status]
