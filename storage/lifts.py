"""Pending lifts of ended sign-ins' deny statements in SQL (:class:`LiftRow`),
implementing :class:`workflows.services.live_sessions.LiftStore`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from storage.base import SqlSessions
from storage.models import LiftRow
from workflows.services.live_policy import PendingLift


class SqlLifts(SqlSessions):
    """The deny statements to take out later, by Sid."""

    def add_lift(self, lift: PendingLift) -> None:
        """Store ``lift``; a Sid stored already (the same statement) is left as it is."""
        try:
            with self._session() as s, s.begin():
                s.add(
                    LiftRow(
                        sid=lift.sid,
                        request_id=lift.request_id,
                        permission_set_arn=lift.permission_set_arn,
                        account_id=lift.account_id,
                        principal_id=lift.principal_id,
                        due_at=lift.due_at,
                    )
                )
        except IntegrityError:
            pass

    def lifts_due(self, now: datetime) -> list[PendingLift]:
        """Lifts due at or before ``now`` (aware UTC), earliest first."""
        query = select(LiftRow).where(LiftRow.due_at <= now).order_by(LiftRow.due_at)
        with self._session() as s:
            return [
                PendingLift(
                    r.sid,
                    r.request_id,
                    r.permission_set_arn,
                    r.account_id,
                    r.principal_id,
                    r.due_at,
                )
                for r in s.scalars(query)
            ]

    def drop_lift(self, sid: str) -> bool:
        """Forget the lift ``sid``; False when another replica did first."""
        with self._session() as s, s.begin():
            return s.execute(delete(LiftRow).where(LiftRow.sid == sid)).rowcount > 0
