"""Grant: make an Approved request Active by creating its account assignment."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from workflows import lifecycle
from workflows.access_granter import AccessGranter
from workflows.assignments import AssignmentFailed, AwsError
from workflows.domain import AccessRequest, GrantedSession, Notice, NoticeKind, Outgoing, changed
from workflows.ports import Store
from workflows.services.authority import Authority
from workflows.services.hooks import Hooks
from workflows.services.jit_sets import BoundaryChanged, JitSets
from workflows.services.leases import Leases, assignment_of, key_of
from workflows.states import Event, Status

log = logging.getLogger("jitbot.workflows")


@dataclass(frozen=True)
class Granting:
    """Grants requests in ``aws`` under the assignment's lease (``leases``)."""

    store: Store
    aws: AccessGranter
    authority: Authority
    leases: Leases
    sets: JitSets
    hooks: Hooks

    def grant(self, request_id: int, now: datetime) -> AccessRequest:
        """Create the account assignment of an Approved request and make it Active.

        Safe to call again for the same request (after a crash, from the sweep, from
        another replica): the work is done under the assignment's lease, the assignment
        is idempotent, and only the caller that moves Approved -> Active tells about it.
        A FAILED status or an AWS error makes the request Failed, told to the requester
        and approvers. When another replica holds the lease, nothing is done here and the
        request is returned as it is (that replica, or a later sweep, finishes it). A
        final approval takes the lease with the decision instead
        (:meth:`~workflows.services.decide.Deciding.decide`).

        Raises:
            UnknownRequest: no such request.
        """
        request = self.authority.get(request_id)
        with self.leases.assignment_guard(*key_of(request)) as held:
            if not held:
                self.hooks.kick()
                return request
            request = self.authority.get(request_id)
            if request.status != Status.APPROVED:
                self.hooks.kick()
                return request
            return self.grant_leased(request, now)

    def grant_leased(
        self, request: AccessRequest, now: datetime, *, others: int | None = None
    ) -> AccessRequest:
        """The work of :meth:`grant` once the assignment's lease is held and the request
        is known to be Approved. ``others`` is :meth:`Store.other_active_grants` when the
        caller already counted it under the lease (None: counted here)."""
        try:
            if request.custom is not None and not request.permission_set_arn:
                request = self.sets.create(request)
                others = None
            # An overlapping active grant of the same assignment already holds it;
            # creating it again would be a no-op in AWS.
            if others is None:
                others = self.store.other_active_grants(request, now)
            if others == 0:
                started = time.monotonic()
                self.aws.assign(assignment_of(request))
                self.hooks.on_timing("grant", time.monotonic() - started)
        except (AwsError, BoundaryChanged) as exc:
            return self._failed(request, now, exc)
        session = GrantedSession(granted_at=now, expires_at=now + request.duration)
        if lifecycle.apply(
            self.store,
            request,
            Event.GRANTED,
            now=now,
            actor="jitbot",
            action="granted",
            session=session,
            detail={"expires_at": session.expires_at.isoformat(), "replica": self.leases.holder},
            outbox=changed(Notice(NoticeKind.GRANTED)),
        ):
            self.hooks.kick()
            self.hooks.wake_at(session.expires_at)
        return self.authority.get(request.id)

    def _failed(
        self, request: AccessRequest, now: datetime, exc: AwsError | BoundaryChanged
    ) -> AccessRequest:
        """The grant failed in AWS, or was refused (the boundary changed since approval):
        undo what may have been done, make it Failed."""
        log.warning("grant of request %s failed: %s", request.id, exc)
        if not isinstance(exc, AssignmentFailed) and request.permission_set_arn:
            # AWS may still finish what it did not confirm (a timeout, retries
            # used up): remove it so no access outlives the Failed request.
            self._undo_uncertain_assignment(request, now)
        if request.custom is not None and request.permission_set_arn:
            self.sets.delete(request, now)
        lifecycle.apply(
            self.store,
            request,
            Event.GRANT_FAILED,
            now=now,
            actor="jitbot",
            action="grant_failed",
            detail={"reason": str(exc)},
            outbox=changed(Notice(NoticeKind.GRANT_FAILED, str(exc))),
        )
        self.hooks.kick()
        return self.authority.get(request.id)

    def _undo_uncertain_assignment(self, request: AccessRequest, now: datetime) -> None:
        if self.store.other_active_grants(request, now) > 0:
            return  # an overlapping grant holds this assignment legitimately
        try:
            self.aws.unassign(assignment_of(request))
        except AwsError as exc:
            alert = Outgoing.alert(
                f"Request #{request.id} failed and its account assignment could not be "
                f"confirmed removed ({exc}). Check {request.account_label} for "
                f"{request.requester.email} / {request.permission_set_name}."
            )
            self.store.audit(
                request.id, "jitbot", "undo_failed", now, {"reason": str(exc)}, outbox=[alert]
            )
