"""Counts for metrics and health in SQL: requests by status, the most overdue session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.base import SqlSessions
from storage.convert import aware_utc
from storage.models import RequestRow, SessionRow
from workflows.states import PENDING_STATUSES, Status


class SqlCounts(SqlSessions):
    """The operational counts :mod:`bot.metrics` exports."""

    def status_counts(self) -> dict[Status, int]:
        """How many requests are in each status (statuses without any are left out)."""
        with self._session() as s:
            rows = s.execute(
                select(RequestRow.status, func.count()).group_by(RequestRow.status)
            ).all()
        return {Status(status): int(n) for status, n in rows}

    def requester_load(self, slack_user_id: str, since: datetime) -> tuple[int, int]:
        """``(pending, recent)``: the requester's requests in a pending status, and those
        requested at or after ``since`` (UTC), for the per-person limits."""
        pending = [s.value for s in PENDING_STATUSES]
        mine = RequestRow.requester_slack_id == slack_user_id
        with self._session() as s:
            waiting = s.scalar(select(func.count()).where(mine, RequestRow.status.in_(pending)))
            recent = s.scalar(select(func.count()).where(mine, RequestRow.requested_at >= since))
        return int(waiting or 0), int(recent or 0)

    def oldest_overdue_session(self, now: datetime) -> datetime | None:
        """The earliest ``expires_at`` (UTC) of a session still Active at ``now`` although
        it should have ended; None when access is ending on time."""
        with self._session() as s:
            oldest = s.scalar(
                select(func.min(SessionRow.expires_at))
                .join(RequestRow)
                .where(RequestRow.status == Status.ACTIVE.value, SessionRow.expires_at <= now)
            )
        return aware_utc(oldest)
