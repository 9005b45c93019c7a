"""Requests in SQL: adding one, reading one back, its message roots and its ARN.

The status changes are :mod:`storage.transitions`; the scheduler's queries
:mod:`storage.due`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal, select, update

from storage.auditlog import add_audit
from storage.base import SqlSessions
from storage.convert import custom_to_json, from_columns, to_domain
from storage.models import (
    AuditEventRow,
    RequestRow,
    ReviewRow,
    SessionRow,
    SlackMessageRow,
    UTCDateTime,
)
from storage.outbox import enqueue_in
from workflows.domain import AccessRequest, MessageRef, NewRequest, Outgoing
from workflows.states import Status

# Prepared Core statements for :meth:`SqlRequests.get` (on the hot path): built once.
_requests_t = RequestRow.__table__
_sessions_t = SessionRow.__table__
_reviews_t = ReviewRow.__table__
_messages_t = SlackMessageRow.__table__
_GET_REQUEST = (
    select(
        _requests_t,
        _sessions_t.c.request_id.label("session_request_id"),
        _sessions_t.c.granted_at,
        _sessions_t.c.expires_at,
        _sessions_t.c.ended_at,
        _sessions_t.c.end_reason,
    )
    .select_from(_requests_t.outerjoin(_sessions_t))
    .where(_requests_t.c.id == bindparam("id_"))
)
_GET_REVIEWS = (
    select(_reviews_t).where(_reviews_t.c.request_id == bindparam("id_")).order_by(_reviews_t.c.id)
)
_GET_MESSAGES = (
    select(_messages_t)
    .where(_messages_t.c.request_id == bindparam("id_"))
    .order_by(_messages_t.c.id)
)


def _new_row(new: NewRequest) -> RequestRow:
    return RequestRow(
        requester_slack_id=new.requester.slack_id,
        requester_email=new.requester.email,
        requester_name=new.requester.name,
        principal_id=new.principal_id,
        account_id=new.account_id,
        account_name=new.account_name,
        permission_set_name=new.permission_set_name,
        permission_set_arn=new.permission_set_arn,
        duration_seconds=int(new.duration.total_seconds()),
        justification=new.justification,
        status=new.status.value,
        custom=custom_to_json(new.custom),
        session_limit_seconds=None
        if new.session_limit is None
        else int(new.session_limit.total_seconds()),
        requested_at=new.requested_at,
        approval_deadline=new.approval_deadline,
        approvers=list(new.approvers),
        rule_name=new.rule_name,
        approvals_needed=new.approvals_needed,
        approvals_given=0,
        ticket=new.ticket,
        reviews=[],
        messages=[],
    )


class SqlRequests(SqlSessions):
    """Adding and reading requests (:class:`RequestRow` and its children)."""

    def add_request(self, new: NewRequest, outbox: Sequence[Outgoing] = ()) -> AccessRequest:
        """Store a Pending request, its ``requested`` audit event and its first Slack
        notices (``outbox``) in one transaction; return it with its id."""
        with self._session() as s, s.begin():
            row = _new_row(new)
            s.add(row)
            s.flush()
            add_audit(
                s,
                AuditEventRow(
                    at=new.requested_at,
                    request_id=row.id,
                    actor=new.requester.slack_id,
                    action="requested",
                    detail={
                        "actor_email": new.requester.email,
                        "actor_principal": new.principal_id,
                        "account_id": new.account_id,
                        "permission_set": new.permission_set_name,
                        "duration_seconds": row.duration_seconds,
                        "justification": new.justification,
                        "approvers": list(new.approvers),
                        **({"rule": new.rule_name} if new.rule_name else {}),
                        **(
                            {"approvals_needed": new.approvals_needed}
                            if new.approvals_needed > 1
                            else {}
                        ),
                        **({"ticket": new.ticket} if new.ticket else {}),
                    },
                ),
            )
            enqueue_in(s, row.id, outbox, new.requested_at)
            return to_domain(row)

    def get(self, request_id: int) -> AccessRequest | None:
        """The request with its reviews, session and message roots, or None (three
        prepared Core queries in one read)."""
        params = {"id_": request_id}
        with self._session() as s:
            row = s.execute(_GET_REQUEST, params).one_or_none()
            if row is None:
                return None
            reviews = s.execute(_GET_REVIEWS, params).all()
            messages = s.execute(_GET_MESSAGES, params).all()
        session = None if row.session_request_id is None else row
        return from_columns(row, session=session, reviews=reviews, messages=messages)

    def set_permission_set_arn(self, request_id: int, arn: str) -> None:
        """Record the ARN of the permission set created for a custom request."""
        with self._session() as s, s.begin():
            s.execute(
                update(RequestRow).where(RequestRow.id == request_id).values(permission_set_arn=arn)
            )

    def set_grant_operation(self, request_id: int, operation_id: str, since: datetime) -> None:
        """Record the AWS request id of a grant AWS had not finished in time, and when
        (aware UTC) it was first found unfinished (kept if already recorded)."""
        with self._session() as s, s.begin():
            s.execute(
                update(RequestRow)
                .where(RequestRow.id == request_id)
                .values(
                    grant_operation_id=operation_id,
                    grant_pending_since=func.coalesce(
                        RequestRow.grant_pending_since, literal(since, UTCDateTime())
                    ),
                )
            )

    def claim_expiry_warning(
        self,
        request_id: int,
        now: datetime,
        *,
        action: str,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Mark the expiry warning of an Active request as done at ``now`` (aware UTC),
        with one audit event ``action`` and its ``outbox`` notices, in one transaction:
        a compare-and-set on ``expiry_warned_at`` being empty, so two sweeps, replicas or
        restarts send it once. False (nothing written) when it was done already or the
        request is no longer Active."""
        with self._session() as s, s.begin():
            result = s.execute(
                update(RequestRow)
                .where(
                    RequestRow.id == request_id,
                    RequestRow.status == Status.ACTIVE.value,
                    RequestRow.expiry_warned_at.is_(None),
                )
                .values(expiry_warned_at=now)
            )
            if result.rowcount != 1:
                return False
            add_audit(
                s,
                AuditEventRow(
                    at=now, request_id=request_id, actor="jitbot", action=action, detail=detail
                ),
            )
            enqueue_in(s, request_id, outbox, now)
            return True

    def add_messages(self, request_id: int, refs: Sequence[MessageRef]) -> None:
        """Remember the Slack messages (thread roots, approver DMs) of a request."""
        with self._session() as s, s.begin():
            s.add_all(
                SlackMessageRow(
                    request_id=request_id,
                    channel=r.channel,
                    ts=r.ts,
                    role=r.role.value,
                    slack_user_id=r.slack_user_id,
                )
                for r in refs
            )

    def requests_of(self, slack_id: str, limit: int = 10, offset: int = 0) -> list[AccessRequest]:
        """The person's most recent requests, newest first."""
        return self._requests(
            select(RequestRow)
            .where(RequestRow.requester_slack_id == slack_id)
            .order_by(RequestRow.requested_at.desc(), RequestRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
