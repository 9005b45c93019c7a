"""The drift reconciler's run: list what Identity Center has, judge it against the
store, fix or report each finding, tell the admins (see :mod:`workflows.reconcile`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows.assignments import AwsError, JitPermissionSet
from workflows.domain import AccessRequest
from workflows.reconcile.findings import OrphanSet, ReconcileReport, StrayAssignment
from workflows.reconcile.fixes import Fixes
from workflows.reconcile.scan import SETTLE, backed, managed_pairs, may_have_vanished, orphan_of
from workflows.reconcile.telling import Telling
from workflows.services import Services
from workflows.states import Status

log = logging.getLogger("jitbot.reconcile")


@dataclass
class Reconciler:
    """Finds and fixes drift between Identity Center and the store
    (:mod:`workflows.reconcile`).

    ``services`` gives the config, catalog, store, AWS adapter and outbox; ``report_only``
    overrides ``reconcile.mode`` when not None (``jitbot reconcile --report-only``).
    ``settle`` is :data:`SETTLE` unless a test changes it. One per process: it remembers
    what it already told the admins.
    """

    services: Services
    report_only: bool | None = None
    settle: timedelta = SETTLE
    _telling: Telling = field(init=False)
    _fixes: Fixes = field(init=False)

    def __post_init__(self) -> None:
        self._telling = Telling(self.services)
        self._fixes = Fixes(self.services, self._telling)

    @property
    def reporting(self) -> bool:
        """True when nothing may be changed in AWS (report mode)."""
        if self.report_only is not None:
            return self.report_only
        return self.services.config.reconcile.report_only

    def run(self, now: datetime) -> ReconcileReport:
        """Reconcile once at ``now`` (aware UTC) and return what was found and done.

        Raises only what is not an AWS failure (a database error, say); AWS failures are
        in ``report.errors``.
        """
        report = ReconcileReport(now, "report" if self.reporting else "remove")
        self._telling.start()
        active = self.services.store.with_status(Status.ACTIVE)
        sets = self._jit_sets(report)
        orphans = [o for o in (self._orphan(s, now) for s in sets) if o is not None]
        for pair, names in managed_pairs(self.services.catalog, active, orphans).items():
            self._scan_pair(report, now, pair, names, active)
        # judged again: a grant may have ended (or vanished) during this run
        for ps in sets:
            orphan = self._orphan(ps, now)
            if orphan is not None:
                self._fixes.orphan_set(report, now, orphan, reporting=self.reporting)
        self._telling.finish(report, now)
        log.info("%s", report.summary())
        return report

    def run_exclusive(self, now: datetime) -> ReconcileReport | None:
        """:meth:`run`, unless another replica is running it now (the store lease
        ``reconcile``, held for the run and kept alive by the replica's lease heartbeat):
        then None. For the periodic job, so replicas sharing one database do not
        reconcile at the same moment."""
        with self.services.leases.hold("reconcile") as held:
            if not held:
                log.info("reconcile: another replica is running it; skipped")
                return None
            return self.run(now)

    def _scan_pair(
        self,
        report: ReconcileReport,
        now: datetime,
        pair: tuple[str, str],
        names: tuple[str, str],
        active: list[AccessRequest],
    ) -> None:
        """One (account, permission set): its stray assignments and vanished grants."""
        try:
            present = self.services.aws.account_assignments(*pair)
        except AwsError as exc:
            what = f"listing the assignments of {names[0]} on {names[1]}"
            self._telling.error(report, now, what, exc)
            return
        for assignment in present:
            if not backed(assignment, active):
                stray = StrayAssignment(assignment, *names)
                self._fixes.stray(report, now, stray, reporting=self.reporting)
        users = {a.principal_id for a in present if a.principal_type == "USER"}
        for request in active:
            if (request.account_id, request.permission_set_arn) != pair:
                continue
            if request.principal_id not in users and may_have_vanished(request, now, self.settle):
                self._fixes.vanished(report, now, request, self.settle)

    def _jit_sets(self, report: ReconcileReport) -> list[JitPermissionSet]:
        try:
            return list(self.services.aws.jit_permission_sets())
        except AwsError as exc:
            self._telling.error(report, report.at, "listing jitbot's JIT- permission sets", exc)
            return []

    def _orphan(self, ps: JitPermissionSet, now: datetime) -> OrphanSet | None:
        grace = self.services.config.reconcile.orphan_grace
        if ps.created_at is None or ps.created_at > now - grace:
            return None  # not read from the store: young sets are most of them
        return orphan_of(ps, self.services.store.get(ps.request_id), now, grace)
