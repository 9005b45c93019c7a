"""The lifecycle's services: submit, decide, grant, end and the periodic sweep.

Each service takes ``now`` (aware UTC) from its caller; tests move time instead of
sleeping. Storage is the source of truth: every status change is a compare-and-set
(:meth:`Store.transition`), and AWS side effects happen only by the caller that won it,
or by the sweep for work left half-done (APPROVED but not ACTIVE after a crash).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from workflows.assignments import Assignment, AssignmentFailed, AwsError
from workflows.catalog import Catalog, CatalogAccount
from workflows.config import Config
from workflows.custom_sets import StandardSetPolicies, approver_warnings, managed_policy_arn
from workflows.domain import (
    AccessRequest,
    CustomPermissionSet,
    Decision,
    GrantedSession,
    NewRequest,
    Notice,
    NoticeKind,
    Outgoing,
    Person,
    Review,
    Role,
    Stage,
    changed,
)
from workflows.durations import iso8601_duration
from workflows.errors import (
    AlreadyDecided,
    NoIdentityCenterUser,
    NotAuthorized,
    UnknownRequest,
    WorkflowError,
)
from workflows.policy import (
    check_can_decide,
    may_end_own,
    may_revoke,
    may_view,
    route_approvers,
)
from workflows.ports import AccessGranter, Store
from workflows.states import PENDING_STATUSES, Event, Status, next_status
from workflows.validation import RequestForm, check_reason, validate_form

log = logging.getLogger("jitbot.workflows")

# the review stage each pending status decides
STAGES = {Status.PENDING_OWNER: Stage.OWNER, Status.PENDING_ADMIN: Stage.ADMIN}


def assignment_of(request: AccessRequest) -> Assignment:
    """The Identity Center account assignment a request grants."""
    return Assignment(request.account_id, request.permission_set_arn, request.principal_id)


@dataclass
class Services:
    """The lifecycle services, wired to their ports by the composition root.

    ``wake_at`` asks the scheduler to run the sweep at a moment (a session's
    ``expires_at``, a request's approval deadline) for precision; the periodic sweep
    catches anything it misses.
    """

    config: Config
    catalog: Catalog
    store: Store
    aws: AccessGranter
    wake_at: Callable[[datetime], None] = lambda when: None
    # due sessions ended at once by a sweep (Identity Center: 10 outstanding operations)
    parallel_revokes: int = 10
    # standard sets' policies on an account, for "a standard set covers this"
    standard_policies: Callable[[CatalogAccount], Mapping[str, StandardSetPolicies]] = (
        lambda account: {}
    )
    # called after notices were written to the outbox, to have them delivered now
    kick: Callable[[], None] = lambda: None
    # told how long each AWS grant ("grant") and revoke ("revoke") took, in seconds
    on_timing: Callable[[str, float], None] = lambda what, seconds: None
    # this replica's name in leases, how long a lease holds unless renewed, and the
    # (real, UTC) clock leases are measured by
    holder: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    lease: timedelta = timedelta(seconds=15)
    lease_clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _ending: set[int] = field(default_factory=set)  # queued or being ended by the pool
    _revokers: ThreadPoolExecutor | None = None
    _locks: dict[tuple[str, str, str], threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    # -- submit ---------------------------------------------------------------------

    def principal_of(self, person: Person) -> str | None:
        """The Identity Center user id matching ``person``'s Slack email (identitystore
        ``GetUserId`` on the email, then the user name; cached by the adapter with a
        TTL), or None when there is none.

        Raises:
            AwsError: Identity Center did not answer.
        """
        return self.aws.find_user_id(person.email)

    def submit_request(self, requester: Person, form: RequestForm, now: datetime) -> AccessRequest:
        """Validate and store a new standard request as Pending, then DM its threads.

        Raises:
            InvalidRequest: a form field breaks a rule (nothing stored).
            NoIdentityCenterUser: the requester's email matches no Identity Center user.
            NoApprover: nobody could approve it.
        """
        valid = validate_form(self.config, self.catalog, form)
        try:
            principal_id = self.principal_of(requester)
        except AwsError as exc:
            log.warning("identity lookup for %s failed: %s", requester.email, exc)
            raise WorkflowError(
                "AWS IAM Identity Center isn't answering right now, so no request was made. "
                "Try again in a minute."
            ) from exc
        if principal_id is None:
            raise NoIdentityCenterUser(
                f"Your Slack email {requester.email} doesn't match a user in AWS IAM Identity "
                "Center, so no request was made. Ask your AWS administrator to create an "
                "Identity Center user with that email address (or user name), then try again."
            )
        routing = route_approvers(self.config, valid.account.id, requester.email)
        custom = None
        if valid.custom is not None:
            spec = valid.custom
            warnings = approver_warnings(spec, standard_sets=self.standard_policies(valid.account))
            custom = CustomPermissionSet(
                spec.name,
                spec.session_duration,
                spec.managed_policies,
                spec.inline_policy,
                tuple((w.severity, w.text) for w in warnings),
            )
        request = self.store.add_request(
            NewRequest(
                requester=requester,
                principal_id=principal_id,
                account_id=valid.account.id,
                account_name=valid.account.name,
                permission_set_name=valid.permission_set_name,
                permission_set_arn=valid.permission_set_arn,
                duration=valid.duration,
                justification=valid.justification,
                requested_at=now,
                approval_deadline=now + self.config.approval_timeout,
                approvers=routing.emails,
                custom=custom,
                status=Status.PENDING if custom is None else Status.PENDING_OWNER,
                session_limit=self.catalog.session_limits.get(valid.permission_set_name),
            ),
            # the threads: the requester's root, then one DM per approver (whoever can't
            # be reached in Slack is found out at delivery; see workflows.outbox)
            outbox=[
                Outgoing.thread(),
                *(
                    Outgoing.approval(email, Role.APPROVER, last=i == len(routing.emails) - 1)
                    for i, email in enumerate(routing.emails)
                ),
                *(
                    [Outgoing.announce(Notice(NoticeKind.SENT_TO_ADMINS))]
                    if routing.fell_back
                    else []
                ),
            ],
        )
        self.kick()
        if routing.fell_back:
            self.store.audit(request.id, "jitbot", "routed_to_admins", now)
        self.wake_at(request.approval_deadline)
        return request

    # -- decide ---------------------------------------------------------------------

    def decide(
        self,
        request_id: int,
        actor: Person,
        approve: bool,
        now: datetime,
        comment: str | None = None,
    ) -> AccessRequest:
        """Approve or reject a pending request; on approval, grant it.

        Authority is checked from the config and the stored request. The first decision
        wins (compare-and-set); later ones raise :class:`AlreadyDecided` naming who decided.

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided.
        """
        comment = check_reason(comment)
        request = self.decidable(request_id, actor)
        event = Event.APPROVE if approve else Event.REJECT
        stage = STAGES.get(request.status, Stage.SINGLE)
        decision = Decision.APPROVED if approve else Decision.REJECTED
        review = Review(stage, decision, actor, now, comment)
        to_status = (
            next_status(request.status, event) if request.status in PENDING_STATUSES else None
        )
        if to_status == Status.PENDING_ADMIN:
            notices = [
                *changed(Notice(NoticeKind.OWNER_APPROVED, comment)),
                *self._admin_stage(request, actor),
            ]
        elif approve:
            notices = changed(Notice(NoticeKind.APPROVED, comment))
        else:
            notices = changed(Notice(NoticeKind.REJECTED, comment))
        change: dict[str, Any] = dict(
            now=now,
            actor=actor.email,
            action=review.decision.value if stage == Stage.SINGLE else f"{stage}_{decision}",
            detail={"comment": comment} if comment else None,
            review=review,
            outbox=notices,
        )
        if to_status == Status.APPROVED:
            # the final approval: the decision and the assignment's lease in one commit,
            # then straight to AWS (the approval's notices go out with the grant's, so
            # Slack traffic does not compete with the AWS call)
            return self._approve_and_grant(request, now, change)
        won = to_status is not None and self.store.transition(
            request.id, request.status, to_status, **change
        )
        if not won:
            raise AlreadyDecided(self._already_decided_text(self._reload(request.id), actor))
        self.kick()
        return self._reload(request.id)

    def _approve_and_grant(
        self, request: AccessRequest, now: datetime, change: dict[str, Any]
    ) -> AccessRequest:
        """Record the final approval and take the assignment's lease in one transaction
        (:meth:`storage.store.SqlStore.transition_leasing`), then grant under that lease.

        Holding the lease from the decision's own commit is what :meth:`grant` would do
        in a second transaction: the same per-assignment lock of this process is held
        first, and another replica holding the lease leaves the grant to it (or to a
        later sweep) exactly as :meth:`grant` does. Raises :class:`AlreadyDecided` when
        another decision won.
        """
        key = self._key(request)
        name = self._lease_name(key)
        with self._local_lock(key):
            at = self.lease_clock()
            outcome = self.store.transition_leasing(
                request.id,
                request.status,
                Status.APPROVED,
                lease_key=name,
                holder=self.holder,
                lease_now=at,
                lease_until=at + self.lease,
                # a custom request's set (so its ARN) may not exist yet: counted later
                grants_of=request if request.custom is None else None,
                **change,
            )
            if outcome.won and outcome.leased:
                try:
                    # nobody moves an Approved request without this lease, so it is
                    # still Approved: no need to read its status again
                    return self._grant_leased(request, now, others=outcome.others)
                finally:
                    self.store.release_lease(name, self.holder)
        if not outcome.won:
            actor = change["review"].reviewer
            raise AlreadyDecided(self._already_decided_text(self._reload(request.id), actor))
        log.info("%s is leased by another replica; leaving it to them", name)
        self.kick()
        return self._reload(request.id)

    def _admin_stage(self, request: AccessRequest, owner: Person) -> list[Outgoing]:
        """The DMs that take a custom request to the SSO admins and admins (not the
        requester, not the owner who approved) for its final approval."""
        people = {owner.email.lower()}
        if not self.config.allow_self_approval:
            people.add(request.requester.email.lower())
        emails = [
            e
            for e in dict.fromkeys([*self.config.sso_admins, *self.config.admins])
            if e not in people
        ]
        if not emails:
            return [
                Outgoing.alert(
                    f"Custom request #{request.id} ({request.requester.email} on "
                    f"{request.account_label}) needs an SSO admin's approval, but there is "
                    "no SSO admin or admin other than its owner approver."
                )
            ]
        return [
            Outgoing.approval(email, Role.ADMIN_APPROVER, last=i == len(emails) - 1)
            for i, email in enumerate(emails)
        ]

    @staticmethod
    def _already_decided_text(request: AccessRequest, actor: Person | None = None) -> str:
        review = request.decision
        if review is not None and actor is not None and review.reviewer.email == actor.email:
            return f"You already {review.decision.value} this request."
        if review is not None:
            return (
                f"This request was already {review.decision.value} by {review.reviewer.name} "
                f"({review.reviewer.email})."
            )
        return f"This request can't be decided any more: it is {request.status_label}."

    # -- grant ----------------------------------------------------------------------

    def grant(self, request_id: int, now: datetime) -> AccessRequest:
        """Create the account assignment of an Approved request and make it Active.

        Safe to call again for the same request (after a crash, from the sweep, from
        another replica): the work is done under the assignment's lease, the assignment
        is idempotent, and only the caller that moves Approved -> Active tells about it.
        A FAILED status or an AWS error makes the request Failed, told to the requester
        and approvers. When another replica holds the lease, nothing is done here and the
        request is returned as it is (that replica, or a later sweep, finishes it). A
        final approval in :meth:`decide` takes the lease with the decision instead.
        """
        request = self._get(request_id)
        with self.assignment_guard(*self._key(request)) as held:
            if not held:
                self.kick()
                return request
            request = self._reload(request_id)
            if request.status != Status.APPROVED:
                self.kick()
                return request
            return self._grant_leased(request, now)

    def _grant_leased(
        self, request: AccessRequest, now: datetime, *, others: int | None = None
    ) -> AccessRequest:
        """The work of :meth:`grant` once the assignment's lease is held and the request
        is known to be Approved. ``others`` is :meth:`Store.other_active_grants` when the
        caller already counted it under the lease (None: counted here)."""
        try:
            if request.custom is not None and not request.permission_set_arn:
                request = self._create_custom_set(request)
                others = None
            # An overlapping active grant of the same assignment already holds it;
            # creating it again would be a no-op in AWS (and a duplicate in moto).
            if others is None:
                others = self.store.other_active_grants(request, now)
            if others == 0:
                started = time.monotonic()
                self.aws.assign(assignment_of(request))
                self.on_timing("grant", time.monotonic() - started)
        except AwsError as exc:
            log.warning("grant of request %s failed: %s", request.id, exc)
            if not isinstance(exc, AssignmentFailed) and request.permission_set_arn:
                # AWS may still finish what it did not confirm (a timeout, retries
                # used up): remove it so no access outlives the Failed request.
                self._undo_uncertain_assignment(request, now)
            if request.custom is not None and request.permission_set_arn:
                self._delete_custom_set(request, now)
            self.store.transition(
                request.id,
                Status.APPROVED,
                Status.FAILED,
                now=now,
                actor="jitbot",
                action="grant_failed",
                detail={"reason": str(exc)},
                outbox=changed(Notice(NoticeKind.GRANT_FAILED, str(exc))),
            )
            self.kick()
            return self._reload(request.id)
        session = GrantedSession(granted_at=now, expires_at=now + request.duration)
        if self.store.transition(
            request.id,
            Status.APPROVED,
            Status.ACTIVE,
            now=now,
            actor="jitbot",
            action="granted",
            session=session,
            detail={"expires_at": session.expires_at.isoformat(), "replica": self.holder},
            outbox=changed(Notice(NoticeKind.GRANTED)),
        ):
            self.kick()
            self.wake_at(session.expires_at)
        return self._reload(request.id)

    # -- end ------------------------------------------------------------------------

    def end_session(
        self,
        request_id: int,
        now: datetime,
        *,
        event: Event = Event.EXPIRE,
        actor: str = "jitbot",
        reason: str | None = None,
        notice: Notice | None = None,
    ) -> AccessRequest:
        """Remove the access of an Active request and mark it Expired (or Revoked).

        The assignment is deleted first and the status changes only once AWS confirms,
        so a session never shows as ended while its assignment exists. If the same
        principal holds another active grant of the same permission set on the same
        account, the assignment stays for it. A failed delete leaves the request Active
        (the sweep retries) and alerts the admins once for the session, across replicas
        and restarts (from the audit trail). The work is done under the
        assignment's lease: when another replica holds it, nothing is done here and the
        request is returned still Active (that replica ends it).
        """
        request = self._get(request_id)
        with self.assignment_guard(*self._key(request)) as held:
            request = self._reload(request_id)
            if not held or request.status != Status.ACTIVE:
                return request
            shared = self.store.other_active_grants(request, now) > 0
            if not shared:
                try:
                    started = time.monotonic()
                    self.aws.unassign(assignment_of(request))
                    self.on_timing("revoke", time.monotonic() - started)
                except AwsError as exc:
                    log.error("revoke of request %s failed, will retry: %s", request.id, exc)
                    # once per session, whichever replica (or restart) fails: the
                    # audit trail remembers what a process would forget
                    first = not any(
                        event["action"] == "revoke_failed"
                        for event in self.store.audit_events(request.id)
                    )
                    alert = Outgoing.alert(
                        f"Removing the access of request #{request.id} "
                        f"({request.requester.email} on {request.account_label}, "
                        f"{request.permission_set_name}) failed and will be retried: {exc}"
                    )
                    self.store.audit(
                        request.id,
                        "jitbot",
                        "revoke_failed",
                        now,
                        {"reason": str(exc)},
                        outbox=[alert] if first else [],
                    )
                    self.kick()
                    return request
                if request.custom is not None:
                    self._delete_custom_set(request, now)
            to_status = next_status(Status.ACTIVE, event)
            assert request.session is not None
            end_reason = reason or ("expired" if event == Event.EXPIRE else "revoked")
            ended = GrantedSession(
                request.session.granted_at, request.session.expires_at, now, end_reason
            )
            if self.store.transition(
                request.id,
                Status.ACTIVE,
                to_status,
                now=now,
                actor=actor,
                action=to_status.value,
                session=ended,
                detail={"assignment_kept_for_overlapping_grant": shared, "replica": self.holder},
                outbox=changed(replace(notice or Notice(NoticeKind.EXPIRED), kept=shared)),
            ):
                self.kick()
            return self._reload(request.id)

    def revoke(
        self, request_id: int, actor: Person, now: datetime, reason: str | None = None
    ) -> AccessRequest:
        """An owner of the account or an admin ends an active session at once.

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided (the session is not active),
            WorkflowError (AWS did not remove the access yet; it is retried).
        """
        request = self.revocable(request_id, actor)
        reason = check_reason(reason)
        end_reason = f"revoked by {actor.name}" + (f": {reason}" if reason else "")
        notice = Notice(NoticeKind.REVOKED, reason, by=actor.name)
        return self._end_early(request, now, actor, end_reason, notice)

    def release(self, request_id: int, actor: Person, now: datetime) -> AccessRequest:
        """The requester ends their own session early ("Release now").

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided, WorkflowError (as :meth:`revoke`).
        """
        request = self.visible(request_id, actor)
        refusal = may_end_own(request, actor)
        if refusal:
            raise NotAuthorized(f"You can't release this session: {refusal}.")
        notice = Notice(NoticeKind.RELEASED, by=actor.name)
        return self._end_early(request, now, actor, "released by the requester", notice)

    def _end_early(
        self,
        request: AccessRequest,
        now: datetime,
        actor: Person,
        end_reason: str,
        notice: Notice,
    ) -> AccessRequest:
        if request.status != Status.ACTIVE:
            raise AlreadyDecided(f"This session is not active: it is {request.status_label}.")
        ended = self.end_session(
            request.id,
            now,
            event=Event.REVOKE,
            actor=actor.email,
            reason=end_reason,
            notice=notice,
        )
        if ended.status == Status.ACTIVE:
            raise WorkflowError(
                "AWS did not remove the access yet; jitbot keeps retrying it and the admins "
                "have been alerted. The session shows as ended once AWS confirms."
            )
        return ended

    def cancel(self, request_id: int, actor: Person, now: datetime) -> AccessRequest:
        """The requester withdraws their own pending request.

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided (no longer pending).
        """
        request = self.visible(request_id, actor)
        refusal = may_end_own(request, actor)
        if refusal:
            raise NotAuthorized(f"You can't cancel this request: {refusal}.")
        won = request.status in PENDING_STATUSES and self.store.transition(
            request.id,
            request.status,
            Status.CANCELLED,
            now=now,
            actor=actor.email,
            action="cancelled",
            outbox=changed(Notice(NoticeKind.CANCELLED, by=actor.name)),
        )
        if not won:
            raise AlreadyDecided(self._already_decided_text(self._reload(request.id)))
        self.kick()
        return self._reload(request.id)

    def time_out(self, request_id: int, now: datetime) -> AccessRequest:
        """A pending request whose approval window passed becomes Expired (TIMED_OUT)."""
        request = self._get(request_id)
        if request.status in PENDING_STATUSES and self.store.transition(
            request.id,
            request.status,
            Status.TIMED_OUT,
            now=now,
            actor="jitbot",
            action="timed_out",
            outbox=changed(Notice(NoticeKind.TIMED_OUT)),
        ):
            self.kick()
        return self._reload(request.id)

    # -- sweep ----------------------------------------------------------------------

    def sweep(self, now: datetime, *, wait: bool = True) -> None:
        """Do everything due at ``now``: grants left half-done, sessions past their end,
        pending requests past their approval deadline. Errors of one request are logged
        and do not stop the others.

        Due sessions are ended by a standing pool of :attr:`parallel_revokes` workers,
        fed in due order: each removal waits on an asynchronous AWS operation, and
        Identity Center allows 10 outstanding assignment operations (IAM Identity Center
        quotas), so one at a time would leave access up to ten times longer than needed
        when many fall due together. A session already queued or being ended is not
        queued again. ``wait=False`` (the scheduler) returns once the due sessions are
        queued, so the next sweep can feed the pool while it works; ``wait=True`` (the
        default) returns once those this sweep queued are done.
        """
        for request in self.store.with_status(Status.APPROVED):
            self._run_logged(self.grant, request, now)
        queued = []
        for request in self.store.active_ending_before(now):  # soonest first
            with self._locks_guard:
                if request.id in self._ending:
                    continue
                self._ending.add(request.id)
            queued.append(self._revoker().submit(self._end_due, request.id, now))
        for request in self.store.pending_past_deadline(now):
            self._run_logged(self.time_out, request, now)
        if wait:
            for future in queued:
                future.result()

    def _revoker(self) -> ThreadPoolExecutor:
        with self._locks_guard:
            if self._revokers is None:
                self._revokers = ThreadPoolExecutor(
                    max_workers=max(1, self.parallel_revokes), thread_name_prefix="revoke"
                )
            return self._revokers

    def _end_due(self, request_id: int, now: datetime) -> None:
        try:
            self.end_session(request_id, now)
        except Exception:  # keep going; the next sweep retries this one
            log.exception("sweep: ending request %s failed", request_id)
        finally:
            with self._locks_guard:
                self._ending.discard(request_id)

    def close(self) -> None:
        """Finish the sessions being ended (a clean stop), then stop the pool."""
        with self._locks_guard:
            revokers, self._revokers = self._revokers, None
        if revokers is not None:
            revokers.shutdown(wait=True)

    @staticmethod
    def _run_logged(
        job: Callable[[int, datetime], AccessRequest], request: AccessRequest, now: datetime
    ) -> None:
        try:
            job(request.id, now)
        except Exception:  # keep sweeping; the next sweep retries this one
            log.exception("sweep: %s of request %s failed", job.__name__, request.id)

    # -- custom permission sets ----------------------------------------------------

    def _create_custom_set(self, request: AccessRequest) -> AccessRequest:
        """Create the request's ``JIT-`` permission set and record its ARN (before the
        assignment, so a crash leaves a set the sweep reuses rather than a second one)."""
        assert request.custom is not None
        spec = request.custom
        arn = self.aws.create_custom_permission_set(
            name=spec.name,
            session_duration=iso8601_duration(spec.session_duration),
            description=(
                f"Created by jitbot for request #{request.id} of {request.requester.email}"
            ),
            request_id=request.id,
            managed_policy_arns=[managed_policy_arn(n) for n in spec.managed_policies],
            inline_policy=spec.inline_policy,
        )
        self.store.set_permission_set_arn(request.id, arn)
        return self._reload(request.id)

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

    def _delete_custom_set(self, request: AccessRequest, now: datetime) -> None:
        """Delete the request's ``JIT-`` set; a failure is audited and told to the admins
        (the access itself is already gone), never raised."""
        try:
            self.aws.delete_custom_permission_set(
                request.permission_set_arn,
                request_id=request.id,
                account_ids=[request.account_id],
            )
            self.store.audit(
                request.id,
                "jitbot",
                "custom_set_deleted",
                now,
                {"permission_set_arn": request.permission_set_arn},
            )
        except AwsError as exc:
            log.error("deleting the custom set of request %s failed: %s", request.id, exc)
            alert = Outgoing.alert(
                f"The permission set {request.custom.name if request.custom else ''} of "
                f"request #{request.id} could not be deleted and is left over: {exc}"
            )
            self.store.audit(
                request.id,
                "jitbot",
                "custom_set_delete_failed",
                now,
                {"permission_set_arn": request.permission_set_arn, "reason": str(exc)},
                outbox=[alert],
            )

    # -- helpers --------------------------------------------------------------------

    def tell(self, request_id: int | None, items: Sequence[Outgoing], now: datetime) -> None:
        """Queue Slack notices that go with no state change (alerts, say) and have them
        delivered (see :mod:`workflows.outbox`)."""
        self.store.enqueue(request_id, items, now)
        self.kick()

    # -- who may act on a request ---------------------------------------------------

    def visible(self, request_id: int, actor: Person) -> AccessRequest:
        """The stored request ``request_id``, if ``actor`` may see it: its requester, an
        owner of its account, an SSO admin or an admin (:func:`~workflows.policy.may_view`).

        An unknown id and someone else's request read the same, so an id forged into a
        button or a form tells an outsider nothing: not whether the request exists, not
        its account. Those who may see it get the precise refusal of each action.

        Raises:
            UnknownRequest: no such request, or ``actor`` may not see it.
        """
        request = self.store.get(request_id)
        if request is None or not may_view(self.config, request, actor):
            raise UnknownRequest(f"There is no request #{request_id} that you can see.")
        return request

    def decidable(self, request_id: int, actor: Person) -> AccessRequest:
        """:meth:`visible`, and ``actor`` may approve or reject it at its stage
        (:func:`~workflows.policy.check_can_decide`; the status is :meth:`decide`'s to
        check). Raises UnknownRequest, NotAuthorized."""
        request = self.visible(request_id, actor)
        check_can_decide(self.config, request, actor)
        return request

    def revocable(self, request_id: int, actor: Person) -> AccessRequest:
        """:meth:`visible`, and ``actor`` may revoke its session
        (:func:`~workflows.policy.may_revoke`; that it is Active is :meth:`revoke`'s to
        check). Raises UnknownRequest, NotAuthorized."""
        request = self.visible(request_id, actor)
        refusal = may_revoke(self.config, request, actor)
        if refusal:
            raise NotAuthorized(f"You can't revoke this session: {refusal}.")
        return request

    def _get(self, request_id: int) -> AccessRequest:
        request = self.store.get(request_id)
        if request is None:
            raise UnknownRequest(f"There is no request #{request_id}.")
        return request

    def _reload(self, request_id: int) -> AccessRequest:
        return self._get(request_id)

    @contextmanager
    def assignment_guard(
        self, principal_id: str, account_id: str, permission_set_arn: str
    ) -> Iterator[bool]:
        """Hold the right to change one account assignment (grants, revokes and the
        reconciler all take it). Yields True when held; False means another replica is
        working on it, so the caller should leave it alone for now."""
        key = (principal_id, account_id, permission_set_arn)
        name = self._lease_name(key)
        with self._local_lock(key):
            now = self.lease_clock()
            if not self.store.claim_lease(name, self.holder, now, now + self.lease):
                log.info("%s is leased by another replica; leaving it to them", name)
                yield False
                return
            try:
                yield True
            finally:
                self.store.release_lease(name, self.holder)

    def _local_lock(self, key: tuple[str, str, str]) -> threading.Lock:
        """This process's lock on one assignment (the lease is per replica: threads of
        one replica are kept apart by this lock)."""
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    @staticmethod
    def _lease_name(key: tuple[str, str, str]) -> str:
        return "assignment:" + "/".join(key)

    @staticmethod
    def _key(request: AccessRequest) -> tuple[str, str, str]:
        return (request.principal_id, request.account_id, request.permission_set_arn)
