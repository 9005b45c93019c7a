"""Domain objects of the lifecycle: plain dataclasses, no I/O.

All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from workflows.states import LABELS, Status


class Stage(StrEnum):
    """Approval stage a review belongs to. Standard requests have a single stage."""

    SINGLE = "single"
    OWNER = "owner"  # custom sets, first stage
    ADMIN = "admin"  # custom sets, second stage


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class MessageRole(StrEnum):
    """Which kind of root message of a request's conversation a Slack message is (design
    §6): the requester's, an approver's, or an admin-stage approver's. Not a person's
    roles in the config (admin, SSO admin, owner): those are :class:`workflows.policy.Roles`."""

    REQUESTER = "requester"
    APPROVER = "approver"  # standard requests, and the owner stage of custom ones
    ADMIN_APPROVER = "admin_approver"  # the admin stage of custom requests


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
    """One decision on one stage of a request."""

    stage: Stage
    decision: Decision
    reviewer: Person
    decided_at: datetime
    comment: str | None = None


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


class NoticeKind(StrEnum):
    """Things the requester and approvers are told in the request's threads."""

    SENT_TO_ADMINS = "sent_to_admins"  # the account has no owner who may approve
    APPROVERS_UNREACHABLE = "approvers_unreachable"  # no approver could be DM'd
    OWNER_APPROVED = "owner_approved"  # custom: waiting for an SSO admin
    APPROVED = "approved"
    REJECTED = "rejected"
    GRANTED = "granted"
    GRANT_FAILED = "grant_failed"
    # AWS had not finished the assignment in time: still Approved, followed by the sweep
    GRANT_PENDING = "grant_pending"
    EXPIRED = "expired"
    REVOKED = "revoked"
    RELEASED = "released"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    REVOKE_FAILED = "revoke_failed"
    # the assignment was removed outside jitbot before the session's end (reconciler)
    ASSIGNMENT_VANISHED = "assignment_vanished"


@dataclass(frozen=True)
class Notice:
    """One thing to tell; ``detail`` carries a reason (AWS's FailureReason, say)."""

    kind: NoticeKind
    detail: str | None = None
    by: str | None = None  # the person who caused it, when not the reviewer
    # an ending whose account assignment stays for another active grant of the same
    # person, permission set and account (so the access itself did not end)
    kept: bool = False
    # what became of the AWS sign-ins already open at an ending
    # (workflows.services.live_sessions.LiveOutcome): "" not tried, "ended", "role_gone",
    # "failed"
    live: str = ""


class OutgoingKind(StrEnum):
    """What an outbox entry asks the notifier to do (see :mod:`workflows.outbox`)."""

    THREAD = "thread"  # DM the requester the request: the root of their thread
    APPROVAL = "approval"  # DM one approver the request with its buttons
    REFRESH = "refresh"  # re-render every root from the request's current state
    ANNOUNCE = "announce"  # reply in each thread of the request
    ALERT = "alert"  # DM every admin a text


@dataclass(frozen=True)
class Outgoing:
    """One Slack notice, written to the outbox in the transaction of the state change
    it tells about, and delivered afterwards by :mod:`workflows.outbox`.

    ``payload`` is plain JSON data: ``user`` (a Slack user id; ``email`` in entries
    written before people were bound)/``role``/``last`` for APPROVAL, ``kind``/
    ``detail``/``by`` (a :class:`Notice`) for ANNOUNCE, ``text`` (and ``confirm``, an
    entry to confirm the rebinding of) for ALERT.
    """

    kind: OutgoingKind
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def thread(cls) -> Outgoing:
        return cls(OutgoingKind.THREAD)

    @classmethod
    def approval(cls, slack_id: str, role: MessageRole, *, last: bool) -> Outgoing:
        """DM the approver with Slack user id ``slack_id`` (bound from the config,
        :mod:`workflows.people`); ``last``: the last approver of its stage, where
        "nobody reachable" is judged."""
        return cls(OutgoingKind.APPROVAL, {"user": slack_id, "role": role.value, "last": last})

    @classmethod
    def refresh(cls) -> Outgoing:
        return cls(OutgoingKind.REFRESH)

    @classmethod
    def announce(cls, notice: Notice) -> Outgoing:
        payload = {"kind": notice.kind.value, "detail": notice.detail, "by": notice.by}
        if notice.kept:
            payload["kept"] = True
        if notice.live:
            payload["live"] = notice.live
        return cls(OutgoingKind.ANNOUNCE, payload)

    @classmethod
    def alert(cls, text: str, *, confirm: dict[str, str | None] | None = None) -> Outgoing:
        """DM every admin ``text``; ``confirm`` (``{"entry": …, "to": user id}``, a config
        entry whose new binding waits for an admin, :mod:`workflows.people`) adds a
        Confirm button for it."""
        payload: dict[str, Any] = {"text": text}
        if confirm is not None:
            payload["confirm"] = confirm
        return cls(OutgoingKind.ALERT, payload)

    @property
    def notice(self) -> Notice:
        """The notice of an ANNOUNCE entry."""
        return Notice(
            NoticeKind(self.payload["kind"]),
            self.payload.get("detail"),
            self.payload.get("by"),
            bool(self.payload.get("kept")),
            str(self.payload.get("live") or ""),
        )


def changed(notice: Notice) -> list[Outgoing]:
    """What every status change sends: re-rendered roots, then one reply per thread."""
    return [Outgoing.refresh(), Outgoing.announce(notice)]


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
