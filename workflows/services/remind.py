"""Reminders, escalation and nudges of pending requests (issue 19, point 3).

The sweep calls :meth:`Reminding.remind_due`: each pending request whose next reminder
fell due has the approvers who have not acted reminded in their threads
(:func:`workflows.reminders.waiting_on`), and one nobody acted on by
``reminders.escalate_after`` also goes, as an approval DM with its buttons (role
APPROVER: the escalation approvers decide at the same stage as its approvers), to its
rule's ``escalation:`` people (default the SSO admins and admins); the requester is
told. :meth:`Reminding.nudge` is the requester's Nudge button, at most once per
``reminders.first``. Every step is claimed by compare-and-set in the store with its
audit event (``reminded``, ``escalated``, ``nudged``) and notices in one transaction,
so two replicas send each once, and a bot back from a crash sends what fell due once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from workflows.access_rules import DEFAULT_ESCALATION
from workflows.domain import AccessRequest, MessageRole, Notice, NoticeKind, Outgoing, Person
from workflows.durations import duration_label
from workflows.errors import NotAuthorized
from workflows.reminders import (
    ESCALATED,
    REMINDED,
    ReminderClaim,
    ReminderPlan,
    ReminderState,
    ReminderStore,
    escalation_targets,
    waiting_on,
)
from workflows.rulebook import approver_ids
from workflows.services.authority import Authority
from workflows.services.hooks import Hooks
from workflows.states import Status

log = logging.getLogger("jitbot.workflows")


class TooSoon(NotAuthorized):
    """A nudge within ``reminders.first`` of the last one; the message says when."""


class _Requests(Protocol):
    def with_status(self, status: Status) -> list[AccessRequest]: ...


class RemindStore(_Requests, ReminderStore, Protocol):
    """The store as reminders need it: pending requests and their reminder claims."""


def waited(span: timedelta) -> str:
    """A wait in words, to the minute (to the second under a minute): ``"30 minutes"``."""
    seconds = max(0, int(span.total_seconds()))
    whole = timedelta(seconds=seconds) if seconds < 60 else timedelta(minutes=seconds // 60)
    return duration_label(whole)


@dataclass(frozen=True)
class Reminding:
    """Reminds, escalates and nudges over ``store`` with the rules of ``authority``;
    ``plan`` is the config's ``reminders:``; ``hooks`` have the outbox deliver."""

    store: RemindStore
    authority: Authority
    plan: ReminderPlan
    hooks: Hooks
    #: (request id, moment) of the sweeps asked for, so each is asked for once
    _asked: set[tuple[int, datetime]] = field(default_factory=set, compare=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def remind_due(self, now: datetime) -> None:
        """Escalate and remind every pending request due at ``now`` (aware UTC), and ask
        for a sweep at each one's next reminder and escalation (the interval sweep would
        find them too, up to ``sweep_interval`` late). A request past its approval
        deadline is left to the time-out. Errors of one request are logged and retried
        at the next sweep."""
        pending = [r for status in REMINDED for r in self.store.with_status(status)]
        states = self.store.reminder_states([r.id for r in pending])
        for request in pending:
            if request.approval_deadline <= now:
                continue
            try:
                self.escalate_if_due(request, states[request.id], now)
                self.remind_if_due(request, states[request.id], now)
            except Exception:  # keep going; the next sweep retries this one
                log.exception("sweep: reminders of request %s failed", request.id)
        self._wake_for(pending, states, now)

    def _wake_for(
        self, pending: list[AccessRequest], states: dict[int, ReminderState], now: datetime
    ) -> None:
        """Ask once for a sweep at each pending request's next reminder and escalation
        (as known before this sweep: a claim asks for the one after itself)."""
        wanted = set()
        for request in pending:
            state, start = states[request.id], request.requested_at
            wanted.add((request.id, self.plan.due_at(start, state.rounds)))
            if state.escalated_at is None and request.status in ESCALATED:
                wanted.add((request.id, self.plan.escalate_at(start)))
        with self._guard:
            self._asked.intersection_update(wanted | {w for w in self._asked if w[1] > now})
        self._ask(wanted, now)

    def _ask(self, wanted: set[tuple[int, datetime]], now: datetime) -> None:
        """``hooks.wake_at`` each future moment of ``wanted`` not asked for yet."""
        with self._guard:
            new = {w for w in wanted if w[1] > now and w not in self._asked}
            self._asked.update(new)
        for _request_id, when in sorted(new, key=lambda w: w[1]):
            self.hooks.wake_at(when)

    def remind_if_due(self, request: AccessRequest, state: ReminderState, now: datetime) -> bool:
        """Remind the approvers of ``request`` who have not acted if a round fell due by
        ``now``; True when this replica sent it."""
        start = request.requested_at
        if self.plan.due_at(start, state.rounds) > now:
            return False
        to_rounds = self.plan.rounds_due(start, state.rounds, now)
        targets = waiting_on(request)
        notice = Notice(NoticeKind.REMINDER, waited(now - start), to=targets)
        claim = ReminderClaim(
            request.id,
            request.status,
            now,
            "jitbot",
            "reminded",
            {"round": to_rounds, "approvers": list(targets)},
            (Outgoing.announce(notice),) if targets else (),
        )
        if not self.store.claim_reminder(claim, state.rounds, to_rounds):
            return False
        self.hooks.kick()
        self._ask({(request.id, self.plan.due_at(start, to_rounds))}, now)
        return True

    def escalate_if_due(self, request: AccessRequest, state: ReminderState, now: datetime) -> bool:
        """Send ``request`` to its escalation approvers if nobody acted by
        ``escalate_after``; True when this replica did."""
        if request.status not in ESCALATED or state.escalated_at is not None:
            return False
        if self.plan.escalate_at(request.requested_at) > now:
            return False
        applied = self.authority.rule_of(request)
        rules = self.authority.rules()
        named = approver_ids(
            replace(applied, approvers=applied.escalation),
            rules,
            self.authority.lookups,
            request.account_id,
        )
        targets = escalation_targets(request, named, allow_self=rules.allow_self_approval)
        who = (
            "the SSO admins and admins"
            if applied.escalation == DEFAULT_ESCALATION
            else "more approvers (" + ", ".join(str(ref) for ref in applied.escalation) + ")"
        )
        told = Notice(
            NoticeKind.ESCALATED,
            waited(self.plan.escalate_after),
            by=who,
            # the requester's thread, and each escalation DM's (which says why it came)
            to=(request.requester.slack_id, *targets),
        )
        outbox = [Outgoing.approval(t, MessageRole.APPROVER, last=False) for t in targets]
        claim = ReminderClaim(
            request.id,
            request.status,
            now,
            "jitbot",
            "escalated",
            {"to": list(targets), "after_seconds": int(self.plan.escalate_after.total_seconds())},
            (*outbox, Outgoing.announce(told)) if targets else (),
        )
        if not self.store.claim_escalation(claim):
            return False
        self.hooks.kick()
        return True

    def nudge(self, request_id: int, actor: Person, now: datetime) -> int:
        """The requester's Nudge: remind the approvers who have not acted of their
        pending request, at most once per ``reminders.first``; returns how many.

        Raises:
            UnknownRequest: no such request, or not one ``actor`` may see.
            NotAuthorized: ``actor`` is not its requester, it is not pending, or
                nobody is left waiting on; :class:`TooSoon` within the interval.
        """
        request = self.authority.own(request_id, actor, "nudge this request's approvers")
        if request.status not in REMINDED:
            raise NotAuthorized(
                f"Request #{request.id} is {request.status_label}: there is nobody to nudge."
            )
        targets = waiting_on(request)
        if not targets:
            raise NotAuthorized("Every approver of this request has already answered.")
        claim = ReminderClaim(
            request.id,
            request.status,
            now,
            actor.slack_id,
            "nudged",
            {"approvers": list(targets), "actor_email": actor.email},
            (Outgoing.announce(Notice(NoticeKind.NUDGED, by=actor.name, to=targets)),),
        )
        if not self.store.claim_nudge(claim, since=now - self.plan.first):
            last = self.store.reminder_state(request.id).nudged_at
            if last is not None and last + self.plan.first > now:
                raise TooSoon(
                    "You nudged the approvers recently. You can nudge again in "
                    f"{waited(last + self.plan.first - now)}."
                )
            raise NotAuthorized("This request is no longer pending: there is nobody to nudge.")
        self.hooks.kick()
        return len(targets)
