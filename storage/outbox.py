"""The outbox in SQL (design §6): Slack notices written with the state changes they tell
about, claimed and delivered by :class:`workflows.outbox.OutboxDispatcher`.

A request's entries are delivered one at a time in id order (a reply never comes
before the root it replies to); entries of different requests in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage.base import SqlSessions
from storage.convert import aware_utc, outbox_entry
from storage.models import OutboxRow
from workflows.domain import Outgoing
from workflows.records import OutboxEntry

_INSERT_OUTBOX = insert(OutboxRow.__table__)
_older = aliased(OutboxRow)


def enqueue_in(
    s: Session, request_id: int | None, items: Sequence[Outgoing], now: datetime
) -> None:
    """Add ``items`` to the outbox, pending, in the caller's transaction."""
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


def _deliverable(now: datetime, limit: int) -> Select[tuple[int]]:
    """Ids of the entries that may be claimed at ``now``: pending, not deferred, not
    claimed by a live claim, and the oldest pending entry of their request."""
    older = (
        select(OutboxRow.id)
        .where(
            OutboxRow.request_id == _older.request_id,
            OutboxRow.state == "pending",
            OutboxRow.id < _older.id,
        )
        .exists()
    )
    return (
        select(_older.id)
        .where(
            _older.state == "pending",
            or_(_older.not_before.is_(None), _older.not_before <= now),
            or_(_older.claimed_until.is_(None), _older.claimed_until < now),
            or_(_older.request_id.is_(None), ~older),
        )
        .order_by(_older.id)
        .limit(limit)
    )


class SqlOutbox(SqlSessions):
    """The outbox's queries (:class:`OutboxRow`); implements
    :class:`workflows.outbox.OutboxStore`'s own part."""

    def enqueue(self, request_id: int | None, items: Sequence[Outgoing], now: datetime) -> None:
        """Add Slack notices to the outbox on their own (no state change with them)."""
        with self._session() as s, s.begin():
            enqueue_in(s, request_id, items, now)

    def claim_outbox(
        self, holder: str, now: datetime, until: datetime, limit: int
    ) -> list[OutboxEntry]:
        """Lease up to ``limit`` deliverable entries to ``holder`` until ``until`` (UTC):
        pending, not deferred past ``now``, not leased by another live claim, and the
        oldest pending entry of their request. Each is claimed by compare-and-set, so two
        replicas never deliver the same entry at once."""
        free = or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now)
        claimed: list[OutboxEntry] = []
        with self._session() as s, s.begin():
            for entry_id in s.scalars(_deliverable(now, limit * 2)).all():
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
                    claimed.append(outbox_entry(row))
        return claimed

    def outbox_progress(self, entry_id: int, holder: str, done: Sequence[str]) -> None:
        """Record the targets of a claimed entry delivered so far."""
        self._update_claimed(entry_id, holder, progress=list(done))

    def outbox_finish(
        self, entry_id: int, holder: str, now: datetime, *, dead: str | None = None
    ) -> None:
        """Mark a claimed entry sent (or dead, with the reason, when Slack refused it for
        good)."""
        self._update_claimed(
            entry_id,
            holder,
            state="dead" if dead else "sent",
            done_at=now,
            last_error=dead,
            claimed_until=None,
        )

    def outbox_defer(self, entry_id: int, holder: str, not_before: datetime, error: str) -> None:
        """Give a claimed entry back, to be retried at ``not_before`` (UTC)."""
        self._update_claimed(
            entry_id,
            holder,
            not_before=not_before,
            attempts=OutboxRow.attempts + 1,
            last_error=error[:2000],
            claimed_until=None,
            claimed_by=None,
        )

    def _update_claimed(self, entry_id: int, holder: str, **values: object) -> None:
        with self._session() as s, s.begin():
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry_id, OutboxRow.claimed_by == holder)
                .values(**values)
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
        """(pending entries, creation time of the oldest, UTC) for health and metrics."""
        with self._session() as s:
            count, oldest = s.execute(
                select(func.count(), func.min(OutboxRow.created_at)).where(
                    OutboxRow.state == "pending"
                )
            ).one()
        return int(count or 0), aware_utc(oldest)

    def outbox_entries(self, request_id: int | None = None) -> list[OutboxEntry]:
        """Every outbox entry (of one request), oldest first; for tests and operators."""
        query = select(OutboxRow).order_by(OutboxRow.id)
        if request_id is not None:
            query = query.where(OutboxRow.request_id == request_id)
        with self._session() as s:
            return [outbox_entry(row) for row in s.scalars(query)]
