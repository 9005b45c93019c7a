"""End: expire, revoke or release an Active session; cancel or time out a pending
request."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime

from workflows import lifecycle
from workflows.access_granter import AccessGranter
from workflows.assignments import AwsError
from workflows.domain import (
    AccessRequest,
    GrantedSession,
    Notice,
    NoticeKind,
    Outgoing,
    Person,
    changed,
)
from workflows.errors import AlreadyDecided, WorkflowError
from workflows.lifecycle import actor_detail
from workflows.ports import Store
from workflows.services.authority import Authority
from workflows.services.decide import already_decided_text
from workflows.services.hooks import Hooks
from workflows.services.jit_sets import JitSets
from workflows.services.leases import Leases, assignment_of, key_of
from workflows.services.live_sessions import LiveOutcome, LiveSessions
from workflows.states import PENDING_STATUSES, Event, Status, next_status
from workflows.validation import check_reason

log = logging.getLogger("jitbot.workflows")

NOT_REMOVED_YET = (
    "AWS did not remove the access yet; jitbot keeps retrying it and the admins "
    "have been alerted. The session shows as ended once AWS confirms."
)


@dataclass(frozen=True)
class Ending:
    """Ends sessions in ``aws`` under the assignment's lease, and pending requests."""

    store: Store
    aws: AccessGranter
    authority: Authority
    leases: Leases
    sets: JitSets
    hooks: Hooks
    live: LiveSessions | None = None

    def end_session(
        self,
        request_id: int,
        now: datetime,
        *,
        event: Event = Event.EXPIRE,
        actor: str = "jitbot",
        reason: str | None = None,
        notice: Notice | None = None,
        by: Person | None = None,
    ) -> AccessRequest:
        """Remove the access of an Active request and mark it Expired (or Revoked),
        audited as by ``actor`` (a Slack user id, or ``jitbot``; ``by`` the person,
        whose email at that moment the event records too).

        The assignment is deleted first and the status changes only once AWS confirms,
        so a session never shows as ended while its assignment exists. If the same
        principal holds another active grant of the same permission set on the same
        account, the assignment stays for it. A failed delete leaves the request Active
        (the sweep retries) and alerts the admins once for the session, across replicas
        and restarts (from the audit trail). With ``revoke_live_sessions`` on, the
        sign-ins a standard set already opened are ended too (:mod:`.live_sessions`;
        what became of them is the notice's ``live``). The work is done under the
        assignment's lease: when another replica holds it, nothing is done here and the
        request is returned still Active (that replica ends it).

        Raises:
            UnknownRequest: no such request.
        """
        request = self.authority.get(request_id)
        with self.leases.assignment_guard(*key_of(request)) as held:
            request = self.authority.get(request_id)
            if not held or request.status != Status.ACTIVE:
                return request
            # the table first: nothing is removed for an end it would refuse
            action = next_status(request.status, event).value
            shared = self.store.other_active_grants(request, now) > 0
            live = LiveOutcome.OFF if shared else self._remove(request, now)
            if live is None:
                return request
            assert request.session is not None
            end_reason = reason or ("expired" if event == Event.EXPIRE else "revoked")
            session = request.session
            ended = GrantedSession(session.granted_at, session.expires_at, now, end_reason)
            if lifecycle.apply(
                self.store,
                request,
                event,
                now=now,
                actor=actor,
                action=action,
                session=ended,
                detail={**(actor_detail(by) if by else {}), **self._detail(shared, live)},
                outbox=changed(
                    replace(notice or Notice(NoticeKind.EXPIRED), kept=shared, live=live.value)
                ),
            ):
                self.hooks.kick()
            return self.authority.get(request.id)

    def _remove(self, request: AccessRequest, now: datetime) -> LiveOutcome | None:
        """Delete the assignment, then a custom set, or end a standard set's open
        sign-ins (:mod:`.live_sessions`); None when AWS did not remove the access yet."""
        if not self._unassign(request, now):
            return None
        if request.custom is not None:
            self.sets.delete(request, now)
            return LiveOutcome.OFF
        return self.live.end(request, now) if self.live is not None else LiveOutcome.OFF

    def _detail(self, shared: bool, live: LiveOutcome) -> dict[str, object]:
        detail: dict[str, object] = {
            "assignment_kept_for_overlapping_grant": shared,
            "replica": self.leases.holder,
        }
        if live is not LiveOutcome.OFF:
            detail["open_sign_ins"] = live.value
        return detail

    def _unassign(self, request: AccessRequest, now: datetime) -> bool:
        """Delete the assignment; on an AWS error audit it, alert the admins once per
        session (whichever replica or restart fails: the audit trail remembers what a
        process would forget) and return False."""
        try:
            started = time.monotonic()
            self.aws.unassign(assignment_of(request))
            self.hooks.on_timing("revoke", time.monotonic() - started)
            return True
        except AwsError as exc:
            log.error("revoke of request %s failed, will retry: %s", request.id, exc)
            first = not any(
                e["action"] == "revoke_failed" for e in self.store.audit_events(request.id)
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
            self.hooks.kick()
            return False

    def revoke(
        self, request_id: int, actor: Person, now: datetime, reason: str | None = None
    ) -> AccessRequest:
        """An owner of the account or an admin ends an active session at once.

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided (the session is not active),
            WorkflowError (AWS did not remove the access yet; it is retried).
        """
        request = self.authority.revocable(request_id, actor)
        reason = check_reason(reason)
        end_reason = f"revoked by {actor.name}" + (f": {reason}" if reason else "")
        notice = Notice(NoticeKind.REVOKED, reason, by=actor.name)
        return self._end_early(request, now, actor, end_reason, notice)

    def release(self, request_id: int, actor: Person, now: datetime) -> AccessRequest:
        """The requester ends their own session early ("Release now").

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided, WorkflowError (as :meth:`revoke`).
        """
        request = self.authority.own(request_id, actor, "release this session")
        notice = Notice(NoticeKind.RELEASED, by=actor.name)
        return self._end_early(request, now, actor, "released by the requester", notice)

    def _end_early(
        self, request: AccessRequest, now: datetime, actor: Person, end_reason: str, notice: Notice
    ) -> AccessRequest:
        if request.status != Status.ACTIVE:
            raise AlreadyDecided(f"This session is not active: it is {request.status_label}.")
        ended = self.end_session(
            request.id,
            now,
            event=Event.REVOKE,
            actor=actor.slack_id,
            reason=end_reason,
            notice=notice,
            by=actor,
        )
        if ended.status == Status.ACTIVE:
            raise WorkflowError(NOT_REMOVED_YET)
        return ended

    def cancel(self, request_id: int, actor: Person, now: datetime) -> AccessRequest:
        """The requester withdraws their own pending request.

        Raises:
            UnknownRequest, NotAuthorized, AlreadyDecided (no longer pending),
            TransitionNotAllowed (the table does not allow cancelling a pending status).
        """
        request = self.authority.own(request_id, actor, "cancel this request")
        won = request.status in PENDING_STATUSES and lifecycle.apply(
            self.store,
            request,
            Event.CANCEL,
            now=now,
            actor=actor.slack_id,
            action="cancelled",
            detail=actor_detail(actor),
            outbox=changed(Notice(NoticeKind.CANCELLED, by=actor.name)),
        )
        if not won:
            raise AlreadyDecided(already_decided_text(self.authority.get(request.id)))
        self.hooks.kick()
        return self.authority.get(request.id)

    def time_out(self, request_id: int, now: datetime) -> AccessRequest:
        """A pending request whose approval window passed becomes Expired (TIMED_OUT).

        Raises:
            UnknownRequest: no such request.
        """
        request = self.authority.get(request_id)
        if request.status in PENDING_STATUSES and lifecycle.apply(
            self.store,
            request,
            Event.TIME_OUT,
            now=now,
            actor="jitbot",
            action="timed_out",
            outbox=changed(Notice(NoticeKind.TIMED_OUT)),
        ):
            self.hooks.kick()
        return self.authority.get(request.id)
