"""Timed work: APScheduler wakes the sweep; the database says what is due (design §5).

An interval job sweeps every ``sweep_interval`` (and at start-up, so what fell due while
the bot was down is done at once); a date job at each session's ``expires_at`` and each
approval deadline gives precision. Jobs live in memory and are rebuilt from the database
on start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from workflows.aws import IdentityCenter
from workflows.config import Config
from workflows.ports import Store
from workflows.reconcile import Reconciler
from workflows.services import Services

log = logging.getLogger("jitbot.scheduler")

#: The id of the interval sweep job; a wake-up runs that job's function.
SWEEP_JOB = "sweep"


class Wakeups:
    """The APScheduler both sides use, built before either: the services ask it for a
    sweep at a moment (:meth:`wake_at`, given to them as ``Hooks.wake_at``), and the
    :class:`Timekeeper` registers the sweep on it (the job ``SWEEP_JOB``). A wake-up runs
    whatever sweep is registered when it fires, so the services need not know the
    Timekeeper, nor the Timekeeper be built before the services it sweeps."""

    def __init__(self) -> None:
        self.scheduler = BackgroundScheduler(timezone=UTC)

    def wake_at(self, when: datetime) -> None:
        """Run a sweep at ``when`` (aware UTC); late wake-ups still run."""
        self.scheduler.add_job(
            self._sweep, "date", run_date=when, misfire_grace_time=None, coalesce=True
        )

    def _sweep(self) -> None:
        job = self.scheduler.get_job(SWEEP_JOB)
        if job is None:  # not started (or stopped): the start-up sweep covers it
            log.info("wake-up with no sweep registered; skipped")
            return
        job.func()


class Timekeeper:
    """Runs :meth:`Services.sweep` on time, on ``wakeups``' scheduler (its interval job
    is the sweep a wake-up runs). Sweeps never overlap."""

    def __init__(
        self,
        services: Services,
        store: Store,
        wakeups: Wakeups,
        *,
        interval: timedelta,
        clock: Callable[[], datetime],
        reconciler: Reconciler | None = None,
        reconcile_interval: timedelta | None = None,
        expiry_warning: timedelta | None = None,
    ) -> None:
        self._services = services
        self._expiry_warning = expiry_warning  # also wake when a session's warning is due
        self._store = store
        self._clock = clock
        self._interval = interval
        self._lock = threading.Lock()
        self._reconciler = reconciler
        self._reconcile_interval = reconcile_interval
        self._wakeups = wakeups
        self._scheduler = wakeups.scheduler

    def sweep(self) -> None:
        """One sweep now (serialized with any other)."""
        with self._lock:
            # due sessions are queued to the services' revocation pool, not waited for:
            # the next sweep (or wake-up) keeps feeding it in due order
            self._services.sweep(self._clock(), wait=False)

    def reconcile(self) -> None:
        """One drift reconciliation now, unless another replica is running one. Not
        serialized with the sweep: the per-assignment lease covers races between them,
        and a long reconcile must not delay expiries."""
        if self._reconciler is None:
            return
        try:
            self._reconciler.run_exclusive(self._clock())
        except Exception:  # the next run retries
            log.exception("drift reconciliation failed")

    def wake_at(self, when: datetime) -> None:
        """Run a sweep at ``when`` (aware UTC); late wake-ups still run."""
        self._wakeups.wake_at(when)

    def start(self) -> None:
        """Start the scheduler: sweep now, then every interval and at each known deadline."""
        now = self._clock()
        self._scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self._interval.total_seconds(),
            next_run_time=now,
            id=SWEEP_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        if self._reconciler is not None and self._reconcile_interval is not None:
            self._scheduler.add_job(
                self.reconcile,
                "interval",
                seconds=self._reconcile_interval.total_seconds(),
                next_run_time=now + timedelta(minutes=1),  # after the start-up sweep's grants
                id="reconcile",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
        for when in self._store.upcoming_deadlines(now, self._expiry_warning):
            self.wake_at(when)
        self._scheduler.start()
        log.info("scheduler started: sweep every %ss", self._interval.total_seconds())

    def shutdown(self, wait: bool = True) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)


def make_timekeeper(
    config: Config,
    services: Services,
    store: Store,
    wakeups: Wakeups,
    clock: Callable[[], datetime],
    aws: IdentityCenter,
) -> Timekeeper:
    """The sweep every ``sweep_interval`` and the reconciler every ``reconcile.interval``
    on ``wakeups``' scheduler (started by the caller: :meth:`Timekeeper.start`), the
    reconciler within ``reconcile.rate_share`` of ``aws``'s rate."""
    return Timekeeper(
        services,
        store,
        wakeups,
        interval=config.sweep_interval,
        clock=clock,
        # one Reconciler per process: it remembers what it already told the admins
        reconciler=make_reconciler(config, services, aws),
        reconcile_interval=config.reconcile.interval,
        expiry_warning=config.expiry_warning,
    )


def make_reconciler(
    config: Config, services: Services, aws: IdentityCenter, report_only: bool | None = None
) -> Reconciler:
    """A :class:`Reconciler` whose AWS calls take at most ``reconcile.rate_share`` of
    ``aws``'s client-side rate (:mod:`workflows.aws.paced`)."""
    aws.reconcile_pacer.set_share(config.reconcile.rate_share)
    return Reconciler(services, report_only=report_only, pace=aws.reconcile_pacer.running)
