"""Drift reconciliation: make IAM Identity Center agree with the grants jitbot made.

The promise (design §1) is that nobody holds standing access to an account the bot
manages. Access can drift from the database outside the bot: someone assigns a managed
permission set by hand in the console, removes a grant's assignment there, or a crash
leaves a ``JIT-`` permission set behind. :class:`Reconciler` finds and fixes these, from
``jitbot reconcile`` and from a periodic job (every ``reconcile.interval``):

* **stray assignment**: an account assignment (user *or* group) of a managed permission
  set on a managed account with no ACTIVE request of that principal, account and set
  behind it is removed (``reconcile.mode: remove``) or only reported (``report``), and
  audited (``drift_assignment_removed`` / ``drift_assignment_found``). Managed pairs
  are every (account, permission set) of the catalog, each ACTIVE request's (custom
  ones included), and every account of the catalog for each orphan ``JIT-`` set (so
  its assignments go before it does). An APPROVED request of the same principal also
  stands behind an assignment: its grant is in progress (or half-done, and the sweep
  finishes it). AWS does not say when an assignment was made, so instead of a grace
  period the store is read again, under the assignment's lease
  (:meth:`Services.assignment_guard`), right before anything is removed.
* **vanished grant**: an ACTIVE request whose session has not ended, granted more than
  :data:`SETTLE` ago, whose assignment is no longer in AWS (checked again under the
  lease) is marked Revoked (``assignment_vanished``, end reason "access removed outside
  jitbot"), and its requester and approvers are told in their threads
  (:attr:`NoticeKind.ASSIGNMENT_VANISHED`). Two ACTIVE requests sharing one assignment
  (overlapping grants) are both marked when it goes. This is done in both modes: it
  records what AWS already did. A custom request's set is then an orphan (below).
* **orphan set**: a ``JIT-`` set of jitbot (tags, or on moto its description, see
  :meth:`workflows.aws.IdentityCenter.jit_permission_sets`) whose request is not
  APPROVED or ACTIVE, is unknown, or now uses another set, and which is older than
  ``reconcile.orphan_grace`` (a grant in progress creates its set before assigning it),
  is deleted (``orphan_permission_set_deleted``) or only reported
  (``orphan_permission_set_found``).

An AWS failure on one item is recorded in the report (and audited) and does not stop
the others; a failed listing skips only what depended on it (never is a grant judged
vanished from a listing that failed). The admins get one summary alert per run, through
the outbox, when something new was found (a finding reported by this reconciler before,
in ``report`` mode say, is not alerted again; it is still in every report).

All datetimes are aware UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflows import lifecycle
from workflows.assignments import Assignment, AwsError, JitPermissionSet
from workflows.domain import AccessRequest, GrantedSession, Notice, NoticeKind, Outgoing, changed
from workflows.services import Services, assignment_of
from workflows.states import LABELS, Event, Status

log = logging.getLogger("jitbot.reconcile")

#: A grant younger than this is not judged vanished (Identity Center's lists may lag
#: a change that just completed).
SETTLE = timedelta(minutes=1)
#: End reason of a session whose assignment was removed outside jitbot.
VANISHED_REASON = "access removed outside jitbot"
#: Statuses of a request that stand behind its assignment (and its ``JIT-`` set).
BACKING = (Status.ACTIVE, Status.APPROVED)
#: Most finding lines in one admin alert; the rest are counted.
ALERT_LINES = 20

ACTOR = "jitbot"


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class StrayAssignment:
    """An assignment no active grant stands behind. ``permission_set_name`` and
    ``account_label`` (``Name (id)``) are for people."""

    assignment: Assignment
    permission_set_name: str
    account_label: str

    def __str__(self) -> str:
        a = self.assignment
        return (
            f"{a.principal_type} {a.principal_id} has {self.permission_set_name} on "
            f"{self.account_label} with no active jitbot grant"
        )

    def audit_detail(self) -> dict[str, Any]:
        a = self.assignment
        return {
            "account_id": a.account_id,
            "permission_set_arn": a.permission_set_arn,
            "permission_set_name": self.permission_set_name,
            "principal_type": a.principal_type,
            "principal_id": a.principal_id,
        }


@dataclass(frozen=True)
class VanishedGrant:
    """An active grant whose assignment was removed outside jitbot."""

    request_id: int
    requester_email: str
    permission_set_name: str
    account_label: str

    def __str__(self) -> str:
        return (
            f"request #{self.request_id} ({self.requester_email}, {self.permission_set_name} "
            f"on {self.account_label}): its assignment was removed outside jitbot"
        )


@dataclass(frozen=True)
class OrphanSet:
    """A ``JIT-`` set of jitbot with no live request. ``request_status`` is the label of
    its request's status, None when the request is unknown."""

    permission_set: JitPermissionSet
    request_status: str | None

    def __str__(self) -> str:
        ps = self.permission_set
        why = (
            f"request #{ps.request_id} is {self.request_status}"
            if self.request_status
            else f"request #{ps.request_id} is unknown"
        )
        return f"permission set {ps.name} ({why})"

    def audit_detail(self) -> dict[str, Any]:
        ps = self.permission_set
        return {
            "permission_set_arn": ps.arn,
            "permission_set_name": ps.name,
            "request_id": ps.request_id,
            "created_at": ps.created_at.isoformat() if ps.created_at else None,
            "found_by": ps.source,
        }


@dataclass
class ReconcileReport:
    """What one :meth:`Reconciler.run` found and did, at ``at`` (UTC), in ``mode``
    (``remove`` or ``report``). ``skipped`` are assignments left alone this round
    because another replica held their lease; ``errors`` are readable sentences."""

    at: datetime
    mode: str
    stray_removed: list[StrayAssignment] = field(default_factory=list)
    stray_reported: list[StrayAssignment] = field(default_factory=list)
    vanished: list[VanishedGrant] = field(default_factory=list)
    orphans_deleted: list[OrphanSet] = field(default_factory=list)
    orphans_reported: list[OrphanSet] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """Anything found (errors included)."""
        return bool(
            self.stray_removed
            or self.stray_reported
            or self.vanished
            or self.orphans_deleted
            or self.orphans_reported
            or self.errors
        )

    def lines(self) -> list[str]:
        """One line per finding, e.g. ``"removed assignment: USER 9a… has ReadOnlyAccess
        on Sandbox (111111111111) with no active jitbot grant"``."""
        return [
            *(f"removed assignment: {s}" for s in self.stray_removed),
            *(f"found assignment (report only): {s}" for s in self.stray_reported),
            *(f"marked Revoked: {v}" for v in self.vanished),
            *(f"deleted orphan {o}" for o in self.orphans_deleted),
            *(f"found orphan (report only): {o}" for o in self.orphans_reported),
            *(f"skipped (another replica holds it): {s}" for s in self.skipped),
            *(f"error: {e}" for e in self.errors),
        ]

    def summary(self) -> str:
        """One sentence with every count."""
        return (
            f"Drift reconciliation ({self.mode} mode): "
            f"{len(self.stray_removed)} stray assignment(s) removed, "
            f"{len(self.stray_reported)} reported; "
            f"{len(self.vanished)} grant(s) whose assignment vanished marked Revoked; "
            f"{len(self.orphans_deleted)} orphan permission set(s) deleted, "
            f"{len(self.orphans_reported)} reported; "
            f"{len(self.errors)} error(s)."
        )


# --------------------------------------------------------------------------- reconciler


@dataclass
class Reconciler:
    """Finds and fixes drift between Identity Center and the store (module docstring).

    ``services`` gives the config, catalog, store, AWS adapter and outbox; ``report_only``
    overrides ``reconcile.mode`` when not None (``jitbot reconcile --report-only``).
    ``settle`` is :data:`SETTLE` unless a test changes it.
    """

    services: Services
    report_only: bool | None = None
    settle: timedelta = SETTLE
    # report-mode findings and errors of the previous run: alerted and audited once
    # while they persist (a finding that goes and comes back is told again)
    _alerted: set[str] = field(default_factory=set)
    _audited: set[str] = field(default_factory=set)
    _audited_now: set[str] = field(default_factory=set)

    @property
    def reporting(self) -> bool:
        """True when nothing may be changed in AWS (report mode)."""
        if self.report_only is not None:
            return self.report_only
        return self.services.config.reconcile.report_only

    # -- the run ------------------------------------------------------------------------

    def run(self, now: datetime) -> ReconcileReport:
        """Reconcile once at ``now`` (aware UTC) and return what was found and done.

        Raises only what is not an AWS failure (a database error, say); AWS failures are
        in ``report.errors``.
        """
        report = ReconcileReport(now, "report" if self.reporting else "remove")
        self._audited_now = set()
        store = self.services.store
        active = store.with_status(Status.ACTIVE)
        sets = self._jit_sets(report)
        orphans = [o for o in (self._orphan(s, now) for s in sets) if o is not None]
        for pair, names in self._managed_pairs(active, orphans).items():
            try:
                present = self.services.aws.account_assignments(*pair)
            except AwsError as exc:
                self._error(
                    report, now, f"listing the assignments of {names[0]} on {names[1]}", exc
                )
                continue
            for assignment in present:
                if not self._backed(assignment, active):
                    self._stray(report, now, StrayAssignment(assignment, *names))
            users = {a.principal_id for a in present if a.principal_type == "USER"}
            for request in active:
                if (request.account_id, request.permission_set_arn) != pair:
                    continue
                if request.principal_id not in users and self._may_have_vanished(request, now):
                    self._vanished(report, now, request)
        # judged again: a grant may have ended (or vanished) during this run
        for ps in sets:
            orphan = self._orphan(ps, now)
            if orphan is not None:
                self._orphan_set(report, now, orphan)
        self._alert(report, now)
        self._audited = self._audited_now
        log.info("%s", report.summary())
        return report

    def run_exclusive(self, now: datetime) -> ReconcileReport | None:
        """:meth:`run`, unless another replica is running it now (the store lease
        ``reconcile``, held for the run and kept alive by the replica's lease heartbeat):
        then None. For the periodic job, so replicas sharing one database do not
        reconcile at the same moment."""
        with self._lease("reconcile") as held:
            if not held:
                log.info("reconcile: another replica is running it; skipped")
                return None
            return self.run(now)

    # -- what is managed ----------------------------------------------------------------

    def _jit_sets(self, report: ReconcileReport) -> list[JitPermissionSet]:
        try:
            return list(self.services.aws.jit_permission_sets())
        except AwsError as exc:
            self._error(report, report.at, "listing jitbot's JIT- permission sets", exc)
            return []

    def _managed_pairs(
        self, active: Iterable[AccessRequest], orphans: Iterable[OrphanSet]
    ) -> dict[tuple[str, str], tuple[str, str]]:
        """``{(account id, permission set ARN): (set name, account label)}`` to scan."""
        catalog = self.services.catalog
        pairs: dict[tuple[str, str], tuple[str, str]] = {}
        for account in catalog.accounts:
            for name, arn in account.permission_sets.items():
                pairs[(account.id, arn)] = (name, account.label)
        for request in active:
            if request.permission_set_arn:
                pairs.setdefault(
                    (request.account_id, request.permission_set_arn),
                    (request.permission_set_name, request.account_label),
                )
        for orphan in orphans:
            ps = orphan.permission_set
            for account in catalog.accounts:
                pairs.setdefault((account.id, ps.arn), (ps.name, account.label))
        return pairs

    # -- stray assignments --------------------------------------------------------------

    @staticmethod
    def _backed(assignment: Assignment, requests: Iterable[AccessRequest]) -> bool:
        """Whether a request stands behind the assignment (only users have requests)."""
        return assignment.principal_type == "USER" and any(
            r.principal_id == assignment.principal_id
            and r.account_id == assignment.account_id
            and r.permission_set_arn == assignment.permission_set_arn
            for r in requests
        )

    def _backed_now(self, assignment: Assignment) -> bool:
        """:meth:`_backed` against the store as it is now (ACTIVE or APPROVED)."""
        store = self.services.store
        return any(self._backed(assignment, store.with_status(status)) for status in BACKING)

    def _stray(self, report: ReconcileReport, now: datetime, stray: StrayAssignment) -> None:
        a = stray.assignment
        with self.services.assignment_guard(
            a.principal_id, a.account_id, a.permission_set_arn
        ) as held:
            if not held:
                report.skipped.append(str(stray))
                return
            if self._backed_now(a):  # a grant landed (or is landing) meanwhile
                return
            if self.reporting:
                report.stray_reported.append(stray)
                self._audit_once(now, None, "drift_assignment_found", stray.audit_detail())
                return
            try:
                if not self.services.aws.has_assignment(a):
                    return  # gone meanwhile (another replica's run, or by hand)
                self.services.aws.unassign(a)
            except AwsError as exc:
                self._error(
                    report,
                    now,
                    f"removing {a}",
                    exc,
                    "drift_assignment_remove_failed",
                    stray.audit_detail(),
                )
                return
            report.stray_removed.append(stray)
            self.services.store.audit(
                None, ACTOR, "drift_assignment_removed", now, stray.audit_detail()
            )
            log.warning("drift: removed %s", stray)

    # -- vanished grants ----------------------------------------------------------------

    def _may_have_vanished(self, request: AccessRequest, now: datetime) -> bool:
        session = request.session
        return (
            session is not None
            and session.ended_at is None
            and session.expires_at > now
            and session.granted_at <= now - self.settle
        )

    def _vanished(self, report: ReconcileReport, now: datetime, request: AccessRequest) -> None:
        guard = self.services.assignment_guard(
            request.principal_id, request.account_id, request.permission_set_arn
        )
        with guard as held:
            if not held:
                report.skipped.append(f"request #{request.id}")
                return
            fresh = self.services.store.get(request.id)
            if (
                fresh is None
                or fresh.status != Status.ACTIVE
                or not self._may_have_vanished(fresh, now)
            ):
                return
            try:
                if self.services.aws.has_assignment(assignment_of(fresh)):
                    return  # back, or only slow to show in the list
            except AwsError as exc:
                self._error(report, now, f"checking the assignment of request #{fresh.id}", exc)
                return
            assert fresh.session is not None
            ended = GrantedSession(
                fresh.session.granted_at, fresh.session.expires_at, now, VANISHED_REASON
            )
            if lifecycle.apply(
                self.services.store,
                fresh,
                Event.REVOKE,
                now=now,
                actor=ACTOR,
                action="assignment_vanished",
                session=ended,
                detail={
                    "reason": VANISHED_REASON,
                    "expires_at": fresh.session.expires_at.isoformat(),
                },
                outbox=changed(Notice(NoticeKind.ASSIGNMENT_VANISHED)),
            ):
                self.services.kick()
                report.vanished.append(
                    VanishedGrant(
                        fresh.id,
                        fresh.requester.email,
                        fresh.permission_set_name,
                        fresh.account_label,
                    )
                )
                log.warning("drift: request %s's assignment vanished; marked Revoked", fresh.id)

    # -- orphan permission sets ---------------------------------------------------------

    def _orphan(self, ps: JitPermissionSet, now: datetime) -> OrphanSet | None:
        """The set as an orphan, or None while a request stands behind it or it is
        younger than ``orphan_grace`` (or its age is unknown)."""
        if (
            ps.created_at is None
            or ps.created_at > now - self.services.config.reconcile.orphan_grace
        ):
            return None
        request = self.services.store.get(ps.request_id)
        if request is None:
            return OrphanSet(ps, None)
        if request.status in BACKING and request.permission_set_arn in ("", ps.arn):
            return None
        status = LABELS[request.status]
        if request.status in BACKING:  # the request uses another set (a retried creation)
            status += f" with another permission set ({request.permission_set_name})"
        return OrphanSet(ps, status)

    def _orphan_set(self, report: ReconcileReport, now: datetime, orphan: OrphanSet) -> None:
        ps = orphan.permission_set
        request_id = ps.request_id if orphan.request_status is not None else None
        with self._lease(f"orphan-set:{ps.arn}") as held:
            if not held:
                report.skipped.append(str(orphan))
                return
            if self.reporting:
                report.orphans_reported.append(orphan)
                self._audit_once(
                    now, request_id, "orphan_permission_set_found", orphan.audit_detail()
                )
                return
            accounts = [a.id for a in self.services.catalog.accounts]
            request = self.services.store.get(ps.request_id)
            if request is not None and request.account_id not in accounts:
                accounts.append(request.account_id)
            try:
                self.services.aws.delete_custom_permission_set(
                    ps.arn,
                    request_id=ps.request_id,
                    account_ids=accounts,
                    trust_description=ps.source == "description",
                )
            except AwsError as exc:
                self._error(
                    report,
                    now,
                    f"deleting {orphan}",
                    exc,
                    "orphan_permission_set_delete_failed",
                    orphan.audit_detail(),
                    request_id,
                )
                return
            report.orphans_deleted.append(orphan)
            self.services.store.audit(
                request_id, ACTOR, "orphan_permission_set_deleted", now, orphan.audit_detail()
            )
            log.warning("drift: deleted orphan %s", orphan)

    @contextmanager
    def _lease(self, key: str) -> Iterator[bool]:
        """Hold ``key`` (a store lease, like :meth:`Services.assignment_guard`) so two
        replicas never act on one permission set at once."""
        with self.services.leases.hold(key) as held:
            yield held

    # -- telling ------------------------------------------------------------------------

    def _error(
        self,
        report: ReconcileReport,
        now: datetime,
        what: str,
        exc: AwsError,
        action: str | None = None,
        detail: dict[str, Any] | None = None,
        request_id: int | None = None,
    ) -> None:
        text = f"{what} failed: {exc}"
        report.errors.append(text)
        log.error("drift: %s", text)
        if action is not None:
            self.services.store.audit(
                request_id, ACTOR, action, now, {**(detail or {}), "reason": str(exc)}
            )

    def _audit_once(
        self, now: datetime, request_id: int | None, action: str, detail: dict[str, Any]
    ) -> None:
        """Audit a report-mode finding unless the previous run of this reconciler
        already did (it is audited again once it went away and came back)."""
        key = f"{action}:{sorted(detail.items())}"
        self._audited_now.add(key)
        if key not in self._audited:
            self.services.store.audit(request_id, ACTOR, action, now, detail)

    def _alert(self, report: ReconcileReport, now: datetime) -> None:
        """One alert to the admins with the run's findings, unless the only ones are
        report-mode findings and errors the previous run already alerted."""
        lines = [line for line in report.lines() if not line.startswith("skipped")]
        repeatable = {line for line in lines if line.startswith(("found ", "error: "))}
        fresh = [line for line in lines if line not in repeatable or line not in self._alerted]
        self._alerted = repeatable
        if not fresh:
            return
        shown = lines[:ALERT_LINES]
        more = len(lines) - len(shown)
        text = "\n".join(
            [
                f":mag: {report.summary()}",
                *(f"• {line}" for line in shown),
                *(
                    [
                        f"…and {more} more (see the audit log, or run `jitbot reconcile --report-only`)"
                    ]
                    if more
                    else []
                ),
            ]
        )
        self.services.tell(None, [Outgoing.alert(text)], now)
