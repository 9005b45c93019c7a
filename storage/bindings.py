"""The bindings of the config's people to Slack user ids (:class:`BindingRow`), each
change written with its audit event and its alert in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.auditlog import add_audit
from storage.base import SqlSessions
from storage.models import AuditEventRow, BindingRow
from storage.outbox import enqueue_in
from workflows.domain import Outgoing
from workflows.people import Binding


def _binding(row: BindingRow) -> Binding:
    return Binding(
        row.entry,
        row.slack_id,
        row.email,
        row.bound_at,
        row.pending_slack_id,
        row.pending_email,
        row.noticed_at,
        row.pending_at,
    )


class SqlBindings(SqlSessions):
    """Bindings in SQL (implements :class:`workflows.ports.BindingStore`)."""

    def bindings(self) -> list[Binding]:
        """Every stored binding, by entry."""
        with self._session() as s:
            return [
                _binding(row) for row in s.scalars(select(BindingRow).order_by(BindingRow.entry))
            ]

    def save_binding(
        self,
        binding: Binding,
        *,
        expect: Binding | None,
        now: datetime,
        actor: str = "jitbot",
        action: str | None = None,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Store ``binding`` if its row is still ``expect`` (None: no row), with its audit
        event and ``outbox`` notices; False when it changed first. On PostgreSQL the
        row is locked (``SELECT … FOR UPDATE``) and a new row's primary key refuses a
        second insert, so two replicas never both write one change."""
        try:
            return self._save(binding, expect, now, actor, action, detail, outbox)
        except IntegrityError:  # another replica inserted the entry's first row
            return False

    def _save(
        self,
        binding: Binding,
        expect: Binding | None,
        now: datetime,
        actor: str,
        action: str | None,
        detail: dict[str, Any] | None,
        outbox: Sequence[Outgoing],
    ) -> bool:
        with self._session() as s, s.begin():
            query = select(BindingRow).where(BindingRow.entry == binding.entry).with_for_update()
            row = s.scalars(query).one_or_none()
            if (row is None) != (expect is None):
                return False
            if row is not None and expect is not None and _binding(row).state() != expect.state():
                return False
            if row is None:
                row = BindingRow(entry=binding.entry)
                s.add(row)
            row.slack_id = binding.slack_id
            row.email = binding.email
            row.bound_at = binding.bound_at
            row.pending_slack_id = binding.pending_slack_id
            row.pending_email = binding.pending_email
            row.noticed_at = binding.noticed_at
            row.pending_at = binding.pending_at
            s.flush()
            if action is not None:
                add_audit(
                    s,
                    AuditEventRow(
                        at=now, request_id=None, actor=actor, action=action, detail=detail
                    ),
                )
            enqueue_in(s, None, outbox, now)
            return True
