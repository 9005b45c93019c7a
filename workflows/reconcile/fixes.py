"""What the reconciler does about a finding, each under the lease of what it touches and
after reading the store again: remove (or report) a stray assignment, mark a vanished
grant Revoked, delete (or report) an orphan ``JIT-`` set."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from workflows import lifecycle
from workflows.assignments import Assignment, AwsError
from workflows.domain import AccessRequest, GrantedSession, Notice, NoticeKind, changed
from workflows.reconcile.findings import OrphanSet, ReconcileReport, StrayAssignment, VanishedGrant
from workflows.reconcile.scan import BACKING, backed, may_have_vanished
from workflows.reconcile.telling import ACTOR, Telling
from workflows.services import Services, assignment_of
from workflows.states import Event, Status

log = logging.getLogger("jitbot.reconcile")

#: End reason of a session whose assignment was removed outside jitbot.
VANISHED_REASON = "access removed outside jitbot"


class Fixes:
    """The reconciler's changes, through ``services`` (store, AWS, leases, outbox)."""

    def __init__(self, services: Services, telling: Telling) -> None:
        self._services = services
        self._telling = telling

    def _backed_now(self, assignment: Assignment) -> bool:
        """:func:`backed` against the store as it is now (ACTIVE or APPROVED)."""
        store = self._services.store
        return any(backed(assignment, store.with_status(status)) for status in BACKING)

    def stray(
        self, report: ReconcileReport, now: datetime, stray: StrayAssignment, *, reporting: bool
    ) -> None:
        """Remove ``stray`` (or, ``reporting``, audit it once) unless a grant landed."""
        a = stray.assignment
        services = self._services
        with services.assignment_guard(a.principal_id, a.account_id, a.permission_set_arn) as held:
            if not held:
                report.skipped.append(str(stray))
                return
            if self._backed_now(a):  # a grant landed (or is landing) meanwhile
                return
            if reporting:
                report.stray_reported.append(stray)
                self._telling.audit_once(now, None, "drift_assignment_found", stray.audit_detail())
                return
            try:
                if not services.aws.has_assignment(a):
                    return  # gone meanwhile (another replica's run, or by hand)
                services.aws.unassign(a)
            except AwsError as exc:
                what = f"removing {a}"
                detail = stray.audit_detail()
                self._telling.error(
                    report, now, what, exc, "drift_assignment_remove_failed", detail
                )
                return
            report.stray_removed.append(stray)
            services.store.audit(None, ACTOR, "drift_assignment_removed", now, stray.audit_detail())
            log.warning("drift: removed %s", stray)

    def vanished(
        self, report: ReconcileReport, now: datetime, request: AccessRequest, settle: timedelta
    ) -> None:
        """Mark ``request`` Revoked if its assignment is still gone (checked again)."""
        services = self._services
        guard = services.assignment_guard(
            request.principal_id, request.account_id, request.permission_set_arn
        )
        with guard as held:
            if not held:
                report.skipped.append(f"request #{request.id}")
                return
            fresh = services.store.get(request.id)
            if (
                fresh is None
                or fresh.status != Status.ACTIVE
                or not may_have_vanished(fresh, now, settle)
            ):
                return
            try:
                if services.aws.has_assignment(assignment_of(fresh)):
                    return  # back, or only slow to show in the list
            except AwsError as exc:
                what = f"checking the assignment of request #{fresh.id}"
                self._telling.error(report, now, what, exc)
                return
            if self._mark_vanished(fresh, now):
                report.vanished.append(
                    VanishedGrant(
                        fresh.id,
                        fresh.requester.email,
                        fresh.permission_set_name,
                        fresh.account_label,
                    )
                )
                log.warning("drift: request %s's assignment vanished; marked Revoked", fresh.id)

    def _mark_vanished(self, request: AccessRequest, now: datetime) -> bool:
        assert request.session is not None
        session = request.session
        ended = GrantedSession(session.granted_at, session.expires_at, now, VANISHED_REASON)
        won = lifecycle.apply(
            self._services.store,
            request,
            Event.REVOKE,
            now=now,
            actor=ACTOR,
            action="assignment_vanished",
            session=ended,
            detail={"reason": VANISHED_REASON, "expires_at": session.expires_at.isoformat()},
            outbox=changed(Notice(NoticeKind.ASSIGNMENT_VANISHED)),
        )
        if won:
            self._services.kick()
        return won

    def orphan_set(
        self, report: ReconcileReport, now: datetime, orphan: OrphanSet, *, reporting: bool
    ) -> None:
        """Delete ``orphan`` (or, ``reporting``, audit it once) under its own lease."""
        services = self._services
        ps = orphan.permission_set
        request_id = ps.request_id if orphan.request_status is not None else None
        with services.leases.hold(f"orphan-set:{ps.arn}") as held:
            if not held:
                report.skipped.append(str(orphan))
                return
            detail = orphan.audit_detail()
            if reporting:
                report.orphans_reported.append(orphan)
                self._telling.audit_once(now, request_id, "orphan_permission_set_found", detail)
                return
            accounts = [a.id for a in services.catalog.accounts]
            request = services.store.get(ps.request_id)
            if request is not None and request.account_id not in accounts:
                accounts.append(request.account_id)
            try:
                services.aws.delete_custom_permission_set(
                    ps.arn,
                    request_id=ps.request_id,
                    account_ids=accounts,
                )
            except AwsError as exc:
                action = "orphan_permission_set_delete_failed"
                what = f"deleting {orphan}"
                self._telling.error(report, now, what, exc, action, detail, request_id)
                return
            report.orphans_deleted.append(orphan)
            services.store.audit(request_id, ACTOR, "orphan_permission_set_deleted", now, detail)
            log.warning("drift: deleted orphan %s", orphan)
