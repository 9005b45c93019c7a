"""Reminders in SQL (:class:`ReminderRow`): each reminder round, escalation and nudge of
a request is claimed by compare-and-set while the request is still in the status it
was seen in, with its audit event and Slack notices in the same transaction, so two
replicas sweeping at once send each one once (:mod:`workflows.services.remind`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.auditlog import add_audit
from storage.base import SqlSessions
from storage.models import AuditEventRow, ReminderRow, RequestRow
from storage.outbox import enqueue_in
from workflows.reminders import ReminderClaim, ReminderState


def _state(row: ReminderRow) -> ReminderState:
    return ReminderState(
        row.request_id, row.rounds, row.reminded_at, row.escalated_at, row.nudged_at
    )


class SqlReminders(SqlSessions):
    """Where each pending request's reminders are, and the claims that move them."""

    def reminder_states(self, request_ids: Sequence[int]) -> dict[int, ReminderState]:
        """The state of each of ``request_ids`` (a fresh one for a request never reminded)."""
        found = {i: ReminderState(i) for i in request_ids}
        if not request_ids:
            return found
        with self._session() as s:
            query = select(ReminderRow).where(ReminderRow.request_id.in_(list(request_ids)))
            found.update({row.request_id: _state(row) for row in s.scalars(query)})
        return found

    def reminder_state(self, request_id: int) -> ReminderState:
        """:meth:`reminder_states` of one request."""
        return self.reminder_states([request_id])[request_id]

    def claim_reminder(self, claim: ReminderClaim, rounds: int, to_rounds: int) -> bool:
        """Move the request's schedule from ``rounds`` to ``to_rounds`` (the rounds passed
        by now: one reminder however many fell due while the bot was down). False, and
        nothing written, when another replica moved it first or the status changed."""
        return self._claim(
            claim,
            ReminderRow.rounds == rounds,
            {"rounds": to_rounds, "reminded_at": claim.now},
        )

    def claim_escalation(self, claim: ReminderClaim) -> bool:
        """Mark the request escalated at ``claim.now``, once."""
        return self._claim(claim, ReminderRow.escalated_at.is_(None), {"escalated_at": claim.now})

    def claim_nudge(self, claim: ReminderClaim, since: datetime) -> bool:
        """Record the requester's nudge at ``claim.now`` unless they nudged after
        ``since`` (UTC) already."""
        return self._claim(
            claim,
            or_(ReminderRow.nudged_at.is_(None), ReminderRow.nudged_at <= since),
            {"nudged_at": claim.now},
        )

    def _claim(
        self, claim: ReminderClaim, expect: ColumnElement[bool], values: dict[str, object]
    ) -> bool:
        """Compare-and-set the request's row (made first if it has none: a duplicate
        key from another replica's insert is undone in a savepoint) while the request is
        ``claim.status``; on winning, the audit event and outbox in the same commit."""
        still = (
            select(RequestRow.id)
            .where(RequestRow.id == claim.request_id, RequestRow.status == claim.status.value)
            .exists()
        )
        with self._session() as s, s.begin():
            if s.get(ReminderRow, claim.request_id) is None:
                try:
                    with s.begin_nested():
                        s.add(ReminderRow(request_id=claim.request_id, rounds=0))
                except IntegrityError:
                    pass  # another replica made it first; the update below decides
            won = s.execute(
                update(ReminderRow)
                .where(ReminderRow.request_id == claim.request_id, expect, still)
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won != 1:
                return False
            event = AuditEventRow(
                at=claim.now,
                request_id=claim.request_id,
                actor=claim.actor,
                action=claim.action,
                detail=claim.detail,
            )
            add_audit(s, event)
            enqueue_in(s, claim.request_id, claim.outbox, claim.now)
            return True
