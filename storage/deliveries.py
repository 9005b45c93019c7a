"""Signed Slack requests already taken, remembered for Slack's 5-minute signature window,
so a replayed capture (or Slack's own retry) reaching any replica is dropped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from storage.base import SqlSessions
from storage.models import DeliveryRow


class SqlDeliveries(SqlSessions):
    """The ``deliveries`` table: one row per accepted request body digest."""

    def remember_delivery(self, digest: str, now: datetime, until: datetime) -> bool:
        """Record ``digest`` (hex SHA-256 of a signed body) as taken until ``until``
        (UTC); True when it is new, False when some replica already took it. Rows past
        their ``until`` are dropped on the way."""
        try:
            with self._session() as s, s.begin():
                s.execute(delete(DeliveryRow).where(DeliveryRow.until < now))
                s.add(DeliveryRow(digest=digest, until=until))
        except IntegrityError:
            return False
        return True
