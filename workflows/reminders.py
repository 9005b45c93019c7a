"""Reminders and escalation of a pending request (issue 19, point 3): when the approvers
who have not acted are reminded, when the request also goes to the escalation approvers,
and whom a reminder or a nudge is for. Pure: no clock, no I/O.

The schedule counts from the request's ``requested_at``: the first reminder after
``first``, each next one ``backoff`` times the previous gap later (30 m, then 60 m more,
then 120 m more, ...). A bot that was down past several reminders sends one when it is
back (:meth:`ReminderPlan.rounds_due` counts the rounds passed; the store claims them
all at once), never a burst. Escalation is at ``requested_at + escalate_after``, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from workflows.domain import AccessRequest, MessageRole, Outgoing, Stage
from workflows.states import Status

#: The statuses a request is reminded in, and the stage and root role deciding each.
REMINDED: dict[Status, tuple[Stage, MessageRole]] = {
    Status.PENDING: (Stage.SINGLE, MessageRole.APPROVER),
    Status.PENDING_OWNER: (Stage.OWNER, MessageRole.APPROVER),
    Status.PENDING_ADMIN: (Stage.ADMIN, MessageRole.ADMIN_APPROVER),
}
#: The statuses a request is escalated in (a custom request's admin stage is the
#: admins' already).
ESCALATED = (Status.PENDING, Status.PENDING_OWNER)
#: Most rounds counted (a backoff of 1 and a tiny ``first`` would loop for long).
_ROUNDS_MAX = 1000


@dataclass(frozen=True)
class ReminderState:
    """What the store keeps of a request's reminders: ``rounds`` of the schedule claimed
    so far, when the last reminder, the escalation and the requester's last nudge were
    (aware UTC, None: never)."""

    request_id: int
    rounds: int = 0
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    nudged_at: datetime | None = None


@dataclass(frozen=True)
class ReminderPlan:
    """``reminders:`` of the config: ``first`` gap, ``backoff`` factor (≥ 1) and
    ``escalate_after`` (from the request's submission)."""

    first: timedelta
    backoff: float
    escalate_after: timedelta

    def due_at(self, start: datetime, rounds: int) -> datetime:
        """When reminder number ``rounds + 1`` falls due for a request made at ``start``."""
        gap, total = self.first, timedelta(0)
        for _ in range(rounds + 1):
            total += gap
            gap = gap * self.backoff
        return start + total

    def rounds_due(self, start: datetime, rounds: int, now: datetime) -> int:
        """How many rounds of the schedule have passed at ``now`` (≥ ``rounds``)."""
        passed = rounds
        while passed < _ROUNDS_MAX and self.due_at(start, passed) <= now:
            passed += 1
        return passed

    def escalate_at(self, start: datetime) -> datetime:
        """When a request made at ``start`` goes to the escalation approvers."""
        return start + self.escalate_after


def acted(request: AccessRequest, stage: Stage) -> set[str]:
    """Slack user ids of those who reviewed ``request`` at ``stage`` already."""
    return {r.reviewer.slack_id for r in request.reviews if r.stage == stage}


def waiting_on(request: AccessRequest) -> tuple[str, ...]:
    """Slack user ids of the people whose root message of the current stage is still
    waiting for them (not the requester, not who reviewed this stage), and the ids of
    approvals channels the request was posted in, in message order; empty when the
    request is not pending."""
    found = REMINDED.get(request.status)
    if found is None:
        return ()
    stage, role = found
    done = acted(request, stage) | {request.requester.slack_id}
    # an approvals channel's message (its "person" is the channel id) stands for the
    # approvers of whichever stage is current: its thread is reminded too
    ids = (
        ref.slack_user_id
        for ref in request.messages
        if ref.role == role or ref.role == MessageRole.CHANNEL
    )
    return tuple(dict.fromkeys(i for i in ids if i not in done))


def escalation_targets(
    request: AccessRequest, named: Iterable[str], *, allow_self: bool
) -> tuple[str, ...]:
    """Of ``named`` (Slack user ids the escalation names), those to DM: not already
    sent the request at this stage, not the requester (unless self-approval is on)."""
    have = {ref.slack_user_id for ref in request.messages if ref.role == MessageRole.APPROVER}
    return tuple(
        dict.fromkeys(
            i for i in named if i not in have and (allow_self or i != request.requester.slack_id)
        )
    )


@dataclass(frozen=True)
class ReminderClaim:
    """One reminder, escalation or nudge to claim for ``request_id`` while it is
    ``status`` at ``now`` (aware UTC): on winning, the store writes the audit event
    (``actor``, ``action``, ``detail``) and ``outbox`` in the claim's transaction."""

    request_id: int
    status: Status
    now: datetime
    actor: str
    action: str
    detail: dict[str, Any]
    outbox: tuple[Outgoing, ...] = ()


@runtime_checkable
class ReminderStore(Protocol):
    """Where pending requests' reminders are (:mod:`workflows.reminders`), each change a
    compare-and-set that writes its audit event and notices when it wins
    (:mod:`storage.reminders`)."""

    def reminder_states(self, request_ids: Sequence[int]) -> dict[int, ReminderState]:
        """The state of each request (a fresh one for a request never reminded)."""
        ...

    def reminder_state(self, request_id: int) -> ReminderState: ...

    def claim_reminder(self, claim: ReminderClaim, rounds: int, to_rounds: int) -> bool:
        """Move the schedule from ``rounds`` to ``to_rounds``; False when it moved first."""
        ...

    def claim_escalation(self, claim: ReminderClaim) -> bool:
        """Mark the request escalated at ``claim.now``, once."""
        ...

    def claim_nudge(self, claim: ReminderClaim, since: datetime) -> bool:
        """Record a nudge unless the last one was after ``since``."""
        ...
