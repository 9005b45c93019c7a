"""Audit events on their way in: each committed event is also one JSON line on the
``jitbot.audit`` logger (for a SIEM); events of a rolled-back transaction never are.

The ORM's new :class:`AuditEventRow` objects are collected before each flush; events
written with a Core statement (:func:`add_audit`, the hot path) are collected by hand.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, sessionmaker

from storage.auditchain import link
from storage.convert import audit_dict
from storage.models import AuditEventRow

audit_log = logging.getLogger("jitbot.audit")

_INSERT_AUDIT = insert(AuditEventRow.__table__)


def install(sessions: sessionmaker[Session]) -> None:
    """Have the sessions of ``sessions`` log their committed audit events."""
    event.listen(sessions, "before_flush", _collect_audit)
    event.listen(sessions, "after_commit", _log_audit)
    event.listen(sessions, "after_rollback", _forget_audit)


def add_audit(s: Session, event: AuditEventRow) -> None:
    """Link ``event`` (a transient row) into the hash chain (:func:`storage.auditchain.link`),
    insert it with a Core statement and have it logged on commit like the events the ORM
    flushes (see :func:`_collect_audit`). Every audit write goes through here."""
    link(s, event)
    s.execute(
        _INSERT_AUDIT,
        {
            "id": event.id,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
            "at": event.at,
            "request_id": event.request_id,
            "actor": event.actor,
            "action": event.action,
            "detail": event.detail,
        },
    )
    s.info.setdefault("audit", []).append(event)


def _collect_audit(session: Session, _context: Any, _instances: Any) -> None:
    session.info.setdefault("audit", []).extend(
        o for o in session.new if isinstance(o, AuditEventRow)
    )


def _log_audit(session: Session) -> None:
    events = session.info.pop("audit", [])
    if events and audit_log.isEnabledFor(logging.INFO):
        for row in events:
            audit_log.info(json.dumps(audit_dict(row), default=str, sort_keys=True))


def _forget_audit(session: Session) -> None:
    session.info.pop("audit", None)
