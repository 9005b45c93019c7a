"""The lifecycle's services: submit, decide, grant, end and the periodic sweep.

Each service takes ``now`` (aware UTC) from its caller; tests move time instead of
sleeping. Storage is the source of truth: every status change is a compare-and-set
(:meth:`Store.transition`), and AWS side effects happen only by the caller that won it,
or by the sweep for work left half-done (APPROVED but not ACTIVE after a crash).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

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
    Person,
    Review,
    Role,
    Stage,
)
from workflows.durations import iso8601_duration
from workflows.errors import (
    AlreadyDecided,
    NoIdentityCenterUser,
    NotAuthorized,
    UnknownRequest,
    WorkflowError,
)
from workflows.policy import check_can_decide, may_end_own, may_revoke, route_approvers
from workflows.ports import AccessGranter, Notifier, Store
from workflows.states import PENDING_STATUSES, Event, Status, next_status
from workflows.validation import RequestForm, validate_form

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
    notifier: Notifier
    wake_at: Callable[[datetime], None] = lambda when: None
    # due sessions ended at once by a sweep (Identity Center: 10 outstanding operations)
    parallel_revokes: int = 10
    # standard sets' policies on an account, for "a standard set covers this"
    standard_policies: Callable[[CatalogAccount], Mapping[str, StandardSetPolicies]] = (
        lambda account: {}
    )
    _locks: dict[tuple[str, str, str], threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    # -- submit ---------------------------------------------------------------------

    def submit_request(self, requester: Person, form: RequestForm, now: datetime) -> AccessRequest:
        """Validate and store a new standard request as Pending, then DM its threads.

        Raises:
            InvalidRequest: a form field breaks a rule (nothing stored).
            NoIdentityCenterUser: the requester's email matches no Identity Center user.
            NoApprover: nobody could approve it.
        """
        valid = validate_form(self.config, self.catalog, form)
        try:
            principal_id = self.aws.find_user_id(requester.email)
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
            )
        )
        # each root is stored as soon as it is posted: an approver may click at once
        root = self.notifier.post_request_thread(request)
        if root is not None:
            self.store.add_messages(request.id, [root])
        sent = []
        for email in routing.emails:
            ref = self.notifier.post_approval_request(request, email)
            if ref is not None:
                self.store.add_messages(request.id, [ref])
            sent.append(ref)
        request = self._reload(request.id)
        if routing.fell_back:
            self.store.audit(request.id, "jitbot", "routed_to_admins", now)
            self.notifier.announce(request, Notice(NoticeKind.SENT_TO_ADMINS))
        if not any(sent):
            # Nobody can click Approve: say so now rather than let it sit in Pending.
            self.store.audit(
                request.id,
                "jitbot",
                "approvers_unreachable",
                now,
                {"approvers": list(routing.emails)},
            )
            self.notifier.announce(request, Notice(NoticeKind.APPROVERS_UNREACHABLE))
            self.notifier.alert_admins(
                f"Request #{request.id} ({requester.email} on {request.account_label}) could "
                f"not be sent to any approver in Slack: {', '.join(routing.emails)}. Check "
                "that these people are in the workspace (`jitbot check-config`)."
            )
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
        request = self._get(request_id)
        check_can_decide(self.config, request, actor)
        event = Event.APPROVE if approve else Event.REJECT
        comment = (comment or "").strip() or None
        stage = STAGES.get(request.status, Stage.SINGLE)
        decision = Decision.APPROVED if approve else Decision.REJECTED
        review = Review(stage, decision, actor, now, comment)
        won = request.status in PENDING_STATUSES and self.store.transition(
            request.id,
            request.status,
            next_status(request.status, event),
            now=now,
            actor=actor.email,
            action=review.decision.value if stage == Stage.SINGLE else f"{stage}_{decision}",
            detail={"comment": comment} if comment else None,
            review=review,
        )
        if not won:
            raise AlreadyDecided(self._already_decided_text(self._reload(request.id)))
        request = self._reload(request.id)
        self.notifier.refresh(request)
        if request.status == Status.PENDING_ADMIN:
            self.notifier.announce(request, Notice(NoticeKind.OWNER_APPROVED, comment))
            self._send_to_admin_stage(request, actor, now)
            return self._reload(request.id)
        if not approve:
            self.notifier.announce(request, Notice(NoticeKind.REJECTED, comment))
            return request
        # the grant goes first; "Approved by" is told once AWS has answered
        return self.grant(request.id, now, first=Notice(NoticeKind.APPROVED, comment))

    def _send_to_admin_stage(self, request: AccessRequest, owner: Person, now: datetime) -> None:
        """DM the SSO admins and admins (not the requester, not the owner who approved)
        the custom request for its final approval."""
        people = {owner.email.lower()}
        if not self.config.allow_self_approval:
            people.add(request.requester.email.lower())
        emails = [
            e
            for e in dict.fromkeys([*self.config.sso_admins, *self.config.admins])
            if e not in people
        ]
        refs = [
            self.notifier.post_approval_request(request, email, Role.ADMIN_APPROVER)
            for email in emails
        ]
        self.store.add_messages(request.id, [r for r in refs if r is not None])
        if not any(refs):
            self.store.audit(
                request.id,
                "jitbot",
                "approvers_unreachable",
                now,
                {"stage": "admin", "approvers": emails},
            )
            self.notifier.alert_admins(
                f"Custom request #{request.id} ({request.requester.email} on "
                f"{request.account_label}) needs an SSO admin's approval, but no SSO admin "
                "or admin other than its owner approver could be reached in Slack."
            )

    @staticmethod
    def _already_decided_text(request: AccessRequest) -> str:
        review = request.decision
        if review is not None:
            return (
                f"This request was already {review.decision.value} by {review.reviewer.name} "
                f"({review.reviewer.email})."
            )
        return f"This request can't be decided any more: it is {request.status_label}."

    # -- grant ----------------------------------------------------------------------

    def grant(
        self, request_id: int, now: datetime, *, first: Notice | None = None
    ) -> AccessRequest:
        """Create the account assignment of an Approved request and make it Active.

        Safe to call again for the same request (after a crash, from the sweep): the
        assignment is idempotent and only the caller that moves Approved -> Active
        announces it. A FAILED status or an AWS error makes the request Failed and is
        told to the requester and approvers. ``first`` (the approval) is told before the
        outcome, after the AWS calls, so Slack traffic does not delay the grant.
        """
        request = self._get(request_id)
        with self._lock_for(request):
            request = self._reload(request_id)
            if request.status != Status.APPROVED:
                if first is not None:
                    self.notifier.announce(request, first)
                return request
            try:
                if request.custom is not None and not request.permission_set_arn:
                    request = self._create_custom_set(request)
                # An overlapping active grant of the same assignment already holds it;
                # creating it again would be a no-op in AWS (and a duplicate in moto).
                if self.store.other_active_grants(request, now) == 0:
                    self.aws.assign(assignment_of(request))
            except AwsError as exc:
                log.warning("grant of request %s failed: %s", request.id, exc)
                if not isinstance(exc, AssignmentFailed) and request.permission_set_arn:
                    # AWS may still finish what it did not confirm (a timeout, retries
                    # used up): remove it so no access outlives the Failed request.
                    self._undo_uncertain_assignment(request, now)
                if request.custom is not None and request.permission_set_arn:
                    self._delete_custom_set(request, now)
                if self.store.transition(
                    request.id,
                    Status.APPROVED,
                    Status.FAILED,
                    now=now,
                    actor="jitbot",
                    action="grant_failed",
                    detail={"reason": str(exc)},
                ):
                    request = self._reload(request.id)
                    self.notifier.refresh(request)
                    if first is not None:
                        self.notifier.announce(request, first)
                    self.notifier.announce(request, Notice(NoticeKind.GRANT_FAILED, str(exc)))
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
                detail={"expires_at": session.expires_at.isoformat()},
            ):
                request = self._reload(request.id)
                self.notifier.refresh(request)
                if first is not None:
                    self.notifier.announce(request, first)
                self.notifier.announce(request, Notice(NoticeKind.GRANTED))
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
        (the sweep retries) and alerts the admins.
        """
        request = self._get(request_id)
        with self._lock_for(request):
            request = self._reload(request_id)
            if request.status != Status.ACTIVE:
                return request
            shared = self.store.other_active_grants(request, now) > 0
            if not shared:
                try:
                    self.aws.unassign(assignment_of(request))
                except AwsError as exc:
                    log.error("revoke of request %s failed, will retry: %s", request.id, exc)
                    self.store.audit(
                        request.id, "jitbot", "revoke_failed", now, {"reason": str(exc)}
                    )
                    self.notifier.alert_admins(
                        f"Removing the access of request #{request.id} "
                        f"({request.requester.email} on {request.account_label}, "
                        f"{request.permission_set_name}) failed and will be retried: {exc}"
                    )
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
                detail={"assignment_kept_for_overlapping_grant": shared},
            ):
                request = self._reload(request.id)
                self.notifier.refresh(request)
                self.notifier.announce(request, notice or Notice(NoticeKind.EXPIRED))
            return self._reload(request.id)

    def revoke(
        self, request_id: int, actor: Person, now: datetime, reason: str | None = None
    ) -> AccessRequest:
        """An owner of the account or an admin ends an active session at once.

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided (the session is not active),
            WorkflowError (AWS did not remove the access yet; it is retried).
        """
        request = self._get(request_id)
        refusal = may_revoke(self.config, request, actor)
        if refusal:
            raise NotAuthorized(f"You can't revoke this session: {refusal}.")
        reason = (reason or "").strip() or None
        end_reason = f"revoked by {actor.name}" + (f": {reason}" if reason else "")
        notice = Notice(NoticeKind.REVOKED, reason, by=actor.name)
        return self._end_early(request, now, actor, end_reason, notice)

    def release(self, request_id: int, actor: Person, now: datetime) -> AccessRequest:
        """The requester ends their own session early ("Release now").

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided, WorkflowError (as :meth:`revoke`).
        """
        request = self._get(request_id)
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
                "AWS did not remove the access yet; jitbot keeps retrying and the admins "
                "have been alerted."
            )
        return ended

    def cancel(self, request_id: int, actor: Person, now: datetime) -> AccessRequest:
        """The requester withdraws their own pending request.

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided (no longer pending).
        """
        request = self._get(request_id)
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
        )
        if not won:
            raise AlreadyDecided(self._already_decided_text(self._reload(request.id)))
        request = self._reload(request.id)
        self.notifier.refresh(request)
        self.notifier.announce(request, Notice(NoticeKind.CANCELLED, by=actor.name))
        return request

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
        ):
            request = self._reload(request.id)
            self.notifier.refresh(request)
            self.notifier.announce(request, Notice(NoticeKind.TIMED_OUT))
        return self._reload(request.id)

    # -- sweep ----------------------------------------------------------------------

    def sweep(self, now: datetime) -> None:
        """Do everything due at ``now``: grants left half-done, sessions past their end,
        pending requests past their approval deadline. Errors of one request are logged
        and do not stop the others.

        Due sessions are ended up to :attr:`parallel_revokes` at a time, started in due
        order: each removal waits on an asynchronous AWS operation, and Identity Center
        allows 10 outstanding assignment operations (IAM Identity Center quotas), so one
        at a time would leave access up to ten times longer than needed when many fall
        due together.
        """
        for request in self.store.with_status(Status.APPROVED):
            self._run_logged(self.grant, request, now)
        due = self.store.active_ending_before(now)
        if len(due) > 1 and self.parallel_revokes > 1:
            with ThreadPoolExecutor(
                max_workers=min(self.parallel_revokes, len(due)), thread_name_prefix="revoke"
            ) as pool:
                for request in due:  # submitted, and so started, in due order
                    pool.submit(self._run_logged, self.end_session, request, now)
        else:
            for request in due:
                self._run_logged(self.end_session, request, now)
        for request in self.store.pending_past_deadline(now):
            self._run_logged(self.time_out, request, now)

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
            self.store.audit(request.id, "jitbot", "undo_failed", now, {"reason": str(exc)})
            self.notifier.alert_admins(
                f"Request #{request.id} failed and its account assignment could not be "
                f"confirmed removed ({exc}). Check {request.account_label} for "
                f"{request.requester.email} / {request.permission_set_name}."
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
            self.store.audit(
                request.id,
                "jitbot",
                "custom_set_delete_failed",
                now,
                {"permission_set_arn": request.permission_set_arn, "reason": str(exc)},
            )
            self.notifier.alert_admins(
                f"The permission set {request.custom.name if request.custom else ''} of "
                f"request #{request.id} could not be deleted and is left over: {exc}"
            )

    # -- helpers --------------------------------------------------------------------

    def _get(self, request_id: int) -> AccessRequest:
        request = self.store.get(request_id)
        if request is None:
            raise UnknownRequest(f"There is no request #{request_id}.")
        return request

    def _reload(self, request_id: int) -> AccessRequest:
        return self._get(request_id)

    def _lock_for(self, request: AccessRequest) -> threading.Lock:
        """One lock per (principal, account, permission set): a grant and a revoke of the
        same assignment never interleave in this process."""
        key = (request.principal_id, request.account_id, request.permission_set_arn)
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())
