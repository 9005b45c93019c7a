"""Rows to domain values and back: requests, custom permission sets, outbox entries,
audit events (the rows are :mod:`storage.models`')."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row

from storage.models import (
    AuditEventRow,
    OutboxRow,
    RequestRow,
    ReviewRow,
    SessionRow,
    SlackMessageRow,
)
from workflows.domain import (
    AccessRequest,
    CustomPermissionSet,
    Decision,
    GrantedSession,
    MessageRef,
    MessageRole,
    Outgoing,
    OutgoingKind,
    Person,
    Review,
    Stage,
)
from workflows.records import AuditEvent, AuditRecord, OutboxEntry
from workflows.states import Status


def custom_to_json(custom: CustomPermissionSet | None) -> dict[str, Any] | None:
    """A custom permission set spec as the ``requests.custom`` JSON column holds it."""
    if custom is None:
        return None
    return {
        "name": custom.name,
        "session_seconds": int(custom.session_duration.total_seconds()),
        "managed_policies": list(custom.managed_policies),
        "inline_policy": custom.inline_policy,
        "warnings": [list(w) for w in custom.warnings],
        # absent: submitted before the boundary was recorded; {}: recorded, none
        **({} if custom.boundary is None else {"boundary": dict(custom.boundary)}),
    }


def custom_from_json(data: dict[str, Any] | None) -> CustomPermissionSet | None:
    """The inverse of :func:`custom_to_json` (None for a standard request)."""
    if not data:
        return None
    return CustomPermissionSet(
        name=data["name"],
        session_duration=timedelta(seconds=data["session_seconds"]),
        managed_policies=tuple(data.get("managed_policies") or ()),
        inline_policy=data.get("inline_policy"),
        warnings=tuple((w[0], w[1]) for w in data.get("warnings") or ()),
        boundary=_boundary_from_json(data.get("boundary")),
    )


def _boundary_from_json(data: dict[str, str] | None) -> tuple[tuple[str, str], ...] | None:
    """``{"aws_managed": "PowerUserAccess"}`` as the domain's record; None stays None."""
    if data is None:
        return None
    return tuple((key, str(value)) for key, value in data.items())


def to_domain(row: RequestRow) -> AccessRequest:
    """A request row (with its relationships loaded) as the domain's :class:`AccessRequest`."""
    return from_columns(row, session=row.session, reviews=row.reviews, messages=row.messages)


def from_columns(
    row: RequestRow | Row[Any],
    *,
    session: SessionRow | Row[Any] | None,
    reviews: Iterable[ReviewRow | Row[Any]],
    messages: Iterable[SlackMessageRow | Row[Any]],
) -> AccessRequest:
    """A request as the domain's :class:`AccessRequest`, from rows with the columns of
    ``requests``, ``sessions`` (None when it has none), ``reviews`` and
    ``slack_messages``: ORM rows or Core rows (the hot path's prepared queries)."""
    return AccessRequest(
        id=row.id,
        requester=Person(row.requester_slack_id, row.requester_email, row.requester_name),
        principal_id=row.principal_id,
        account_id=row.account_id,
        account_name=row.account_name,
        permission_set_name=row.permission_set_name,
        permission_set_arn=row.permission_set_arn,
        duration=timedelta(seconds=row.duration_seconds),
        justification=row.justification,
        status=Status(row.status),
        requested_at=row.requested_at,
        approval_deadline=row.approval_deadline,
        approvers=tuple(row.approvers or ()),
        reviews=tuple(_review(r) for r in reviews),
        session=None
        if session is None
        else GrantedSession(
            session.granted_at, session.expires_at, session.ended_at, session.end_reason
        ),
        messages=tuple(
            MessageRef(m.channel, m.ts, MessageRole(m.role), m.slack_user_id) for m in messages
        ),
        custom=custom_from_json(row.custom),
        stored_session_limit=None
        if row.session_limit_seconds is None
        else timedelta(seconds=row.session_limit_seconds),
        grant_operation=row.grant_operation_id,
        grant_pending_since=row.grant_pending_since,
        rule_name=row.rule_name,
        approvals_needed=row.approvals_needed or 1,
        ticket=row.ticket,
        approvals_given=row.approvals_given or 0,
    )


def _review(r: ReviewRow | Row[Any]) -> Review:
    return Review(
        Stage(r.stage),
        Decision(r.decision),
        Person(r.reviewer_slack_id, r.reviewer_email, r.reviewer_name),
        r.decided_at,
        r.comment,
        r.reviewer_principal,
    )


def outbox_entry(row: OutboxRow) -> OutboxEntry:
    """An outbox row as the dispatcher's :class:`OutboxEntry`."""
    return OutboxEntry(
        id=row.id,
        request_id=row.request_id,
        item=Outgoing(OutgoingKind(row.kind), dict(row.payload or {})),
        state=row.state,
        attempts=row.attempts,
        progress=tuple(row.progress or ()),
        created_at=row.created_at,
        last_error=row.last_error,
    )


def audit_event(row: AuditEventRow) -> AuditEvent:
    """An audit row as :class:`AuditEvent` (``at`` an aware UTC datetime)."""
    return {
        "at": row.at,
        "request_id": row.request_id,
        "actor": row.actor,
        "action": row.action,
        "detail": row.detail,
    }


def audit_dict(event: AuditEventRow) -> AuditRecord:
    """An audit event as plain data (``at`` in ISO 8601 UTC)."""
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "request_id": event.request_id,
        "actor": event.actor,
        "action": event.action,
        "detail": event.detail,
    }


def aware_utc(value: datetime | None) -> datetime | None:
    """``value`` with its zone set to UTC when an aggregate (``min()``) lost it."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
