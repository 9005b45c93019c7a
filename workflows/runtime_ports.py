"""The ports of the background machinery: the outbox dispatcher, the outbox worker,
the replica heartbeat and the metrics collector.

:class:`storage.store.SqlStore` implements each of them. Times are aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from workflows.ports import Store
from workflows.records import OutboxEntry
from workflows.states import Status


class OutboxStore(Store, Protocol):
    """The storage the dispatcher (:class:`workflows.outbox.OutboxDispatcher`) needs:
    the :class:`~workflows.ports.Store` plus the outbox's own queries."""

    def claim_outbox(
        self, holder: str, now: datetime, until: datetime, limit: int
    ) -> list[OutboxEntry]:
        """Lease up to ``limit`` deliverable entries (at most one per request) to
        ``holder`` until ``until``."""
        ...

    def outbox_progress(self, entry_id: int, holder: str, done: Sequence[str]) -> None: ...

    def outbox_finish(
        self, entry_id: int, holder: str, now: datetime, *, dead: str | None = None
    ) -> None: ...

    def outbox_defer(
        self, entry_id: int, holder: str, not_before: datetime, error: str
    ) -> None: ...

    def outbox_has_later(self, entry: OutboxEntry) -> bool: ...


class OutboxBacklog(Protocol):
    """How much of the outbox waits (the worker's ``idle()``, health, metrics)."""

    def outbox_backlog(self) -> tuple[int, datetime | None]:
        """(pending entries, creation time of the oldest, or None when none)."""
        ...


class ReplicaLeases(Protocol):
    """The leases the heartbeat (:class:`bot.outbox_worker.Heartbeat`) keeps alive."""

    def claim_lease(self, key: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take ``key`` for ``holder`` until ``until`` unless another live holder has it."""
        ...

    def release_lease(self, key: str, holder: str) -> None: ...

    def renew_leases(self, holder: str, until: datetime) -> int:
        """Extend every lease and outbox claim of ``holder``; how many leases it holds."""
        ...

    def live_replicas(self, now: datetime) -> int:
        """How many replicas' presence leases have not run out at ``now``."""
        ...


class OperationCounts(OutboxBacklog, Protocol):
    """What the metrics collector (:mod:`bot.metrics`) counts."""

    def status_counts(self) -> dict[Status, int]:
        """Requests in each status (statuses without any may be left out)."""
        ...

    def oldest_overdue_session(self, now: datetime) -> datetime | None:
        """The earliest ``expires_at`` of a session still Active at ``now``, if any."""
        ...
