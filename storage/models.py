"""SQLAlchemy 2 models: requests, reviews, sessions, Slack message roots, audit events,
the bindings of the config's people to Slack user ids, the pending lifts of deny statements.

Times are stored as naive UTC (SQLite keeps no zone) and returned aware UTC by
:class:`UTCDateTime`. Indexes follow the queries of the per-port modules composed into
:class:`storage.store.SqlStore`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, naive UTC stored, aware UTC out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; jitbot stores aware UTC only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class RequestRow(Base):
    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requester_slack_id: Mapped[str] = mapped_column(String(32))
    requester_email: Mapped[str] = mapped_column(String(320))
    requester_name: Mapped[str] = mapped_column(String(200))
    principal_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(12))
    account_name: Mapped[str] = mapped_column(String(200))
    permission_set_name: Mapped[str] = mapped_column(String(64))
    permission_set_arn: Mapped[str] = mapped_column(String(200))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approval_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    approvers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # custom permission set spec (name, session_seconds, managed_policies, inline_policy,
    # warnings); None for a standard request
    custom: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    session_limit_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the CreateAccountAssignment request id of a grant AWS had not finished in time,
    # followed by the sweep (workflows.services.grant), and since when
    grant_operation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    grant_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the access rule it falls under (None: the default), the distinct approvals it
    # needs and has (a compare-and-set counter: workflows.services.decide), its ticket
    rule_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approvals_needed: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    approvals_given: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ticket: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # when the requester was warned that the session ends soon (workflows.services.
    # warning): the compare-and-set that sends the warning once; None: not yet
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    reviews: Mapped[list[ReviewRow]] = relationship(
        order_by="ReviewRow.id", lazy="selectin", cascade="all, delete-orphan"
    )
    session: Mapped[SessionRow | None] = relationship(lazy="selectin", cascade="all, delete-orphan")
    messages: Mapped[list[SlackMessageRow]] = relationship(
        order_by="SlackMessageRow.id", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_requests_requester", "requester_slack_id", "requested_at"),
        Index("ix_requests_status_deadline", "status", "approval_deadline"),
        Index("ix_requests_grant", "principal_id", "account_id", "permission_set_arn", "status"),
        Index("ix_requests_account_status", "account_id", "status", "requested_at"),
        Index("ix_requests_status_requested", "status", "requested_at"),
    )


class ReviewRow(Base):
    """One decision per person per stage: the unique constraint makes a second decision
    by the same reviewer fail (a stage needing several approvals has one row each)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    stage: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    reviewer_slack_id: Mapped[str] = mapped_column(String(32))
    reviewer_email: Mapped[str] = mapped_column(String(320))
    reviewer_name: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer_principal: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        UniqueConstraint(
            "request_id", "stage", "reviewer_slack_id", name="uq_reviews_request_stage_reviewer"
        ),
    )


class SessionRow(Base):
    __tablename__ = "sessions"

    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)


class SlackMessageRow(Base):
    __tablename__ = "slack_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    slack_user_id: Mapped[str] = mapped_column(String(32))


class AuditEventRow(Base):
    """Append-only: the store never updates or deletes these (database triggers refuse it)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    request_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # the hash chain (storage.auditchain): this event's SHA-256 over its fields and the
    # previous event's hash, so an altered or removed event breaks every later link
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class DeliveryRow(Base):
    """A signed Slack request body already taken (``digest``: hex SHA-256), kept until
    its signature could no longer be accepted (``until``, UTC)."""

    __tablename__ = "deliveries"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditHeadRow(Base):
    """The end of the audit chain: one row (``id`` 1), the last event's id and hash.
    Every audit write updates it first, which serializes appends across threads and
    replicas (a row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class OutboxRow(Base):
    """A Slack notice waiting to be delivered (design §6). ``state``: pending | sent |
    dead. ``progress`` lists the targets (thread roots, admins) already done, so a retry
    never posts twice to one; ``claimed_until``/``claimed_by`` are the delivering replica's
    lease; ``not_before`` (UTC) defers a retry after a 429 or an outage."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress: Mapped[list[str]] = mapped_column(JSON, default=list)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_outbox_state_id", "state", "id"),
        Index("ix_outbox_request_state", "request_id", "state", "id"),
    )


class LeaseRow(Base):
    """Who may change one thing right now, until when (design §5): ``key`` names it (an
    account assignment), ``holder`` is a replica, ``until`` (UTC) ends the lease unless
    the holder renews it. A crashed holder's work is taken over once ``until`` passes."""

    __tablename__ = "leases"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class BindingRow(Base):
    """Who one person the config names is (:class:`workflows.people.Binding`): ``entry``
    (a lower-cased email or a Slack user id) bound to ``slack_id`` (None: nobody), and
    a change seen at ``pending_at`` but not in effect yet (``pending_*``, until an admin
    confirms)."""

    __tablename__ = "bindings"

    entry: Mapped[str] = mapped_column(String(320), primary_key=True)
    slack_id: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pending_slack_id: Mapped[str | None] = mapped_column(String(32))
    pending_email: Mapped[str | None] = mapped_column(String(320))
    noticed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LiftRow(Base):
    """A deny statement of ended sign-ins to take out of a permission set's inline
    policy at ``due_at`` (UTC), :class:`workflows.services.live_policy.PendingLift`;
    ``sid`` is the statement's Sid."""

    __tablename__ = "lifts"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer)
    permission_set_arn: Mapped[str] = mapped_column(String(1224))
    account_id: Mapped[str] = mapped_column(String(12))
    principal_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ConfigReloadRow(Base):
    """A ``jitbot reload``: every serving replica that sees a newer ``id`` re-reads its
    config file (:mod:`bot.reload`) and audits what came of it."""

    __tablename__ = "config_reloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(320))


# the later life of a request (extensions, reminders): their own module, on this Base
from storage.models_life import ExtensionRow, ReminderRow  # noqa: E402, F401
