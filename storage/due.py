"""The scheduler's queries in SQL: requests whose session or approval window is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from storage.base import SqlSessions
from storage.models import RequestRow, SessionRow
from workflows.domain import AccessRequest
from workflows.states import PENDING_STATUSES, Status


class SqlDueWork(SqlSessions):
    """Which requests need the scheduler's attention, and when it should next look."""

    def with_status(self, status: Status) -> list[AccessRequest]:
        """Every request in ``status``, in id order."""
        return self._requests(
            select(RequestRow).where(RequestRow.status == status.value).order_by(RequestRow.id)
        )

    def active_ending_before(self, when: datetime) -> list[AccessRequest]:
        """Active requests whose session ends at or before ``when``, soonest first."""
        return self._requests(
            select(RequestRow)
            .join(SessionRow)
            .where(RequestRow.status == Status.ACTIVE.value, SessionRow.expires_at <= when)
            .order_by(SessionRow.expires_at)
        )

    def pending_past_deadline(self, when: datetime) -> list[AccessRequest]:
        """Pending requests (any stage) whose approval deadline is at or before ``when``,
        earliest deadline first."""
        return self._requests(
            select(RequestRow)
            .where(
                RequestRow.status.in_([s.value for s in PENDING_STATUSES]),
                RequestRow.approval_deadline <= when,
            )
            .order_by(RequestRow.approval_deadline)
        )

    def unwarned_ending_before(self, when: datetime) -> list[AccessRequest]:
        """Active requests not yet warned of their end (``expiry_warned_at`` empty) whose
        session ends at or before ``when``, soonest first (:mod:`workflows.services.
        warning` asks with ``now + expiry_warning``)."""
        return self._requests(
            select(RequestRow)
            .join(SessionRow)
            .where(
                RequestRow.status == Status.ACTIVE.value,
                RequestRow.expiry_warned_at.is_(None),
                SessionRow.expires_at <= when,
            )
            .order_by(SessionRow.expires_at)
        )

    def _warning_times(self, now: datetime, warning: timedelta) -> list[datetime]:
        """Future expiry warnings of unwarned active sessions long enough to get one."""
        with self._session() as s:
            rows = s.execute(
                select(SessionRow.granted_at, SessionRow.expires_at)
                .join(RequestRow)
                .where(
                    RequestRow.status == Status.ACTIVE.value,
                    RequestRow.expiry_warned_at.is_(None),
                    SessionRow.expires_at > now + warning,
                )
            ).all()
        return [ends - warning for granted, ends in rows if ends - granted >= 2 * warning]

    def upcoming_deadlines(
        self, now: datetime, expiry_warning: timedelta | None = None
    ) -> list[datetime]:
        """Future ``expires_at`` of active sessions and approval deadlines of pending
        requests (UTC, sorted), for the scheduler's date triggers; with
        ``expiry_warning``, also when each unwarned session's warning falls due."""
        with self._session() as s:
            ends = s.scalars(
                select(SessionRow.expires_at)
                .join(RequestRow)
                .where(RequestRow.status == Status.ACTIVE.value, SessionRow.expires_at > now)
            ).all()
            deadlines = s.scalars(
                select(RequestRow.approval_deadline).where(
                    RequestRow.status.in_([s.value for s in PENDING_STATUSES]),
                    RequestRow.approval_deadline > now,
                )
            ).all()
        warnings = self._warning_times(now, expiry_warning) if expiry_warning else []
        return sorted([*ends, *deadlines, *warnings])
