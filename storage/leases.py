"""Leases in SQL (design §5): who may change one thing right now, until when.

A lease is taken by compare-and-set (free, run out, or already the holder's), so it is
safe across replicas; each live replica also holds a presence lease on itself
(:data:`REPLICA_LEASE_PREFIX` + its name), renewed by its heartbeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.base import SqlSessions
from storage.models import LeaseRow, OutboxRow

#: Key prefix of the lease each live replica holds on itself (see
#: :meth:`SqlLeases.live_replicas`); the holder's name follows it.
REPLICA_LEASE_PREFIX = "replica:"

_leases_t = LeaseRow.__table__
_TAKE_LEASE = (
    update(_leases_t)
    .where(
        _leases_t.c.key == bindparam("key_"),
        or_(_leases_t.c.until < bindparam("now_"), _leases_t.c.holder == bindparam("holder_")),
    )
    .values(holder=bindparam("holder_"), until=bindparam("until_"))
)
_RELEASE_LEASE = delete(_leases_t).where(
    _leases_t.c.key == bindparam("key_"), _leases_t.c.holder == bindparam("holder_")
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


@dataclass(frozen=True)
class LeaseClaim:
    """A lease to take: ``key`` for ``holder`` until ``until``, if free at ``now`` (UTC)."""

    key: str
    holder: str
    now: datetime
    until: datetime


def claim_lease_in(s: Session, claim: LeaseClaim) -> bool:
    """Take or extend a lease in the caller's transaction (see
    :meth:`SqlLeases.claim_lease`): one upsert on SQLite and PostgreSQL; elsewhere an
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


class SqlLeases(SqlSessions):
    """Leases and replica presence (:class:`LeaseRow`)."""

    def claim_lease(self, key: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or extend the lease on ``key`` for ``holder`` until ``until`` (UTC): it
        succeeds when nobody holds it, the holder's lease ran out before ``now``, or
        ``holder`` already holds it. Compare-and-set, safe across replicas."""
        with self._session() as s, s.begin():
            return claim_lease_in(s, LeaseClaim(key, holder, now, until))

    def release_lease(self, key: str, holder: str) -> None:
        """Give up ``holder``'s lease on ``key`` (nothing when another holds it)."""
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
