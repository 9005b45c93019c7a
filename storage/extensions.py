"""Extensions of Active sessions in SQL (:class:`ExtensionRow`), implementing
:class:`workflows.services.extend.ExtensionStore`.

Each change is a compare-and-set: an extension leaves Pending once (first decision
wins), and applying one moves the session's ``expires_at`` only while the request is
still Active and its end is still the one read, with its audit event and Slack notices
in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.auditlog import add_audit
from storage.base import SqlSessions
from storage.models import AuditEventRow, ExtensionRow, RequestRow, SessionRow
from storage.outbox import enqueue_in
from workflows.domain import Outgoing
from workflows.extensions import Extension, ExtensionStatus, NewExtension
from workflows.states import Status

_PENDING = ExtensionStatus.PENDING.value


class _Lost(Exception):
    """A compare-and-set lost: the transaction is rolled back."""


def _extension(row: ExtensionRow) -> Extension:
    return Extension(
        request_id=row.request_id,
        more=timedelta(seconds=row.seconds),
        reason=row.reason,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        deadline=row.deadline,
        id=row.id,
        status=ExtensionStatus(row.status),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        approvals=tuple((str(a[0]), a[1]) for a in row.approvals or ()),
    )


def _audit(
    s: Session,
    request_id: int,
    now: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any],
    outbox: Sequence[Outgoing],
) -> None:
    add_audit(
        s, AuditEventRow(at=now, request_id=request_id, actor=actor, action=action, detail=detail)
    )
    enqueue_in(s, request_id, outbox, now)


def _close(s: Session, extension_id: int, status: ExtensionStatus, by: str, now: datetime) -> bool:
    """Compare-and-set the extension from Pending to ``status``, decided by ``by``."""
    result = s.execute(
        update(ExtensionRow)
        .where(ExtensionRow.id == extension_id, ExtensionRow.status == _PENDING)
        .values(status=status.value, decided_by=by, decided_at=now)
    )
    return result.rowcount == 1


class SqlExtensions(SqlSessions):
    """The ``extensions`` table, and the move of a session's end an extension makes."""

    def add_extension(
        self,
        new: NewExtension,
        *,
        action: str,
        detail: dict[str, Any],
        outbox: Sequence[Outgoing] = (),
    ) -> Extension | None:
        """Store ``new`` as Pending with one audit event ``action`` (by its requester)
        and ``outbox``, in one transaction. None (nothing written) when the request
        already has a pending extension."""
        row = ExtensionRow(
            request_id=new.request_id,
            seconds=int(new.more.total_seconds()),
            reason=new.reason,
            requested_by=new.requested_by,
            requested_at=new.requested_at,
            deadline=new.deadline,
            status=_PENDING,
            approvals=[],
            approvals_given=0,
        )
        try:
            with self._session() as s, s.begin():
                s.add(row)
                s.flush()
                detail = {"extension": row.id, **detail}
                _audit(s, new.request_id, new.requested_at, new.requested_by, action, detail, [])
                # the notices name the stored extension (its buttons carry its id)
                items = [_with_id(item, row.id) for item in outbox]
                enqueue_in(s, new.request_id, items, new.requested_at)
        except IntegrityError:
            return None
        return _extension(row)

    def extension(self, extension_id: int) -> Extension | None:
        """The stored extension ``extension_id``, or None."""
        with self._session() as s:
            row = s.get(ExtensionRow, extension_id)
            return _extension(row) if row is not None else None

    def pending_extension(self, request_id: int) -> Extension | None:
        """The request's extension waiting for approval, or None."""
        query = select(ExtensionRow).where(
            ExtensionRow.request_id == request_id, ExtensionRow.status == _PENDING
        )
        with self._session() as s:
            row = s.scalars(query).first()
            return _extension(row) if row is not None else None

    def close_extension(
        self,
        extension_id: int,
        status: ExtensionStatus,
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any],
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Refuse or time out a pending extension (compare-and-set from Pending) with
        one audit event and ``outbox``; False (nothing written) when it was decided
        first. The session is left as it is."""
        with self._session() as s, s.begin():
            row = s.get(ExtensionRow, extension_id)
            if row is None or not _close(s, extension_id, status, actor, now):
                return False
            _audit(s, row.request_id, now, actor, action, detail, outbox)
            return True

    def count_extension_approval(
        self,
        extension: Extension,
        approver: tuple[str, str | None],
        *,
        now: datetime,
        action: str,
        detail: dict[str, Any],
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Count ``approver`` (Slack user id, Identity Center user id) on a pending
        extension that needs more approvals than it has: compare-and-set from the
        approvals as read in ``extension``, with one audit event and ``outbox``. False
        (nothing written) when it was decided or another approval came first."""
        counted = [list(a) for a in extension.approvals] + [list(approver)]
        with self._session() as s, s.begin():
            result = s.execute(
                update(ExtensionRow)
                .where(
                    ExtensionRow.id == extension.id,
                    ExtensionRow.status == _PENDING,
                    ExtensionRow.approvals_given == len(extension.approvals),
                )
                .values(approvals=counted, approvals_given=len(counted))
            )
            if result.rowcount != 1:
                return False
            full = {"extension": extension.id, "approvals": len(counted), **detail}
            _audit(s, extension.request_id, now, approver[0], action, full, outbox)
            return True

    def apply_extension(
        self,
        extension_id: int,
        request_id: int,
        statuses: tuple[Status, Status],
        ends: tuple[datetime, datetime],
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any],
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Approve the pending extension ``extension_id`` and move request
        ``request_id``'s session end from ``ends[0]`` to ``ends[1]`` while its status is
        ``statuses[0]`` (set to ``statuses[1]``, the transition table's answer), with
        one audit event and ``outbox``: all in one transaction, or nothing (False) when
        the extension was decided, the status changed or the end moved first."""
        from_status, to_status = statuses
        try:
            with self._session() as s, s.begin():
                self._apply_in(s, extension_id, request_id, statuses, ends, actor, now)
                full = {"from": from_status.value, "to": to_status.value, **detail}
                _audit(s, request_id, now, actor, action, full, outbox)
        except _Lost:
            return False
        return True

    @staticmethod
    def _apply_in(
        s: Session,
        extension_id: int,
        request_id: int,
        statuses: tuple[Status, Status],
        ends: tuple[datetime, datetime],
        actor: str,
        now: datetime,
    ) -> None:
        """The three compare-and-sets of :meth:`apply_extension`; :class:`_Lost` when
        one finds the row moved (the caller's transaction is then rolled back)."""
        from_status, to_status = statuses
        if not _close(s, extension_id, ExtensionStatus.APPROVED, actor, now):
            raise _Lost
        cas_status = s.execute(
            update(RequestRow)
            .where(RequestRow.id == request_id, RequestRow.status == from_status.value)
            # a new end gets its own expiry warning (workflows.services.warning)
            .values(status=to_status.value, expiry_warned_at=None)
        )
        cas_end = s.execute(
            update(SessionRow)
            .where(
                SessionRow.request_id == request_id,
                SessionRow.expires_at == ends[0],
                SessionRow.ended_at.is_(None),
            )
            .values(expires_at=ends[1])
        )
        if cas_status.rowcount != 1 or cas_end.rowcount != 1:
            raise _Lost

    def extensions_due(self, now: datetime) -> list[Extension]:
        """Pending extensions past their deadline, or whose session is no longer
        Active or has reached its end, oldest first."""
        query = (
            select(ExtensionRow)
            .join(RequestRow, RequestRow.id == ExtensionRow.request_id)
            .outerjoin(SessionRow, SessionRow.request_id == ExtensionRow.request_id)
            .where(
                ExtensionRow.status == _PENDING,
                or_(
                    ExtensionRow.deadline <= now,
                    RequestRow.status != Status.ACTIVE.value,
                    SessionRow.expires_at <= now,
                ),
            )
            .order_by(ExtensionRow.id)
        )
        with self._session() as s:
            return [_extension(row) for row in s.scalars(query)]


def _with_id(item: Outgoing, extension_id: int) -> Outgoing:
    """``item`` with the stored extension's id in its notice's ``extension`` data."""
    data = item.payload.get("extension")
    if not isinstance(data, dict):
        return item
    return Outgoing(item.kind, {**item.payload, "extension": {**data, "id": extension_id}})
