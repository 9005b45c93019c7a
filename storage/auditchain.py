"""The audit trail as a hash chain: each event carries the SHA-256 of its own fields and
of the previous event's hash, so changing or removing any event breaks every link after
it, and :func:`verify` names the first broken one (``jitbot audit verify``).

Appends are serialized by updating the one ``audit_head`` row first in the writing
transaction (a row lock on PostgreSQL, the database's write lock on SQLite), so two
replicas never link to the same predecessor. The database triggers of
:mod:`storage.db` refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE; the chain catches what
someone who owns the tables does anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from storage.models import AuditEventRow

#: The "previous hash" of the first event.
GENESIS = "0" * 64

_TAKE_HEAD = text(
    "UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_hash"
)
_MOVE_HEAD = text("UPDATE audit_head SET last_id = :last_id, last_hash = :last_hash WHERE id = 1")


def _utc_text(at: datetime | str) -> str:
    """``at`` as naive-UTC ISO 8601 with microseconds, however the driver returned it."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def event_hash(
    prev_hash: str,
    event_id: int,
    at: datetime | str,
    request_id: int | None,
    actor: str,
    action: str,
    detail: Any,
) -> str:
    """The hex SHA-256 of an event's fields and ``prev_hash``, over canonical JSON."""
    fields = [prev_hash, event_id, _utc_text(at), request_id, actor, action, detail]
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def link(s: Session, event: AuditEventRow) -> None:
    """Give ``event`` (not yet inserted) its id, ``prev_hash`` and ``hash``, and move the
    chain's head to it, in ``s``'s transaction; the caller inserts it in the same one.
    Raises ``RuntimeError`` when the schema has no chain head (not migrated)."""
    head = s.execute(_TAKE_HEAD).first()
    if head is None:
        raise RuntimeError("audit_head is missing: run `jitbot db upgrade`")
    event.id = head.last_id + 1
    event.prev_hash = head.last_hash
    event.hash = event_hash(
        head.last_hash,
        event.id,
        event.at,
        event.request_id,
        event.actor,
        event.action,
        event.detail,
    )
    s.execute(_MOVE_HEAD, {"last_id": event.id, "last_hash": event.hash})


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: ``checked`` events; ``problem`` (None when the chain
    holds) names the first event that was altered, or the place events were removed;
    ``last_id``/``last_hash`` let an operator compare the end with a copy kept elsewhere
    (removing the newest events leaves a shorter chain that still holds)."""

    checked: int
    problem: str | None
    last_id: int
    last_hash: str


def _rows(engine: Engine) -> Iterator[AuditEventRow]:
    with Session(engine) as s:
        query = select(AuditEventRow).order_by(AuditEventRow.id)
        yield from s.scalars(query.execution_options(yield_per=1000))


def verify(engine: Engine) -> Verdict:
    """Walk the audit events in id order and check every link and hash."""
    prev_id, prev_hash, checked = 0, GENESIS, 0
    for row in _rows(engine):
        if row.id != prev_id + 1 or row.prev_hash != prev_hash:
            problem = f"event(s) removed between #{prev_id} and #{row.id}"
            return Verdict(checked, problem, prev_id, prev_hash)
        fields = (row.id, row.at, row.request_id, row.actor, row.action, row.detail)
        if row.hash != event_hash(prev_hash, *fields):
            return Verdict(checked, f"event #{row.id} was altered", prev_id, prev_hash)
        prev_id, prev_hash, checked = row.id, row.hash, checked + 1
    with engine.connect() as conn:
        head = conn.execute(text("SELECT last_id, last_hash FROM audit_head")).first()
    if head is not None and (head.last_id, head.last_hash) != (prev_id, prev_hash):
        problem = f"the newest event(s) after #{prev_id} were removed (head is #{head.last_id})"
        return Verdict(checked, problem, prev_id, prev_hash)
    return Verdict(checked, None, prev_id, prev_hash)
