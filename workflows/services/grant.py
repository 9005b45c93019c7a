"""Grant: make an Approved request Active by creating its account assignment.

``CreateAccountAssignment`` is asynchronous, and AWS may take longer than the adapter
waits (``AssignmentTimeout``). Such a grant is not failed and nothing is undone while
AWS may still finish it: the request stays Approved with the operation's AWS request id
recorded (audit ``grant_pending``), and every sweep (which grants Approved requests
again) reads its status once (``DescribeAccountAssignmentCreationStatus``): SUCCEEDED
makes it Active as any grant, FAILED makes it Failed (told and audited); only after
``pending_timeout`` without a final status is it undone and Failed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows import lifecycle
from workflows.access_granter import AccessGranter
from workflows.assignments import AssignmentFailed, AssignmentTimeout, AwsError
from workflows.config import Config
from workflows.config.defaults import DEFAULT_PENDING_GRANT_TIMEOUT
from workflows.domain import AccessRequest, GrantedSession, Notice, NoticeKind, Outgoing, changed
from workflows.ports import Store
from workflows.services.authority import Authority
from workflows.services.hooks import Hooks
from workflows.services.jit_sets import BoundaryChanged, JitSets
from workflows.services.leases import Leases, assignment_of, key_of
from workflows.services.warning import warning_time
from workflows.states import Event, Status

log = logging.getLogger("jitbot.workflows")


@dataclass(frozen=True)
class Granting:
    """Grants requests in ``aws`` under the assignment's lease (``leases``).

    ``pending_timeout`` is how long a grant AWS has not finished is followed before it
    is undone and Failed (``identity_center.pending_grant_timeout``, 1 hour by default).
    """

    store: Store
    aws: AccessGranter
    authority: Authority
    leases: Leases
    sets: JitSets
    hooks: Hooks
    pending_timeout: timedelta = DEFAULT_PENDING_GRANT_TIMEOUT
    #: ``expiry_warning``: the scheduler also wakes when the session's requester is to
    #: be warned of its end (:mod:`workflows.services.warning`); None: no warning
    expiry_warning: timedelta | None = None

    def grant(self, request_id: int, now: datetime) -> AccessRequest:
        """Create the account assignment of an Approved request and make it Active.

        Safe to call again for the same request (after a crash, from the sweep, from
        another replica): the work is done under the assignment's lease, the assignment
        is idempotent, and only the caller that moves Approved -> Active tells about it.
        A FAILED status or an AWS error makes the request Failed, told to the requester
        and approvers. A creation AWS had not finished in time leaves the request
        Approved and pending (see the module doc); calling this again reads its status.
        When another replica holds the lease, nothing is done here and the
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
        if request.grant_operation is not None:
            return self._follow(request, now)
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
        except AssignmentTimeout as exc:
            if exc.request_id:
                return self._pending(request, now, exc.request_id, exc)
            return self._failed(request, now, exc)
        except (AwsError, BoundaryChanged) as exc:
            return self._failed(request, now, exc)
        return self._granted(request, now)

    def _granted(
        self, request: AccessRequest, now: datetime, operation: str | None = None
    ) -> AccessRequest:
        """Approved -> Active with a session from ``now``, told once."""
        session = GrantedSession(granted_at=now, expires_at=now + request.duration)
        detail = {"expires_at": session.expires_at.isoformat(), "replica": self.leases.holder}
        if operation is not None:
            detail["aws_request_id"] = operation
        if lifecycle.apply(
            self.store,
            request,
            Event.GRANTED,
            now=now,
            actor="jitbot",
            action="granted",
            session=session,
            detail=detail,
            outbox=changed(Notice(NoticeKind.GRANTED)),
        ):
            self.hooks.kick()
            self.hooks.wake_at(session.expires_at)
            warn_at = warning_time(session, self.expiry_warning)
            if warn_at is not None:
                self.hooks.wake_at(warn_at)
        return self.authority.get(request.id)

    def _pending(
        self, request: AccessRequest, now: datetime, operation: str, exc: AwsError
    ) -> AccessRequest:
        """AWS had not finished the creation in time: keep the request Approved with
        ``operation`` (its AWS request id) recorded for the sweep to follow, audited
        ``grant_pending``; nothing is undone, and the threads say once that AWS is still
        at it (a later sweep follows it with :meth:`_follow`, which tells nothing until
        the creation ends)."""
        log.warning(
            "grant of request %s pending in AWS (request %s): %s", request.id, operation, exc
        )
        self.store.set_grant_operation(request.id, operation, now)
        self.store.enqueue(request.id, [Outgoing.announce(Notice(NoticeKind.GRANT_PENDING))], now)
        self.store.audit(
            request.id,
            "jitbot",
            "grant_pending",
            now,
            {
                "aws_request_id": operation,
                "reason": str(exc),
                "gives_up_at": (now + self.pending_timeout).isoformat(),
            },
        )
        self.hooks.kick()
        return self.authority.get(request.id)

    def _follow(self, request: AccessRequest, now: datetime) -> AccessRequest:
        """One status read of a pending grant's creation: SUCCEEDED -> Active, FAILED
        -> Failed; still under way (or unreadable) -> unchanged until
        ``pending_timeout`` after it was first found pending, then undone and Failed."""
        operation = request.grant_operation
        assert operation is not None
        try:
            status = self.aws.assignment_creation_status(operation)
        except AwsError as exc:
            log.warning("grant of request %s: status of %s: %s", request.id, operation, exc)
            status = None
        if status is not None and status.state == "SUCCEEDED":
            return self._granted(request, now, operation)
        if status is not None and status.state == "FAILED":
            reason = status.reason or "no reason given"
            failure = AssignmentFailed(
                f"IAM Identity Center could not assign {request.permission_set_name} in "
                f"{request.account_label}: {reason} (request {operation})",
                reason=reason,
                request_id=operation,
            )
            return self._failed(request, now, failure)
        since = request.grant_pending_since or now
        if now - since < self.pending_timeout:
            return request
        return self._failed(
            request,
            now,
            AssignmentTimeout(
                f"IAM Identity Center had not finished assigning "
                f"{request.permission_set_name} in {request.account_label} "
                f"{_minutes(now - since)} after it was asked (request {operation}); "
                "what it may have done was removed",
                request_id=operation,
            ),
        )

    def _failed(
        self, request: AccessRequest, now: datetime, exc: AwsError | BoundaryChanged
    ) -> AccessRequest:
        """The grant failed in AWS, or was refused (the boundary changed since approval):
        undo what may have been done, make it Failed."""
        log.warning("grant of request %s failed: %s", request.id, exc)
        if not isinstance(exc, AssignmentFailed) and request.permission_set_arn:
            # AWS may still finish what it did not confirm (retries used up, a pending
            # creation given up on): remove it so no access outlives the Failed request.
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


def pending_timeout_of(config: Config) -> timedelta:
    """``identity_center.pending_grant_timeout``, or its default without that key."""
    ic = config.identity_center
    return ic.pending_grant_timeout if ic else DEFAULT_PENDING_GRANT_TIMEOUT


def _minutes(elapsed: timedelta) -> str:
    """``"61 minutes"``: a pending grant's age, as the give-up message says it."""
    return f"{int(elapsed.total_seconds() // 60)} minutes"
