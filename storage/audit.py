"""The audit trail: writing events and reading them back (append-only: database
triggers refuse updates and deletes, see :mod:`storage.db`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.auditlog import add_audit
from storage.base import SqlSessions
from storage.convert import audit_dict, audit_event
from storage.models import AuditEventRow
from storage.outbox import enqueue_in
from workflows.domain import Outgoing
from workflows.records import AuditEvent, AuditRecord


class SqlAudit(SqlSessions):
    """Audit events in SQL (:class:`AuditEventRow`)."""

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
            add_audit(
                s,
                AuditEventRow(
                    at=now, request_id=request_id, actor=actor, action=action, detail=detail
                ),
            )
            enqueue_in(s, request_id, outbox, now)

    def audit_between(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[AuditRecord]:
        """Audit events with ``since <= at < until`` (UTC), oldest first, streamed."""
        query = select(AuditEventRow).order_by(AuditEventRow.at, AuditEventRow.id)
        if since is not None:
            query = query.where(AuditEventRow.at >= since)
        if until is not None:
            query = query.where(AuditEventRow.at < until)
        with self._session() as s:
            for row in s.scalars(query.execution_options(yield_per=500)):
                yield audit_dict(row)

    def has_audited(self, action: str) -> bool:
        """Whether any audit event of ``action`` was ever written."""
        query = select(AuditEventRow.id).where(AuditEventRow.action == action).limit(1)
        with self._session() as s:
            return s.scalar(query) is not None

    def audit_events(self, request_id: int | None = None) -> list[AuditEvent]:
        """Audit events in order, as :class:`AuditEvent` dicts (``at``, ``request_id``,
        ``actor``, ``action``, ``detail``)."""
        query = select(AuditEventRow).order_by(AuditEventRow.id)
        if request_id is not None:
            query = query.where(AuditEventRow.request_id == request_id)
        with self._session() as s:
            return [audit_event(e) for e in s.scalars(query)]
