"""The SQL store: one class with every query, composed of one class per port.

:class:`SqlStore` is what the composition root builds; it implements
:class:`workflows.ports.Store`, :class:`workflows.ports.HomeQueries`, the outbox's
:class:`workflows.outbox.OutboxStore` and the ports of :mod:`bot.outbox_worker` and
:mod:`bot.metrics`, :class:`workflows.ports.BindingStore`, and
:class:`workflows.services.live_sessions.LiftStore`. Each method is one
transaction.
"""

from __future__ import annotations

from storage.audit import SqlAudit
from storage.auditlog import audit_log
from storage.bindings import SqlBindings
from storage.convert import audit_dict
from storage.counts import SqlCounts
from storage.deliveries import SqlDeliveries
from storage.due import SqlDueWork
from storage.extensions import SqlExtensions
from storage.home import SqlHomeQueries
from storage.leases import REPLICA_LEASE_PREFIX, LeaseClaim, SqlLeases
from storage.lifts import SqlLifts
from storage.outbox import SqlOutbox
from storage.reloads import SqlReloads
from storage.reminders import SqlReminders
from storage.requests import SqlRequests
from storage.transitions import SqlTransitions
from workflows.records import OutboxEntry

__all__ = [
    "REPLICA_LEASE_PREFIX",
    "LeaseClaim",
    "OutboxEntry",
    "SqlStore",
    "audit_dict",
    "audit_log",
]


class SqlStore(
    SqlRequests,
    SqlTransitions,
    SqlDueWork,
    SqlHomeQueries,
    SqlAudit,
    SqlOutbox,
    SqlLeases,
    SqlCounts,
    SqlDeliveries,
    SqlBindings,
    SqlLifts,
    SqlReloads,
    SqlExtensions,
    SqlReminders,
):
    """Requests and their history in a SQL database (see :mod:`storage.models`):
    ``SqlStore(engine)``."""
