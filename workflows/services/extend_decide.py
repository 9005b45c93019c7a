"""Deciding an extension: Approve extension / Reject extension in an approver's
thread, and the sweep's time-out of extensions nobody decided in time (or whose
session ended first). The approvers are those the request would have now
(:meth:`Authority.check_decide` at its first stage), checked at each click; the first
decision wins by compare-and-set. A refused or timed-out extension leaves the session
as it was."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from workflows.assignments import AwsError
from workflows.domain import (
    AccessRequest,
    Decision,
    Notice,
    NoticeKind,
    Outgoing,
    Person,
    Review,
    Stage,
)
from workflows.errors import AlreadyDecided, NotAuthorized, UnknownRequest, WorkflowError
from workflows.extensions import Extension, ExtensionStatus, fits
from workflows.lifecycle import actor_detail
from workflows.policy import is_self
from workflows.services.extend import Extending, extension_data
from workflows.states import Status

log = logging.getLogger("jitbot.workflows")

_DONE = {
    ExtensionStatus.APPROVED: "approved",
    ExtensionStatus.REJECTED: "rejected",
    ExtensionStatus.TIMED_OUT: "timed out",
}


def _decided_text(extension: Extension, actor: Person) -> str:
    if extension.decided_by == actor.slack_id:
        return f"You already {_DONE[extension.status]} this extension."
    return f"This extension was already {_DONE[extension.status]}."


def as_pending(request: AccessRequest, extension: Extension) -> AccessRequest:
    """``request`` as if it waited for the approval ``extension`` needs next, for
    :meth:`Authority.check_decide`: a standard request at its single stage; a custom
    one at its owner stage, then, once an owner approved the extension, at its admin
    stage with that owner as the owner-stage reviewer (so the final approval is an SSO
    admin's or an admin's, and another person's)."""
    if request.custom is None:
        return replace(request, status=Status.PENDING)
    if not extension.approvals:
        return replace(request, status=Status.PENDING_OWNER)
    owner = Person(extension.approvals[0][0], "", "")
    review = Review(Stage.OWNER, Decision.APPROVED, owner, extension.requested_at)
    return replace(request, status=Status.PENDING_ADMIN, reviews=(review,))


@dataclass(frozen=True)
class DecidingExtensions:
    """Approve, reject and time out extensions (``extending`` applies them)."""

    extending: Extending

    def decide(self, extension_id: int, actor: Person, approve: bool, now: datetime) -> Extension:
        """``actor`` approves (the session's end moves) or rejects a pending extension.

        Raises:
            UnknownRequest: no such extension, or ``actor`` may not see its request.
            NotAuthorized: ``actor`` may not approve the request (their own, say).
            AlreadyDecided: decided first, or too late (the extension timed out).
            WorkflowError: the session changed meanwhile, or Identity Center is down.
        """
        x = self.extending
        extension = x.extensions.extension(extension_id)
        if extension is None:
            raise UnknownRequest("There is no such extension.")
        request = x.authority.visible(extension.request_id, actor)
        principal = self._check_approver(request, actor, extension)
        if extension.status != ExtensionStatus.PENDING:
            raise AlreadyDecided(_decided_text(extension, actor))
        if self._too_late(extension, request, now):
            self.time_out(extension, now)
            raise AlreadyDecided("This extension can't be decided any more: it timed out.")
        if not approve:
            return self._reject(extension, actor, principal, now)
        assert request.session is not None
        if not fits(x.policy_of(request), request.session, extension.more):
            raise NotAuthorized(
                "This extension no longer fits the access rule's longest total, so it "
                "can't be approved."
            )
        needed = 2 if request.custom is not None else x.authority.rule_of(request).approvals
        if extension.counted(actor.slack_id, principal):
            raise AlreadyDecided(
                f"Your approval already counts: {len(extension.approvals)} of {needed} approvals."
            )
        if len(extension.approvals) + 1 < needed:
            return self._count(extension, actor, principal, needed, now)
        return x.apply(extension, request, actor, now, approved_by=actor, principal=principal)

    def _count(
        self,
        extension: Extension,
        actor: Person,
        principal: str | None,
        needed: int,
        now: datetime,
    ) -> Extension:
        """Count ``actor``'s approval of an extension its rule needs several for, when it
        is not the last one needed (compare-and-set on the count; the loser is told to
        try again, reading the count anew)."""
        x = self.extending
        given = len(extension.approvals) + 1
        notice = Notice(
            NoticeKind.EXTENSION_APPROVAL_COUNTED,
            by=actor.name,
            extension={"id": extension.id, "approvals": given, "needed": needed},
        )
        if not x.extensions.count_extension_approval(
            extension,
            (actor.slack_id, principal),
            now=now,
            action="extension_approval_counted",
            detail={**actor_detail(actor, principal), "needed": needed},
            outbox=[Outgoing.announce(notice)],
        ):
            raise AlreadyDecided("Another decision on this extension came first; try again.")
        x.hooks.kick()
        return x.extensions.extension(extension.id) or extension

    def _check_approver(
        self, request: AccessRequest, actor: Person, extension: Extension
    ) -> str | None:
        """``actor``'s Identity Center user, once they may decide ``request`` as if it
        were waiting for the approval ``extension`` needs next (the same approvers as
        the request, :func:`as_pending`)."""
        authority = self.extending.authority
        try:
            who = authority.principal_of
            principal = who(actor) if who is not None else None
        except AwsError as exc:
            raise WorkflowError(
                "AWS IAM Identity Center isn't answering right now, so your decision wasn't "
                "recorded. Try again in a minute."
            ) from exc
        if not self.extending.config.allow_self_approval and is_self(request, actor, principal):
            raise NotAuthorized("You can't approve this extension: it is your own.")
        authority.check_decide(as_pending(request, extension), actor, principal)
        return principal

    @staticmethod
    def _too_late(extension: Extension, request: AccessRequest, now: datetime) -> bool:
        session = request.session
        return (
            now >= extension.deadline
            or request.status != Status.ACTIVE
            or session is None
            or session.expires_at <= now
        )

    def _reject(
        self, extension: Extension, actor: Person, principal: str | None, now: datetime
    ) -> Extension:
        x = self.extending
        notice = Notice(NoticeKind.EXTENSION_REJECTED, by=actor.name)
        if not x.extensions.close_extension(
            extension.id,
            ExtensionStatus.REJECTED,
            now=now,
            actor=actor.slack_id,
            action="extension_rejected",
            detail={"extension": extension.id, **actor_detail(actor, principal)},
            outbox=[Outgoing.announce(notice)],
        ):
            fresh = x.extensions.extension(extension.id) or extension
            raise AlreadyDecided(_decided_text(fresh, actor))
        x.hooks.kick()
        return x.extensions.extension(extension.id) or extension

    def time_out(self, extension: Extension, now: datetime) -> bool:
        """Close a pending extension nobody decided in time, or whose session ended
        first; the threads are told. False when it was decided first."""
        x = self.extending
        request = x.authority.store.get(extension.request_id)
        ended = request is None or request.status != Status.ACTIVE
        why = "the session ended first" if ended else "nobody approved it in time"
        until = request.session.expires_at if request and request.session else now
        notice = Notice(
            NoticeKind.EXTENSION_TIMED_OUT, why, extension=extension_data(extension, until)
        )
        closed = x.extensions.close_extension(
            extension.id,
            ExtensionStatus.TIMED_OUT,
            now=now,
            actor="jitbot",
            action="extension_timed_out",
            detail={"extension": extension.id, "why": why},
            outbox=[Outgoing.announce(notice)],
        )
        if closed:
            x.hooks.kick()
        return closed

    def time_out_due(self, now: datetime) -> int:
        """:meth:`time_out` every pending extension that is due (the sweep's part);
        how many were closed. A failure is logged and left to the next sweep."""
        closed = 0
        for extension in self.extending.extensions.extensions_due(now):
            try:
                closed += self.time_out(extension, now)
            except Exception:
                log.exception("timing out extension %s failed", extension.id)
        return closed
