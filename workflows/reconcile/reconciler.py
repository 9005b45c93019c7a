"""The drift reconciler's run: list what Identity Center has, judge it against the
store, fix or report each finding, tell the admins (see :mod:`workflows.reconcile`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflows.assignments import AwsError, JitPermissionSet
from workflows.domain import AccessRequest
from workflows.reconcile.findings import OrphanSet, ReconcileReport, StrayAssignment
from workflows.reconcile.fixes import Fixes
from workflows.reconcile.scan import SETTLE, backed, managed_pairs, may_have_vanished, orphan_of
from workflows.reconcile.telling import ACTOR, Telling
from workflows.services import Services
from workflows.states import Status

log = logging.getLogger("jitbot.reconcile")

#: The audit action of the first reconciliation on a database (which only reports).
FIRST_RUN = "reconcile_first_run"


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
    #: what a run's AWS calls happen inside: the adapter's reconcile pacer (its share
    #: of the rate, ``reconcile.rate_share``), or nothing
    pace: Callable[[], AbstractContextManager[Any]] = nullcontext
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
        """Reconcile once at ``now`` (aware UTC) and return what was found and done,
        every AWS call of it inside :attr:`pace` (so within its share of the rate).

        The first run on a database only reports, whatever the mode (audited as
        :data:`FIRST_RUN`); principals ``reconcile.keep`` names are left alone; GROUP
        assignments are removed only with ``reconcile.groups: remove``.

        Raises only what is not an AWS failure (a database error, say); AWS failures are
        in ``report.errors``.
        """
        with self.pace():
            return self._run(now)

    def _run(self, now: datetime) -> ReconcileReport:
        """:meth:`run`'s work."""
        store = self.services.store
        first = not store.has_audited(FIRST_RUN)
        keep = self._kept(now)
        reporting = self.reporting or first or keep is None
        report = ReconcileReport(now, "report" if reporting else "remove", first_run=first)
        if keep is None:
            report.errors.append("could not look up reconcile.keep: nothing removed this run")
        self._telling.start()
        active = store.with_status(Status.ACTIVE)
        sets = self._jit_sets(report)
        orphans = [o for o in (self._orphan(s, now) for s in sets) if o is not None]
        pairs = managed_pairs(self.services.catalog, active, orphans)
        for pair, names in self._provisioned(report, now, pairs, active).items():
            self._scan_pair(report, now, pair, names, active, reporting, keep or frozenset())
        # judged again: a grant may have ended (or vanished) during this run
        for ps in sets:
            orphan = self._orphan(ps, now)
            if orphan is not None:
                self._fixes.orphan_set(report, now, orphan, reporting=reporting)
        self._telling.finish(report, now)
        if first:
            mode = self.services.config.reconcile.mode
            store.audit(None, ACTOR, FIRST_RUN, now, {"configured_mode": mode})
        log.info("%s", report.summary())
        return report

    def _provisioned(
        self,
        report: ReconcileReport,
        now: datetime,
        pairs: dict[tuple[str, str], tuple[str, str]],
        active: list[AccessRequest],
    ) -> dict[tuple[str, str], tuple[str, str]]:
        """The ``pairs`` worth listing: where the set is provisioned (an assignment
        provisions it, so strays are only there) and where an active grant says an
        assignment should be (a vanished one may have taken the provisioning with it).
        A set whose provisioning can't be read is listed everywhere."""
        granted = {(r.account_id, r.permission_set_arn) for r in active}
        where: dict[str, set[str] | None] = {}
        for arn in {arn for _, arn in pairs}:
            try:
                where[arn] = self.services.aws.provisioned_accounts(arn)
            except AwsError as exc:
                log.warning("reconcile: where %s is provisioned is unknown: %s", arn, exc)
                where[arn] = None
        return {
            pair: names
            for pair, names in pairs.items()
            if pair in granted or where[pair[1]] is None or pair[0] in (where[pair[1]] or ())
        }

    def _kept(self, now: datetime) -> frozenset[str] | None:
        """Ids of the principals ``reconcile.keep`` names (groups by display name, users
        by user name or email); None when Identity Center could not say (then nothing
        is removed: a kept principal must never be removed for want of a lookup)."""
        aws = self.services.aws
        ids: set[str] = set()
        try:
            for name in self.services.config.reconcile.keep:
                found = aws.find_group_id(name) or aws.find_user_id(name)
                if found is None:
                    log.warning("reconcile.keep: no Identity Center group or user %r", name)
                else:
                    ids.add(found)
        except AwsError as exc:
            log.warning("reconcile.keep could not be looked up: %s", exc)
            return None
        return frozenset(ids)

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
        reporting: bool,
        keep: frozenset[str],
    ) -> None:
        """One (account, permission set): its stray assignments and vanished grants."""
        aws = self.services.aws
        try:
            present = aws.account_assignments(*pair)
        except AwsError as exc:
            what = f"listing the assignments of {names[0]} on {names[1]}"
            self._telling.error(report, now, what, exc)
            return
        groups_stay = not self.services.config.reconcile.removes_groups
        for assignment in present:
            if backed(assignment, active) or assignment.principal_id in keep:
                continue
            who = aws.principal_name(assignment.principal_type, assignment.principal_id)
            stray = StrayAssignment(assignment, *names, principal_name=who)
            group = assignment.principal_type == "GROUP"
            self._fixes.stray(report, now, stray, reporting=reporting or (group and groups_stay))
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
