"""The outbox worker: a thread that delivers the outbox (:mod:`workflows.outbox`) as
soon as the services write to it; and the heartbeat that keeps this replica's leases
alive.

Each round claims up to ``threads`` due entries (at most one per request, so a
request's notices stay in order) and delivers them in parallel. When Slack answers 429
it waits ``Retry-After`` before the next round; when Slack is down it backs off (the
dispatcher's exponential backoff, capped at 30 s unless ``JITBOT_OUTBOX_MAX_BACKOFF``
says otherwise), so an outage is retried gently and a notice goes out within seconds of
Slack coming back.

:class:`Heartbeat` renews, every third of the lease, every lease and outbox claim this
replica holds (:meth:`storage.store.SqlStore.renew_leases`): a replica that dies stops
renewing, and another takes its work over when the lease runs out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from storage.store import REPLICA_LEASE_PREFIX
from workflows.outbox import OutboxDispatcher, Outcome
from workflows.runtime_ports import OutboxBacklog, ReplicaLeases

log = logging.getLogger("jitbot.outbox")


class OutboxWorker:
    """Delivers the outbox in the background; ``kick()`` after writing to it."""

    def __init__(
        self,
        dispatcher: OutboxDispatcher,
        store: OutboxBacklog,
        *,
        threads: int = 4,
        poll: float = 0.5,
        clock: Callable[[], datetime],
    ) -> None:
        self._dispatcher = dispatcher
        self._store = store
        self._threads = threads
        self._poll = poll
        self._clock = clock
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._busy = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
            self._thread.start()

    def kick(self) -> None:
        """Something was written to the outbox: deliver it now rather than at the poll."""
        self._wake.set()

    def idle(self) -> bool:
        """Nothing pending in the outbox and no delivery in progress."""
        return not self._busy.is_set() and self._store.outbox_backlog()[0] == 0

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the round in progress (claimed entries are delivered or given back),
        then stop."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)

    def _run(self, jobs: list[Callable[[], Outcome]]) -> list[Outcome]:
        return list(self._pool.map(lambda job: job(), jobs))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            pause: float | None = None
            delivered = 0
            try:
                self._busy.set()
                outcome = self._dispatcher.deliver_due(self._threads, run=self._run)
                delivered, pause = outcome.delivered, outcome.pause
            except Exception:  # the database is down, say: keep trying
                log.exception("outbox round failed")
                pause = 1.0
            finally:
                self._busy.clear()
            if pause is not None:
                self._stopping.wait(pause)
            elif delivered == 0:
                self._wake.wait(self._poll)
                self._wake.clear()


class Heartbeat:
    """A thread renewing ``holder``'s leases and outbox claims every third of ``lease``
    (seconds, on its own thread so a slow AWS or Slack call never lets a lease lapse).

    It also keeps this replica's presence lease (``replica:<holder>``) and, after each
    beat, tells ``on_replicas`` how many replicas are alive
    (:meth:`storage.store.SqlStore.live_replicas`), so they can share quotas that AWS
    counts for all of them together (:meth:`workflows.aws.IdentityCenter.share_quota`).
    A replica that starts is counted by the others within a third of ``lease``; one
    that stops cleanly, at their next beat; one that dies, once its lease runs out.
    """

    def __init__(
        self,
        store: ReplicaLeases,
        holder: str,
        lease: timedelta,
        clock: Callable[[], datetime],
        on_replicas: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._holder = holder
        self._lease = lease
        self._clock = clock
        self._on_replicas = on_replicas
        self._presence = REPLICA_LEASE_PREFIX + holder
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Beat once now (so the other replicas count this one at once), then every
        third of the lease on a thread of its own."""
        if self._thread is None:
            self._beat_logged()
            self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop beating and give the presence lease back (the others count one fewer at
        their next beat)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            self._store.release_lease(self._presence, self._holder)
        except Exception:  # the database is away: the lease runs out by itself
            log.exception("could not give the presence lease back")

    def beat(self) -> int:
        """Renew now; returns how many leases this replica holds (its presence lease
        included)."""
        now = self._clock()
        until = now + self._lease
        held = self._store.renew_leases(self._holder, until)
        if not self._store.claim_lease(self._presence, self._holder, now, until):
            log.error("presence lease %s is held by someone else", self._presence)
        if self._on_replicas is not None:
            self._on_replicas(max(1, self._store.live_replicas(now)))
        return held

    def _beat_logged(self) -> None:
        try:
            self.beat()
        except Exception:  # the database is away: the next beat tries again
            log.exception("lease heartbeat failed")

    def _loop(self) -> None:
        while not self._stopping.wait(self._lease.total_seconds() / 3):
            self._beat_logged()
