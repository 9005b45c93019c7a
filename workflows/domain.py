"""Domain objects of the lifecycle: plain dataclasses, no I/O.

All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from workflows.notices import (
    MessageRole,
    Notice,
    NoticeKind,
    Outgoing,
    OutgoingKind,
    changed,
)
from workflows.states import LABELS, Status

__all__ = [
    "AccessRequest",
    "CustomPermissionSet",
    "Decision",
    "GrantedSession",
    "MessageRef",
    "MessageRole",
    "NewRequest",
    "Notice",
    "NoticeKind",
    "Outgoing",
    "OutgoingKind",
    "Person",
    "Review",
    "Stage",
    "changed",
]


class Stage(StrEnum):
    """Approval stage a review belongs to. Standard requests have a single stage."""

    SINGLE = "single"
    OWNER = "owner"  # custom sets, first stage
    ADMIN = "admin"  # custom sets, second stage


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class CustomPermissionSet:
    """A permission set built for one request (custom requests only).

    ``name`` includes the ``JIT-`` prefix; ``session_duration`` is how long one AWS
    console/CLI session made with it lasts (1 to 12 hours); ``managed_policies`` are AWS
    managed policy names; ``warnings`` are ``(severity, sentence)`` pairs computed once
    at submit for the approvers. ``boundary`` is the permissions boundary the approvers
    were shown at submit, as ``PermissionsBoundary.as_record`` gives it
    (``(("aws_managed", "PowerUserAccess"),)``; ``()`` for none), and the one granted;
    None for a request submitted before jitbot recorded it.
    """

    name: str
    session_duration: timedelta
    managed_policies: tuple[str, ...] = ()
    inline_policy: str | None = None
    warnings: tuple[tuple[str, str], ...] = ()
    boundary: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class Person:
    """Someone in the Slack workspace: Slack user id, lower-cased email, display name.

    The id is who they are (every authority rule compares it); the email is what Slack
    says now, for display, the audit trail and the Identity Center look-up."""

    slack_id: str
    email: str
    name: str


@dataclass(frozen=True)
class Review:
    """One decision on one stage of a request; ``principal_id`` is the reviewer's
    Identity Center user id when known (distinct approvals are distinct people by Slack
    user id and by principal)."""

    stage: Stage
    decision: Decision
    reviewer: Person
    decided_at: datetime
    comment: str | None = None
    principal_id: str | None = None


@dataclass(frozen=True)
class GrantedSession:
    """The access a request gave: from ``granted_at`` to ``expires_at`` (UTC)."""

    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None


@dataclass(frozen=True)
class MessageRef:
    """A Slack message that is the root of one of the request's threads."""

    channel: str
    ts: str
    role: MessageRole
    slack_user_id: str


@dataclass(frozen=True)
class NewRequest:
    """What submit stores: everything about a request before it has an id."""

    requester: Person
    principal_id: str
    account_id: str
    account_name: str
    permission_set_name: str
    permission_set_arn: str
    duration: timedelta
    justification: str
    requested_at: datetime
    approval_deadline: datetime
    approvers: tuple[str, ...]
    custom: CustomPermissionSet | None = None
    status: Status = Status.PENDING
    session_limit: timedelta | None = None  # the permission set's SessionDuration
    # the access rule it falls under (None: the account's default rule), the distinct
    # approvals it needs, and the ticket given (workflows.access_rules)
    rule_name: str | None = None
    approvals_needed: int = 1
    ticket: str | None = None


@dataclass(frozen=True)
class AccessRequest:
    """A stored request with its reviews, session and Slack message roots.

    ``approvers`` are the Slack user ids the request was sent to at submit time (the
    emails, for requests stored before people were bound; kept for the record:
    authority is re-checked against the config on every click).
    """

    id: int
    requester: Person
    principal_id: str
    account_id: str
    account_name: str
    permission_set_name: str
    permission_set_arn: str
    duration: timedelta
    justification: str
    status: Status
    requested_at: datetime
    approval_deadline: datetime
    approvers: tuple[str, ...] = ()
    reviews: tuple[Review, ...] = ()
    session: GrantedSession | None = None
    messages: tuple[MessageRef, ...] = field(default=(), compare=False)
    custom: CustomPermissionSet | None = None
    stored_session_limit: timedelta | None = None
    #: an Approved request whose ``CreateAccountAssignment`` AWS had not finished in
    #: time: its AWS request id, and since when (aware UTC) the sweep follows it
    grant_operation: str | None = None
    grant_pending_since: datetime | None = None
    #: the access rule it falls under (None: the account's default), the distinct
    #: approvals its stage needs, and the ticket the requester gave
    rule_name: str | None = None
    approvals_needed: int = 1
    ticket: str | None = None
    #: approvals counted so far that did not decide it (the store's compare-and-set
    #: counter; the final approval is a status change instead)
    approvals_given: int = 0

    def approvals_at(self, stage: Stage) -> tuple[Review, ...]:
        """The approving reviews of ``stage``, in the order given."""
        return tuple(
            r for r in self.reviews if r.stage == stage and r.decision == Decision.APPROVED
        )

    @property
    def session_limit(self) -> timedelta | None:
        """How long one AWS console/CLI sign-in lasts at most: the permission set's
        session duration (troubleshooting doc, "Session Expired Unexpectedly")."""
        if self.custom is not None:
            return self.custom.session_duration
        return self.stored_session_limit

    @property
    def status_label(self) -> str:
        """The docs' label; a rejected custom request says which stage rejected it."""
        if self.status == Status.REJECTED and self.custom is not None and self.decision:
            return "Owner Rejected" if self.decision.stage == Stage.OWNER else "Admin Rejected"
        return LABELS[self.status]

    @property
    def kind(self) -> str:
        """``standard`` or ``custom``."""
        return "custom" if self.custom is not None else "standard"

    def review_of(self, stage: Stage) -> Review | None:
        return next((r for r in self.reviews if r.stage == stage), None)

    @property
    def decision(self) -> Review | None:
        """The latest review, if any."""
        return self.reviews[-1] if self.reviews else None

    @property
    def account_label(self) -> str:
        """``Name (id)``, as accounts are shown everywhere."""
        return f"{self.account_name} ({self.account_id})"
