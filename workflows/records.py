"""What the store returns besides requests: outbox entries and audit events.

The shapes the ports in :mod:`workflows.ports` and :mod:`workflows.outbox` return, so
no port is typed ``Any``; :mod:`storage` builds them from its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from workflows.domain import Outgoing, OutgoingKind


@dataclass(frozen=True)
class OutboxEntry:
    """One claimed (or listed) outbox entry: what to send and which targets are done.

    ``state`` is ``pending``, ``sent`` or ``dead``; ``progress`` lists the targets
    (thread roots, admins) already delivered; ``created_at`` is UTC; ``last_error`` the
    reason of the last deferral, or of its death."""

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


class AuditEvent(TypedDict):
    """One audit event as :meth:`~workflows.ports.Store.audit_events` returns it: ``at``
    is an aware UTC datetime; ``detail`` the action's JSON object (or None)."""

    at: datetime
    request_id: int | None
    actor: str
    action: str
    detail: dict[str, Any] | None


class AuditRecord(TypedDict):
    """One audit event as exported (``jitbot audit-export``, the ``jitbot.audit`` log):
    its ``id`` and ``at`` in ISO 8601 UTC, ready for JSON."""

    id: int
    at: str
    request_id: int | None
    actor: str
    action: str
    detail: dict[str, Any] | None


class RequesterStats(TypedDict):
    """One requester's ``active``, ``pending`` (any pending stage) and ``total`` requests."""

    active: int
    pending: int
    total: int
