"""Status changes in SQL: the compare-and-set every decision goes through.

Written with prepared Core statements (no ORM unit of work: this is on the way to every
AWS call). A change writes its review, session, audit event and Slack notices in the
same transaction, and a final approval may take its assignment's lease there too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from storage.auditlog import add_audit
from storage.base import SqlSessions
from storage.leases import LeaseClaim, claim_lease_in
from storage.models import AuditEventRow, RequestRow, ReviewRow, SessionRow
from storage.outbox import enqueue_in
from workflows.domain import AccessRequest, GrantedSession, Outgoing, Review
from workflows.ports import Leased
from workflows.states import Status

_requests_t = RequestRow.__table__
_sessions_t = SessionRow.__table__
_CAS_STATUS = (
    update(_requests_t)
    .where(_requests_t.c.id == bindparam("id_"), _requests_t.c.status == bindparam("from_"))
    .values(status=bindparam("to_"))
)
_INSERT_REVIEW = insert(ReviewRow.__table__)
_CAS_APPROVALS = (
    update(_requests_t)
    .where(
        _requests_t.c.id == bindparam("id_"),
        _requests_t.c.status == bindparam("status_"),
        _requests_t.c.approvals_given == bindparam("given_"),
    )
    .values(approvals_given=_requests_t.c.approvals_given + 1)
)
_OTHER_ACTIVE_GRANTS = (
    select(func.count())
    .select_from(_requests_t.join(_sessions_t))
    .where(
        _requests_t.c.id != bindparam("id_"),
        _requests_t.c.principal_id == bindparam("principal_"),
        _requests_t.c.account_id == bindparam("account_"),
        _requests_t.c.permission_set_arn == bindparam("arn_"),
        _requests_t.c.status == Status.ACTIVE.value,
        _sessions_t.c.expires_at > bindparam("now_"),
    )
)


def _insert_review(s: Session, request_id: int, review: Review) -> None:
    s.execute(
        _INSERT_REVIEW,
        {
            "request_id": request_id,
            "stage": review.stage.value,
            "decision": review.decision.value,
            "reviewer_slack_id": review.reviewer.slack_id,
            "reviewer_email": review.reviewer.email,
            "reviewer_name": review.reviewer.name,
            "decided_at": review.decided_at,
            "comment": review.comment,
            "reviewer_principal": review.principal_id,
        },
    )


def _transition(
    s: Session,
    request_id: int,
    from_status: Status,
    to_status: Status,
    *,
    now: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any] | None = None,
    review: Review | None = None,
    session: GrantedSession | None = None,
    outbox: Sequence[Outgoing] = (),
) -> bool:
    """The body of :meth:`SqlTransitions.transition`, in the caller's transaction; the
    audit event is handed to the audit log by hand (:func:`add_audit`)."""
    result = s.execute(
        _CAS_STATUS, {"id_": request_id, "from_": from_status.value, "to_": to_status.value}
    )
    if result.rowcount != 1:
        return False
    if review is not None:
        _insert_review(s, request_id, review)
    if session is not None:
        s.merge(
            SessionRow(
                request_id=request_id,
                granted_at=session.granted_at,
                expires_at=session.expires_at,
                ended_at=session.ended_at,
                end_reason=session.end_reason,
            )
        )
    add_audit(
        s,
        AuditEventRow(
            at=now,
            request_id=request_id,
            actor=actor,
            action=action,
            detail={"from": from_status.value, "to": to_status.value, **(detail or {})},
        ),
    )
    enqueue_in(s, request_id, outbox, now)
    return True


def _other_active_grants(s: Session, request: AccessRequest, now: datetime) -> int:
    params = {
        "id_": request.id,
        "principal_": request.principal_id,
        "account_": request.account_id,
        "arn_": request.permission_set_arn,
        "now_": now,
    }
    return s.execute(_OTHER_ACTIVE_GRANTS, params).scalar() or 0


class SqlTransitions(SqlSessions):
    """The compare-and-set status changes of requests."""

    def transition(
        self,
        request_id: int,
        from_status: Status,
        to_status: Status,
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        review: Review | None = None,
        session: GrantedSession | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Compare-and-set ``status`` (``UPDATE … WHERE id = ? AND status = ?``) and, in the
        same transaction, write the review, the session, one audit event and the Slack
        notices that tell about it (``outbox``). Returns False with nothing written when
        another caller changed the status first."""
        with self._session() as s, s.begin():
            return _transition(
                s,
                request_id,
                from_status,
                to_status,
                now=now,
                actor=actor,
                action=action,
                detail=detail,
                review=review,
                session=session,
                outbox=outbox,
            )

    def transition_leasing(
        self,
        request_id: int,
        from_status: Status,
        to_status: Status,
        *,
        lease_key: str,
        holder: str,
        lease_now: datetime,
        lease_until: datetime,
        grants_of: AccessRequest | None = None,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        review: Review | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> Leased:
        """:meth:`transition` and, in the same transaction when it won, :meth:`claim_lease`
        of ``lease_key`` for ``holder`` until ``lease_until`` (UTC; taken when free, run
        out before ``lease_now`` or already ``holder``'s) and, when ``grants_of`` is given
        and the lease was taken, :meth:`other_active_grants` of ``grants_of`` at ``now``:
        a final approval records the decision and takes the assignment's lease in one
        commit.

        Returns :class:`Leased`: ``won=False`` with nothing written when the status was
        not ``from_status``; ``leased=False`` (the status change written all the same)
        when another holder has the lease.
        """
        with self._session() as s, s.begin():
            won = _transition(
                s,
                request_id,
                from_status,
                to_status,
                now=now,
                actor=actor,
                action=action,
                detail=detail,
                review=review,
                outbox=outbox,
            )
            if not won:
                return Leased(False, False)
            if not claim_lease_in(s, LeaseClaim(lease_key, holder, lease_now, lease_until)):
                return Leased(True, False)
            others = None if grants_of is None else _other_active_grants(s, grants_of, now)
            return Leased(True, True, others)

    def add_approval(
        self,
        request_id: int,
        status: Status,
        given: int,
        review: Review,
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Count one approval that does not yet decide the request: compare-and-set the
        request's approvals counter from ``given`` while it is still ``status``
        (``UPDATE … WHERE id = ? AND status = ? AND approvals_given = ?``) and, in the
        same transaction, write ``review``, one audit event and ``outbox``. Returns
        False with nothing written when the status or the count moved first (two
        approvers at once: the caller reads the request again)."""
        with self._session() as s, s.begin():
            params = {"id_": request_id, "status_": status.value, "given_": given}
            if s.execute(_CAS_APPROVALS, params).rowcount != 1:
                return False
            _insert_review(s, request_id, review)
            add_audit(
                s,
                AuditEventRow(
                    at=now,
                    request_id=request_id,
                    actor=actor,
                    action=action,
                    detail={"approvals": given + 1, **(detail or {})},
                ),
            )
            enqueue_in(s, request_id, outbox, now)
            return True

    def other_active_grants(self, request: AccessRequest, now: datetime) -> int:
        """Active requests, other than ``request``, of the same principal, account and
        permission set whose session ends after ``now``."""
        with self._session() as s:
            return _other_active_grants(s, request, now)
