"""Sweep: everything due at a moment, from the scheduler (grants left half-done,
sessions past their end, pending requests past their approval deadline)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from workflows.domain import AccessRequest
from workflows.ports import Store
from workflows.states import Status

log = logging.getLogger("jitbot.workflows")

#: A service the sweep runs for one request at ``now``: grant, end_session, time_out.
Job = Callable[[int, datetime], AccessRequest]


class Sweeper:
    """Runs ``grant``, ``end_session`` and ``time_out`` on what ``store`` says is due,
    ``lift_due`` (the deny statements of ended sign-ins that may go now) and ``warn``
    (the expiry warnings due now, :mod:`workflows.services.warning`).

    ``grant`` runs for every Approved request: one left half-done, or one whose
    ``CreateAccountAssignment`` AWS had not finished in time, whose status it then reads
    once per sweep until it is final (:mod:`workflows.services.grant`).

    Due sessions are ended by a standing pool of ``parallel_revokes`` workers, fed in due
    order: each removal waits on an asynchronous AWS operation, and Identity Center
    allows 15 outstanding assignment operations (IAM Identity Center quotas,
    https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html), so one at
    a time would leave access many times longer than needed when many fall due
    together. A session already queued or being ended is not queued again.
    """

    def __init__(
        self,
        store: Store,
        *,
        grant: Job,
        end_session: Job,
        time_out: Job,
        lift_due: Callable[[datetime], None] = lambda now: None,
        parallel_revokes: int = 10,
        warn: Callable[[datetime], object] = lambda now: None,
        remind: Callable[[datetime], None] = lambda now: None,
    ) -> None:
        self._store = store
        self._warn = warn
        self._lift_due = lift_due
        self._remind = remind  # reminders and escalation (services.remind)
        self._grant = grant
        self._end_session = end_session
        self._time_out = time_out
        self._parallel = max(1, parallel_revokes)
        self._ending: set[int] = set()  # queued or being ended by the pool
        self._revokers: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()

    def sweep(self, now: datetime, *, wait: bool = True) -> None:
        """Do everything due at ``now`` (aware UTC). Errors of one request are logged and
        do not stop the others. ``wait=False`` (the scheduler) returns once the due
        sessions are queued, so the next sweep can feed the pool while it works;
        ``wait=True`` (the default) returns once those this sweep queued are done."""
        for request in self._store.with_status(Status.APPROVED):
            self._run_logged(self._grant, request, now)
        queued: list[Future[None]] = []
        for request in self._store.active_ending_before(now):  # soonest first
            with self._guard:
                if request.id in self._ending:
                    continue
                self._ending.add(request.id)
            queued.append(self._revoker().submit(self._end_due, request.id, now))
        for request in self._store.pending_past_deadline(now):
            self._run_logged(self._time_out, request, now)
        try:  # the requesters of sessions ending soon (services.warning)
            self._warn(now)
        except Exception:  # keep going; the next sweep retries them
            log.exception("sweep: warning of sessions ending soon failed")
        try:  # after the time-outs: a request past its window is not reminded
            self._remind(now)
        except Exception:  # keep going; the next sweep retries them
            log.exception("sweep: reminders failed")
        try:  # deny statements whose sign-ins have all run out (services.live_sessions)
            self._lift_due(now)
        except Exception:  # keep going; the next sweep retries them
            log.exception("sweep: lifting ended sign-ins' deny statements failed")
        if wait:
            for future in queued:
                future.result()

    def _revoker(self) -> ThreadPoolExecutor:
        with self._guard:
            if self._revokers is None:
                self._revokers = ThreadPoolExecutor(
                    max_workers=self._parallel, thread_name_prefix="revoke"
                )
            return self._revokers

    def _end_due(self, request_id: int, now: datetime) -> None:
        try:
            self._end_session(request_id, now)
        except Exception:  # keep going; the next sweep retries this one
            log.exception("sweep: ending request %s failed", request_id)
        finally:
            with self._guard:
                self._ending.discard(request_id)

    def close(self) -> None:
        """Finish the sessions being ended (a clean stop), then stop the pool."""
        with self._guard:
            revokers, self._revokers = self._revokers, None
        if revokers is not None:
            revokers.shutdown(wait=True)

    @staticmethod
    def _run_logged(job: Job, request: AccessRequest, now: datetime) -> None:
        try:
            job(request.id, now)
        except Exception:  # keep sweeping; the next sweep retries this one
            log.exception("sweep: %s of request %s failed", job.__name__, request.id)
