"""The SQL store: queries named in domain terms, one transaction per method.

Implements :class:`workflows.ports.Store`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, bindparam, delete, event, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from storage.models import (
    AuditEventRow,
    LeaseRow,
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
    NewRequest,
    Outgoing,
    OutgoingKind,
    Person,
    Review,
    Role,
    Stage,
)
from workflows.ports import Leased, Page
from workflows.states import PENDING_STATUSES, Status


def _custom_to_json(custom: CustomPermissionSet | None) -> dict[str, Any] | None:
    if custom is None:
        return None
    return {
        "name": custom.name,
        "session_seconds": int(custom.session_duration.total_seconds()),
        "managed_policies": list(custom.managed_policies),
        "inline_policy": custom.inline_policy,
        "warnings": [list(w) for w in custom.warnings],
    }


def _custom_from_json(data: dict[str, Any] | None) -> CustomPermissionSet | None:
    if not data:
        return None
    return CustomPermissionSet(
        name=data["name"],
        session_duration=timedelta(seconds=data["session_seconds"]),
        managed_policies=tuple(data.get("managed_policies") or ()),
        inline_policy=data.get("inline_policy"),
        warnings=tuple((w[0], w[1]) for w in data.get("warnings") or ()),
    )


_FROM_ROW: Any = object()  # _to_domain: take this part from the row's relationship


def _to_domain(
    row: Any,
    *,
    session: Any = _FROM_ROW,
    reviews: Any = _FROM_ROW,
    messages: Any = _FROM_ROW,
) -> AccessRequest:
    """A request row as the domain's :class:`AccessRequest`. ``row`` is a
    :class:`RequestRow`, or any row with its columns (a Core row) when ``session``,
    ``reviews`` and ``messages`` are given (rows with those tables' columns)."""
    if session is _FROM_ROW:
        session = row.session
    if reviews is _FROM_ROW:
        reviews = row.reviews
    if messages is _FROM_ROW:
        messages = row.messages
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
        reviews=tuple(
            Review(
                Stage(r.stage),
                Decision(r.decision),
                Person(r.reviewer_slack_id, r.reviewer_email, r.reviewer_name),
                r.decided_at,
                r.comment,
            )
            for r in reviews
        ),
        session=None
        if session is None
        else GrantedSession(
            session.granted_at, session.expires_at, session.ended_at, session.end_reason
        ),
        messages=tuple(
            MessageRef(m.channel, m.ts, Role(m.role), m.slack_user_id) for m in messages
        ),
        custom=_custom_from_json(row.custom),
        stored_session_limit=None
        if row.session_limit_seconds is None
        else timedelta(seconds=row.session_limit_seconds),
    )


audit_log = logging.getLogger("jitbot.audit")

#: Key prefix of the lease each live replica holds on itself (see
#: :meth:`SqlStore.live_replicas`); the holder's name follows it.
REPLICA_LEASE_PREFIX = "replica:"

_older = aliased(OutboxRow)


@dataclass(frozen=True)
class OutboxEntry:
    """One claimed (or listed) outbox entry: what to send and which targets are done."""

    id: int
    request_id: int | None
    item: Outgoing
    state: str
    attempts: int
    progress: tuple[str, ...]
    created_at: datetime
    last_error: str | None

    @property
    def kind(self) -> OutgoingKind:
        return self.item.kind


def _entry(row: OutboxRow) -> OutboxEntry:
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


def audit_dict(event: AuditEventRow) -> dict[str, Any]:
    """An audit event as plain data (``at`` in ISO 8601 UTC)."""
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "request_id": event.request_id,
        "actor": event.actor,
        "action": event.action,
        "detail": event.detail,
    }


def _collect_audit(session: Session, _context: Any, _instances: Any) -> None:
    session.info.setdefault("audit", []).extend(
        o for o in session.new if isinstance(o, AuditEventRow)
    )


def _log_audit(session: Session) -> None:
    """Each committed audit event is also one JSON line on the ``jitbot.audit`` logger,
    for a SIEM; events of a rolled-back transaction are never logged."""
    events = session.info.pop("audit", [])
    if events and audit_log.isEnabledFor(logging.INFO):
        for row in events:
            audit_log.info(json.dumps(audit_dict(row), default=str, sort_keys=True))


def _forget_audit(session: Session) -> None:
    session.info.pop("audit", None)


# Prepared Core statements for the hot path (decision -> AWS): built once, and run
# without the ORM's unit of work.
_requests_t = RequestRow.__table__
_sessions_t = SessionRow.__table__
_reviews_t = ReviewRow.__table__
_messages_t = SlackMessageRow.__table__
_leases_t = LeaseRow.__table__
_CAS_STATUS = (
    update(_requests_t)
    .where(_requests_t.c.id == bindparam("id_"), _requests_t.c.status == bindparam("from_"))
    .values(status=bindparam("to_"))
)
_INSERT_REVIEW = insert(_reviews_t)
_INSERT_AUDIT = insert(AuditEventRow.__table__).returning(AuditEventRow.__table__.c.id)
_INSERT_OUTBOX = insert(OutboxRow.__table__)
_TAKE_LEASE = (
    update(_leases_t)
    .where(
        _leases_t.c.key == bindparam("key_"),
        or_(_leases_t.c.until < bindparam("now_"), _leases_t.c.holder == bindparam("holder_")),
    )
    .values(holder=bindparam("holder_"), until=bindparam("until_"))
)


def _upsert_lease(dialect_insert: Any) -> Any:
    """One statement that takes a lease: insert it, or on the key's conflict take it over
    when it ran out or is already ours; ``RETURNING`` gives a row only when it was taken
    (SQLite 3.35+ and PostgreSQL both skip a conflicting row whose ``WHERE`` is false:
    https://sqlite.org/lang_upsert.html, https://www.postgresql.org/docs/current/sql-insert.html)."""
    stmt = dialect_insert(_leases_t).values(
        key=bindparam("key_"), holder=bindparam("holder_"), until=bindparam("until_")
    )
    return stmt.on_conflict_do_update(
        index_elements=[_leases_t.c.key],
        set_={"holder": stmt.excluded.holder, "until": stmt.excluded.until},
        where=or_(
            _leases_t.c.until < bindparam("now_"), _leases_t.c.holder == bindparam("holder_")
        ),
    ).returning(_leases_t.c.key)


_UPSERT_LEASE = {
    "sqlite": _upsert_lease(sqlite_insert),
    "postgresql": _upsert_lease(postgresql_insert),
}
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
_RELEASE_LEASE = delete(_leases_t).where(
    _leases_t.c.key == bindparam("key_"), _leases_t.c.holder == bindparam("holder_")
)
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


def _enqueue(s: Session, request_id: int | None, items: Sequence[Outgoing], now: datetime) -> None:
    if items:
        s.execute(
            _INSERT_OUTBOX,
            [
                {
                    "request_id": request_id,
                    "kind": item.kind.value,
                    "payload": dict(item.payload),
                    "created_at": now,
                    "state": "pending",
                    "attempts": 0,
                    "progress": [],
                }
                for item in items
            ],
        )


@dataclass(frozen=True)
class LeaseClaim:
    """A lease to take: ``key`` for ``holder`` until ``until``, if free at ``now`` (UTC)."""

    key: str
    holder: str
    now: datetime
    until: datetime


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
    """The body of :meth:`SqlStore.transition`, in the caller's transaction.

    Written with prepared Core statements (no ORM unit of work: this is on the way to
    every AWS call); the audit event is handed to :func:`_log_audit` by hand."""
    result = s.execute(
        _CAS_STATUS, {"id_": request_id, "from_": from_status.value, "to_": to_status.value}
    )
    if result.rowcount != 1:
        return False
    if review is not None:
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
            },
        )
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
    _add_audit(
        s,
        AuditEventRow(
            at=now,
            request_id=request_id,
            actor=actor,
            action=action,
            detail={"from": from_status.value, "to": to_status.value, **(detail or {})},
        ),
    )
    _enqueue(s, request_id, outbox, now)
    return True


def _add_audit(s: Session, event: AuditEventRow) -> None:
    """Insert ``event`` (a transient row) with a Core statement and have it logged on
    commit like the events the ORM flushes (see :func:`_collect_audit`)."""
    event.id = s.execute(
        _INSERT_AUDIT,
        {
            "at": event.at,
            "request_id": event.request_id,
            "actor": event.actor,
            "action": event.action,
            "detail": event.detail,
        },
    ).scalar_one()
    s.info.setdefault("audit", []).append(event)


def _claim_lease(s: Session, claim: LeaseClaim) -> bool:
    """Take or extend a lease in the caller's transaction (see
    :meth:`SqlStore.claim_lease`): one upsert on SQLite and PostgreSQL; elsewhere an
    update of a free, run-out or own lease, else an insert in a savepoint that a
    duplicate key undoes."""
    values = {"key_": claim.key, "holder_": claim.holder, "now_": claim.now, "until_": claim.until}
    upsert = _UPSERT_LEASE.get(s.get_bind().dialect.name)
    if upsert is not None:
        return s.execute(upsert, values).scalar() is not None
    if s.execute(_TAKE_LEASE, values).rowcount == 1:
        return True
    try:
        with s.begin_nested():
            s.add(LeaseRow(key=claim.key, holder=claim.holder, until=claim.until))
        return True
    except IntegrityError:
        return False


def _other_active_grants(s: Session, request: AccessRequest, now: datetime) -> int:
    params = {
        "id_": request.id,
        "principal_": request.principal_id,
        "account_": request.account_id,
        "arn_": request.permission_set_arn,
        "now_": now,
    }
    return s.execute(_OTHER_ACTIVE_GRANTS, params).scalar() or 0


class SqlStore:
    """Requests and their history in a SQL database (see :mod:`storage.models`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        event.listen(self._sessions, "before_flush", _collect_audit)
        event.listen(self._sessions, "after_commit", _log_audit)
        event.listen(self._sessions, "after_rollback", _forget_audit)

    def _session(self) -> Session:
        return self._sessions()

    def add_request(self, new: NewRequest, outbox: Sequence[Outgoing] = ()) -> AccessRequest:
        """Store a Pending request, its ``requested`` audit event and its first Slack
        notices (``outbox``) in one transaction; return it with its id."""
        with self._session() as s, s.begin():
            row = RequestRow(
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
                custom=_custom_to_json(new.custom),
                session_limit_seconds=None
                if new.session_limit is None
                else int(new.session_limit.total_seconds()),
                requested_at=new.requested_at,
                approval_deadline=new.approval_deadline,
                approvers=list(new.approvers),
                reviews=[],
                messages=[],
            )
            s.add(row)
            s.flush()
            s.add(
                AuditEventRow(
                    at=new.requested_at,
                    request_id=row.id,
                    actor=new.requester.email,
                    action="requested",
                    detail={
                        "account_id": new.account_id,
                        "permission_set": new.permission_set_name,
                        "duration_seconds": row.duration_seconds,
                        "justification": new.justification,
                        "approvers": list(new.approvers),
                    },
                )
            )
            _enqueue(s, row.id, outbox, new.requested_at)
            return _to_domain(row)

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
        return _to_domain(row, session=session, reviews=reviews, messages=messages)

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
            if not _claim_lease(s, LeaseClaim(lease_key, holder, lease_now, lease_until)):
                return Leased(True, False)
            others = None if grants_of is None else _other_active_grants(s, grants_of, now)
            return Leased(True, True, others)

    def set_permission_set_arn(self, request_id: int, arn: str) -> None:
        """Record the ARN of the permission set created for a custom request."""
        with self._session() as s, s.begin():
            s.execute(
                update(RequestRow).where(RequestRow.id == request_id).values(permission_set_arn=arn)
            )

    def add_messages(self, request_id: int, refs: Sequence[MessageRef]) -> None:
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

    def audit(
        self,
        request_id: int | None,
        actor: str,
        action: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> None:
        """Write one audit event and the Slack notices about it, in one transaction."""
        with self._session() as s, s.begin():
            s.add(
                AuditEventRow(
                    at=now, request_id=request_id, actor=actor, action=action, detail=detail
                )
            )
            _enqueue(s, request_id, outbox, now)

    def audit_between(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[dict[str, Any]]:
        """Audit events with ``since <= at < until`` (UTC), oldest first, streamed."""
        query = select(AuditEventRow).order_by(AuditEventRow.at, AuditEventRow.id)
        if since is not None:
            query = query.where(AuditEventRow.at >= since)
        if until is not None:
            query = query.where(AuditEventRow.at < until)
        with self._session() as s:
            for row in s.scalars(query.execution_options(yield_per=500)):
                yield audit_dict(row)

    def audit_events(self, request_id: int | None = None) -> list[dict[str, Any]]:
        """Audit events in order, as dicts (``at``, ``request_id``, ``actor``, ``action``,
        ``detail``)."""
        query = select(AuditEventRow).order_by(AuditEventRow.id)
        if request_id is not None:
            query = query.where(AuditEventRow.request_id == request_id)
        with self._session() as s:
            return [
                {
                    "at": e.at,
                    "request_id": e.request_id,
                    "actor": e.actor,
                    "action": e.action,
                    "detail": e.detail,
                }
                for e in s.scalars(query)
            ]

    def _requests(self, query: Any) -> list[AccessRequest]:
        with self._session() as s:
            return [_to_domain(row) for row in s.scalars(query)]

    def with_status(self, status: Status) -> list[AccessRequest]:
        return self._requests(
            select(RequestRow).where(RequestRow.status == status.value).order_by(RequestRow.id)
        )

    def active_ending_before(self, when: datetime) -> list[AccessRequest]:
        """Active requests whose session ends at or before ``when``, soonest first."""
        return self._requests(
            select(RequestRow)
            .join(SessionRow)
            .where(RequestRow.status == Status.ACTIVE.value, SessionRow.expires_at <= when)
            .order_by(SessionRow.expires_at)
        )

    def pending_past_deadline(self, when: datetime) -> list[AccessRequest]:
        return self._requests(
            select(RequestRow)
            .where(
                RequestRow.status.in_([s.value for s in PENDING_STATUSES]),
                RequestRow.approval_deadline <= when,
            )
            .order_by(RequestRow.approval_deadline)
        )

    def other_active_grants(self, request: AccessRequest, now: datetime) -> int:
        """Active requests, other than ``request``, of the same principal, account and
        permission set whose session ends after ``now``."""
        with self._session() as s:
            return _other_active_grants(s, request, now)

    def upcoming_deadlines(self, now: datetime) -> list[datetime]:
        with self._session() as s:
            ends = s.scalars(
                select(SessionRow.expires_at)
                .join(RequestRow)
                .where(RequestRow.status == Status.ACTIVE.value, SessionRow.expires_at > now)
            ).all()
            deadlines = s.scalars(
                select(RequestRow.approval_deadline).where(
                    RequestRow.status.in_([s.value for s in PENDING_STATUSES]),
                    RequestRow.approval_deadline > now,
                )
            ).all()
        return sorted([*ends, *deadlines])

    def requests_of(self, slack_id: str, limit: int = 10, offset: int = 0) -> list[AccessRequest]:
        """The person's most recent requests, newest first."""
        return self._requests(
            select(RequestRow)
            .where(RequestRow.requester_slack_id == slack_id)
            .order_by(RequestRow.requested_at.desc(), RequestRow.id.desc())
            .limit(limit)
            .offset(offset)
        )

    # -- App Home ---------------------------------------------------------------------
    # ``account_ids=None`` means every account (SSO admins and admins); a list limits the
    # query to those accounts (owners). Each returns one page and the total count.

    def _page(self, query: Any, order: Sequence[Any], limit: int, offset: int) -> Page:
        with self._session() as s:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = s.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
            return Page(tuple(_to_domain(r) for r in rows), total, offset)

    @staticmethod
    def _on_accounts(query: Any, account_ids: Sequence[str] | None) -> Any:
        return (
            query
            if account_ids is None
            else query.where(RequestRow.account_id.in_(list(account_ids)))
        )

    def my_requests(self, slack_id: str, *, limit: int, offset: int = 0) -> Page:
        """The requester's requests, newest first."""
        query = select(RequestRow).where(RequestRow.requester_slack_id == slack_id)
        return self._page(
            query, (RequestRow.requested_at.desc(), RequestRow.id.desc()), limit, offset
        )

    def requester_stats(self, slack_id: str) -> dict[str, int]:
        """``active``, ``pending`` and ``total`` requests of one requester."""
        with self._session() as s:
            rows = s.execute(
                select(RequestRow.status, func.count())
                .where(RequestRow.requester_slack_id == slack_id)
                .group_by(RequestRow.status)
            ).all()
        by_status = {status: n for status, n in rows}
        return {
            "active": by_status.get(Status.ACTIVE.value, 0),
            "pending": sum(by_status.get(s.value, 0) for s in PENDING_STATUSES),
            "total": sum(by_status.values()),
        }

    def active_sessions(
        self,
        *,
        requester_slack_id: str | None = None,
        account_ids: Sequence[str] | None = None,
        limit: int,
        offset: int = 0,
    ) -> Page:
        """Active requests (with their session), ending soonest first."""
        query = select(RequestRow).join(SessionRow).where(RequestRow.status == Status.ACTIVE.value)
        if requester_slack_id is not None:
            query = query.where(RequestRow.requester_slack_id == requester_slack_id)
        query = self._on_accounts(query, account_ids)
        return self._page(query, (SessionRow.expires_at, RequestRow.id), limit, offset)

    def pending_for_approver(
        self,
        *,
        owned_account_ids: Sequence[str],
        all_accounts: bool,
        exclude_requester: str | None,
        limit: int,
        offset: int = 0,
    ) -> Page:
        """The approval queue, oldest first: standard Pending and custom Pending Owner
        requests on the accounts the person owns, and, for SSO admins and admins
        (``all_accounts``), standard Pending and custom Pending Admin on every account."""
        owner_stage = and_(
            RequestRow.status.in_([Status.PENDING.value, Status.PENDING_OWNER.value]),
            RequestRow.account_id.in_(list(owned_account_ids)),
        )
        condition = owner_stage
        if all_accounts:
            condition = or_(
                owner_stage,
                RequestRow.status.in_([Status.PENDING.value, Status.PENDING_ADMIN.value]),
            )
        query = select(RequestRow).where(condition)
        if exclude_requester is not None:
            query = query.where(RequestRow.requester_slack_id != exclude_requester)
        return self._page(query, (RequestRow.requested_at, RequestRow.id), limit, offset)

    def history(
        self,
        *,
        account_ids: Sequence[str] | None,
        statuses: Sequence[Status] | None,
        limit: int,
        offset: int = 0,
    ) -> Page:
        """Every request on the accounts, newest first, optionally of some statuses."""
        query = self._on_accounts(select(RequestRow), account_ids)
        if statuses:
            query = query.where(RequestRow.status.in_([s.value for s in statuses]))
        return self._page(
            query, (RequestRow.requested_at.desc(), RequestRow.id.desc()), limit, offset
        )

    def account_counts(self, account_ids: Sequence[str] | None) -> dict[str, tuple[int, int]]:
        """account id -> (pending requests, active sessions)."""
        query = select(RequestRow.account_id, RequestRow.status, func.count()).where(
            RequestRow.status.in_([Status.ACTIVE.value, *(s.value for s in PENDING_STATUSES)])
        )
        query = self._on_accounts(query, account_ids)
        counts: dict[str, list[int]] = {}
        with self._session() as s:
            for account_id, status, n in s.execute(
                query.group_by(RequestRow.account_id, RequestRow.status)
            ):
                slot = counts.setdefault(account_id, [0, 0])
                slot[1 if status == Status.ACTIVE.value else 0] += n
        return {k: (v[0], v[1]) for k, v in counts.items()}

    # -- outbox (design §6) -------------------------------------------------------------
    # A request's entries are delivered one at a time in id order (a reply never comes
    # before the root it replies to); entries of different requests in parallel.

    def enqueue(self, request_id: int | None, items: Sequence[Outgoing], now: datetime) -> None:
        """Add Slack notices to the outbox on their own (no state change with them)."""
        with self._session() as s, s.begin():
            _enqueue(s, request_id, items, now)

    def claim_outbox(
        self, holder: str, now: datetime, until: datetime, limit: int
    ) -> list[OutboxEntry]:
        """Lease up to ``limit`` deliverable entries to ``holder`` until ``until`` (UTC):
        pending, not deferred past ``now``, not leased by another live claim, and the
        oldest pending entry of their request. Each is claimed by compare-and-set, so two
        replicas never deliver the same entry at once."""
        older = (
            select(OutboxRow.id)
            .where(
                OutboxRow.request_id == _older.request_id,
                OutboxRow.state == "pending",
                OutboxRow.id < _older.id,
            )
            .exists()
        )
        free = or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now)
        query = (
            select(_older.id)
            .where(
                _older.state == "pending",
                or_(_older.not_before.is_(None), _older.not_before <= now),
                or_(_older.claimed_until.is_(None), _older.claimed_until < now),
                or_(_older.request_id.is_(None), ~older),
            )
            .order_by(_older.id)
            .limit(limit * 2)
        )
        claimed: list[OutboxEntry] = []
        with self._session() as s, s.begin():
            for entry_id in s.scalars(query).all():
                if len(claimed) >= limit:
                    break
                won = s.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == entry_id, OutboxRow.state == "pending", free)
                    .values(claimed_by=holder, claimed_until=until)
                ).rowcount
                if won == 1:
                    row = s.get(OutboxRow, entry_id)
                    assert row is not None
                    s.refresh(row)
                    claimed.append(_entry(row))
        return claimed

    def outbox_progress(self, entry_id: int, holder: str, done: Sequence[str]) -> None:
        """Record the targets of a claimed entry delivered so far."""
        with self._session() as s, s.begin():
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.claimed_by == holder)
                .values(progress=list(done))
            )

    def outbox_finish(
        self, entry_id: int, holder: str, now: datetime, *, dead: str | None = None
    ) -> None:
        """Mark a claimed entry sent (or dead, with the reason, when Slack refused it for
        good)."""
        with self._session() as s, s.begin():
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.claimed_by == holder)
                .values(
                    state="dead" if dead else "sent",
                    done_at=now,
                    last_error=dead,
                    claimed_until=None,
                )
            )

    def outbox_defer(self, entry_id: int, holder: str, not_before: datetime, error: str) -> None:
        """Give a claimed entry back, to be retried at ``not_before`` (UTC)."""
        with self._session() as s, s.begin():
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.claimed_by == holder)
                .values(
                    not_before=not_before,
                    attempts=OutboxRow.attempts + 1,
                    last_error=error[:2000],
                    claimed_until=None,
                    claimed_by=None,
                )
            )

    def outbox_has_later(self, entry: OutboxEntry) -> bool:
        """Whether a later pending entry of the same kind waits for the same request (a
        REFRESH then renders the same state, so the earlier one may be skipped)."""
        with self._session() as s:
            return bool(
                s.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(
                        OutboxRow.request_id == entry.request_id,
                        OutboxRow.kind == entry.kind.value,
                        OutboxRow.state == "pending",
                        OutboxRow.id > entry.id,
                    )
                )
            )

    def outbox_backlog(self) -> tuple[int, datetime | None]:
        """(pending entries, creation time of the oldest) for health and metrics."""
        with self._session() as s:
            count, oldest = s.execute(
                select(func.count(), func.min(OutboxRow.created_at)).where(
                    OutboxRow.state == "pending"
                )
            ).one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count or 0), oldest

    def outbox_entries(self, request_id: int | None = None) -> list[OutboxEntry]:
        """Every outbox entry (of one request), oldest first; for tests and operators."""
        query = select(OutboxRow).order_by(OutboxRow.id)
        if request_id is not None:
            query = query.where(OutboxRow.request_id == request_id)
        with self._session() as s:
            return [_entry(row) for row in s.scalars(query)]

    # -- leases (design §5) ---------------------------------------------------------------

    def claim_lease(self, key: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or extend the lease on ``key`` for ``holder`` until ``until`` (UTC): it
        succeeds when nobody holds it, the holder's lease ran out before ``now``, or
        ``holder`` already holds it. Compare-and-set, safe across replicas."""
        with self._session() as s, s.begin():
            return _claim_lease(s, LeaseClaim(key, holder, now, until))

    def release_lease(self, key: str, holder: str) -> None:
        with self._session() as s, s.begin():
            s.execute(_RELEASE_LEASE, {"key_": key, "holder_": holder})

    def live_replicas(self, now: datetime) -> int:
        """How many replicas are alive at ``now`` (UTC): the presence leases
        (:data:`REPLICA_LEASE_PREFIX` + holder, taken and renewed by each replica's
        heartbeat) that have not run out."""
        with self._session() as s:
            count = s.scalar(
                select(func.count())
                .select_from(LeaseRow)
                .where(LeaseRow.key.startswith(REPLICA_LEASE_PREFIX), LeaseRow.until > now)
            )
        return int(count or 0)

    def renew_leases(self, holder: str, until: datetime) -> int:
        """Extend every lease and outbox claim of ``holder`` to ``until`` (the heartbeat of
        a live replica); returns how many leases it holds."""
        with self._session() as s, s.begin():
            held = s.execute(
                update(LeaseRow).where(LeaseRow.holder == holder).values(until=until)
            ).rowcount
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.claimed_by == holder, OutboxRow.state == "pending")
                .values(claimed_until=until)
            )
        return int(held or 0)

    # -- operations -------------------------------------------------------------------

    def status_counts(self) -> dict[Status, int]:
        """How many requests are in each status."""
        with self._session() as s:
            rows = s.execute(
                select(RequestRow.status, func.count()).group_by(RequestRow.status)
            ).all()
        return {Status(status): int(n) for status, n in rows}

    def oldest_overdue_session(self, now: datetime) -> datetime | None:
        """The earliest ``expires_at`` (UTC) of a session still Active at ``now`` although
        it should have ended; None when access is ending on time."""
        with self._session() as s:
            oldest = s.scalar(
                select(func.min(SessionRow.expires_at))
                .join(RequestRow)
                .where(RequestRow.status == Status.ACTIVE.value, SessionRow.expires_at <= now)
            )
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return oldest
