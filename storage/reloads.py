"""Config reloads asked for with ``jitbot reload`` (:class:`ConfigReloadRow`), and
which replicas are alive to answer them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.auditlog import add_audit
from storage.base import SqlSessions
from storage.leases import REPLICA_LEASE_PREFIX
from storage.models import AuditEventRow, ConfigReloadRow, LeaseRow

#: the audit action of a ``jitbot reload`` request (``detail``: ``generation``)
RELOAD_REQUESTED = "config_reload_requested"


class SqlReloads(SqlSessions):
    """The ``config_reloads`` table: one row per ``jitbot reload``, its id the generation."""

    def request_reload(self, requested_by: str, now: datetime) -> int:
        """Record a reload asked for by ``requested_by`` at ``now`` (UTC), audited in the
        same transaction; returns its generation (the row id, increasing)."""
        with self._session() as s, s.begin():
            row = ConfigReloadRow(requested_at=now, requested_by=requested_by)
            s.add(row)
            s.flush()
            add_audit(
                s,
                AuditEventRow(
                    at=now,
                    request_id=None,
                    actor=requested_by,
                    action=RELOAD_REQUESTED,
                    detail={"generation": row.id},
                ),
            )
            return int(row.id)

    def latest_reload(self) -> int:
        """The generation of the newest reload request, 0 when there was none."""
        with self._session() as s:
            return int(s.scalar(select(func.max(ConfigReloadRow.id))) or 0)

    def live_replica_names(self, now: datetime) -> list[str]:
        """The holders of the presence leases alive at ``now`` (UTC), sorted: the
        replicas serving (:class:`bot.outbox_worker.Heartbeat`)."""
        query = select(LeaseRow.holder).where(
            LeaseRow.key.startswith(REPLICA_LEASE_PREFIX), LeaseRow.until > now
        )
        with self._session() as s:
            return sorted(str(holder) for holder in s.scalars(query))
