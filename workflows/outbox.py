"""Delivering the outbox: the Slack notices the services wrote with their state changes.

The services never call Slack. Each state change writes, in its own transaction, the
notices that tell about it (:class:`~workflows.domain.Outgoing`); a Slack outage then
delays a notice and never loses it (design §6). :class:`OutboxDispatcher` claims due
entries with a lease (so two replicas never deliver one entry at once, and a crashed
replica's entry is taken over when its lease ends), hands them to a
:class:`DeliveryNotifier`, and records the outcome:

* delivered: the entry is marked sent. Entries with several targets (a reply in each
  thread, a DM to each admin) record each target as it is done, so a retry never posts
  twice to the same thread;
* :class:`DeliveryDeferred` (Slack answered 429, 5xx, or could not be reached): the
  entry waits ``Retry-After`` seconds, or backs off exponentially (capped), and is
  retried; it never gives up on an outage;
* :class:`DeliveryRefused` (Slack refused it for good, e.g. ``channel_not_found``): that
  target is skipped and logged; the rest of the entry goes on;
* any other error (a bug) defers the entry too, and after ``max_attempts`` marks it
  dead, so one bad entry cannot hold up its request's later notices forever.

A request's entries are delivered strictly in order (a reply never comes before the
root it replies to; the last re-render wins); different requests' entries in parallel.

Exactly once: a target is recorded done right after Slack answered. Only a crash in
the few milliseconds between Slack's answer and that record can repeat one message.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from workflows.domain import (
    AccessRequest,
    MessageRef,
    MessageRole,
    Notice,
    NoticeKind,
    Outgoing,
    OutgoingKind,
)
from workflows.outbox_channel import post_in_channel
from workflows.records import OutboxEntry
from workflows.runtime_ports import OutboxStore

log = logging.getLogger("jitbot.outbox")


class DeliveryDeferred(Exception):
    """Slack could not take the message now; try again after ``retry_after`` seconds
    (Slack's ``Retry-After``), or after a backoff when None."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryRefused(Exception):
    """Slack refused this message for good (the channel is gone, the user left...)."""


class DeliveryNotifier(Protocol):
    """Slack as the outbox needs it (:class:`bot.notifier.SlackNotifier`). Each method
    raises :class:`DeliveryDeferred` or :class:`DeliveryRefused` on failure."""

    def post_request_thread(self, request: AccessRequest) -> MessageRef | None:
        """DM the requester the request (the thread root); None if they are not in Slack."""
        ...

    def post_approval_request(
        self, request: AccessRequest, user: str, role: MessageRole = MessageRole.APPROVER
    ) -> MessageRef | None:
        """DM one approver the request: ``user`` is their Slack user id (an email in
        entries written before people were bound); None if they can't be DM'd."""
        ...

    def refresh(self, request: AccessRequest) -> None:
        """Re-render every root of the request from its current state (idempotent)."""
        ...

    def reply(self, request: AccessRequest, ref: MessageRef, notice: Notice) -> None:
        """Reply in one thread with the words for its audience (nothing if none)."""
        ...

    def alert_admin(
        self, user: str, text: str, confirm: dict[str, str | None] | None = None
    ) -> None:
        """DM one admin (a Slack user id) an alert, with a Confirm button for the
        rebinding ``confirm`` (``{"entry": …, "to": …}``) when given (nothing if they
        are not in Slack)."""
        ...


@dataclass
class Outcome:
    """What one :meth:`OutboxDispatcher.deliver_due` round did; ``pause`` (seconds) is
    how long Slack asked everyone to wait (a 429's ``Retry-After``, or an outage's
    backoff), None when it answered."""

    delivered: int = 0
    deferred: int = 0
    pause: float | None = None


@dataclass
class OutboxDispatcher:
    """Claims and delivers due outbox entries (see the module docstring).

    ``holder`` names this replica in claims; ``lease`` is how long a claim holds unless
    renewed; ``admins()`` gives the Slack user ids ALERT entries go to (the admins as
    bound now, :mod:`workflows.people`); ``max_backoff`` (seconds)
    caps the wait between tries while Slack is down. Times are UTC from ``clock``.
    """

    store: OutboxStore
    notifier: DeliveryNotifier
    admins: Callable[[], Sequence[str]]
    holder: str
    clock: Callable[[], datetime]
    lease: timedelta = timedelta(seconds=30)
    max_backoff: float = 30.0
    max_attempts: int = 10

    def deliver_due(
        self,
        limit: int = 8,
        *,
        run: Callable[[list[Callable[[], Outcome]]], list[Outcome]] | None = None,
    ) -> Outcome:
        """Claim up to ``limit`` due entries (at most one per request) and deliver them,
        through ``run`` (which may run the deliveries in parallel; in turn by default)."""
        now = self.clock()
        entries = self.store.claim_outbox(self.holder, now, now + self.lease, limit)
        jobs = [lambda entry=entry: self.deliver(entry) for entry in entries]
        results = run(jobs) if run is not None else [job() for job in jobs]
        total = Outcome()
        for result in results:
            total.delivered += result.delivered
            total.deferred += result.deferred
            if result.pause is not None:
                total.pause = max(total.pause or 0.0, result.pause)
        return total

    def deliver_all(self, rounds: int = 1000) -> int:
        """Deliver until nothing is due (for tests and one-shot commands); returns how
        many entries were delivered. Stops early when Slack defers."""
        delivered = 0
        for _ in range(rounds):
            outcome = self.deliver_due()
            delivered += outcome.delivered
            if outcome.delivered == 0 or outcome.deferred:
                break
        return delivered

    # -- one entry ------------------------------------------------------------------

    def deliver(self, entry: OutboxEntry) -> Outcome:
        """Deliver one claimed entry and record the outcome."""
        try:
            self._send(entry)
        except DeliveryDeferred as exc:
            wait = exc.retry_after if exc.retry_after is not None else self._backoff(entry.attempts)
            log.warning("outbox %s (%s) deferred %.1fs: %s", entry.id, entry.kind, wait, exc)
            self.store.outbox_defer(
                entry.id, self.holder, self.clock() + timedelta(seconds=wait), str(exc)
            )
            return Outcome(deferred=1, pause=wait)
        except Exception as exc:  # a bug: retry a few times, then let the queue move on
            log.exception("outbox %s (%s) failed", entry.id, entry.kind)
            if entry.attempts + 1 >= self.max_attempts:
                self.store.outbox_finish(entry.id, self.holder, self.clock(), dead=repr(exc))
            else:
                self.store.outbox_defer(
                    entry.id,
                    self.holder,
                    self.clock() + timedelta(seconds=self._backoff(entry.attempts)),
                    repr(exc),
                )
            return Outcome(deferred=1)
        self.store.outbox_finish(entry.id, self.holder, self.clock())
        return Outcome(delivered=1)

    def _backoff(self, attempts: int) -> float:
        """Exponential backoff with full jitter: 0.5, 1, 2, ... seconds, capped."""
        ceiling = min(self.max_backoff, 0.5 * 2**attempts)
        return max(0.25, random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not crypto

    def _send(self, entry: OutboxEntry) -> None:
        item: Outgoing = entry.item
        if item.kind == OutgoingKind.ALERT:
            text, confirm = item.payload["text"], item.payload.get("confirm")
            self._each(
                entry,
                list(self.admins()),
                lambda user: self.notifier.alert_admin(user, text, confirm),
            )
            return
        request = self.store.get(entry.request_id) if entry.request_id is not None else None
        if request is None:
            raise DeliveryRefused(f"request {entry.request_id} does not exist")
        if item.kind == OutgoingKind.THREAD:
            ref = self._refused_is_none(lambda: self.notifier.post_request_thread(request))
            if ref is not None:
                self.store.add_messages(request.id, [ref])
        elif item.kind == OutgoingKind.APPROVAL:
            role = MessageRole(item.payload.get("role", MessageRole.APPROVER.value))
            user = item.payload.get("user") or item.payload["email"]
            ref = self._refused_is_none(
                lambda: self.notifier.post_approval_request(request, user, role)
            )
            if ref is not None:
                self.store.add_messages(request.id, [ref])
            if item.payload.get("last"):
                self._check_reachable(request.id, role)
        elif item.kind == OutgoingKind.CHANNEL:
            try:
                post_in_channel(self.store, self.notifier, request, item.payload)
            except DeliveryRefused as exc:
                log.error("outbox %s: channel post refused: %s", entry.id, exc)
            if item.payload.get("last"):
                self._check_reachable(request.id, MessageRole.APPROVER)
        elif item.kind == OutgoingKind.REFRESH:
            if not self.store.outbox_has_later(entry):  # a later one renders the same
                self.notifier.refresh(request)
        elif item.kind == OutgoingKind.ANNOUNCE:
            notice = item.notice
            by_key = {f"{ref.channel}/{ref.ts}": ref for ref in request.messages}
            if notice.to:  # a notice for some people only (a reminder, say)
                by_key = {k: r for k, r in by_key.items() if r.slack_user_id in notice.to}
            self._each(
                entry, list(by_key), lambda key: self.notifier.reply(request, by_key[key], notice)
            )

    def _each(self, entry: OutboxEntry, targets: list[str], send: Callable[[str], None]) -> None:
        done = list(entry.progress)
        for target in targets:
            if target in done:
                continue
            try:
                send(target)
            except DeliveryRefused as exc:
                log.error("outbox %s: %s refused: %s", entry.id, target, exc)
            done.append(target)
            self.store.outbox_progress(entry.id, self.holder, done)

    @staticmethod
    def _refused_is_none(send: Callable[[], MessageRef | None]) -> MessageRef | None:
        try:
            return send()
        except DeliveryRefused as exc:
            log.error("outbox: message refused: %s", exc)
            return None

    def _check_reachable(self, request_id: int, role: MessageRole) -> None:
        """After the last approval DM of a stage: if no approver of that stage could be
        DM'd, say so (the requester, for the first stage) and alert the admins, rather
        than let the request sit unseen until its deadline."""
        request = self.store.get(request_id)
        roles = {role, MessageRole.CHANNEL} if role == MessageRole.APPROVER else {role}
        if request is None or any(ref.role in roles for ref in request.messages):
            return
        now = self.clock()
        if role == MessageRole.ADMIN_APPROVER:
            text = (
                f"Custom request #{request.id} ({request.requester.email} on "
                f"{request.account_label}) needs an SSO admin's approval, but no SSO admin "
                "or admin other than its owner approver could be reached in Slack."
            )
            items = [Outgoing.alert(text)]
        else:
            text = (
                f"Request #{request.id} ({request.requester.email} on {request.account_label}) "
                f"could not be sent to any approver in Slack: {', '.join(request.approvers)}. "
                "Check that these people are in the workspace (`jitbot check-config`)."
            )
            items = [
                Outgoing.announce(Notice(NoticeKind.APPROVERS_UNREACHABLE)),
                Outgoing.alert(text),
            ]
        self.store.audit(
            request.id,
            "jitbot",
            "approvers_unreachable",
            now,
            {
                "stage": "admin" if role == MessageRole.ADMIN_APPROVER else "owner",
                "approvers": list(request.approvers),
            },
            outbox=items,
        )
