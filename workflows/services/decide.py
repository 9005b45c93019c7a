"""Decide: approve or reject a pending request at its stage; a final approval grants."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows import lifecycle
from workflows.assignments import AwsError
from workflows.config import Config
from workflows.domain import (
    AccessRequest,
    Decision,
    MessageRole,
    Notice,
    NoticeKind,
    Outgoing,
    Person,
    Review,
    Stage,
    changed,
)
from workflows.errors import AlreadyDecided, NotAuthorized, WorkflowError
from workflows.lifecycle import actor_detail
from workflows.policy import Rules, admin_stage_approvers, is_self
from workflows.ports import Store
from workflows.services.authority import Authority
from workflows.services.grant import Granting
from workflows.services.hooks import Hooks
from workflows.services.leases import Leases, key_of, lease_name
from workflows.services.principal import find_principal
from workflows.states import PENDING_STATUSES, Event, Status, allowed_events, next_status
from workflows.validation import check_reason

log = logging.getLogger("jitbot.workflows")

#: The review stage each pending status decides (a standard request's is SINGLE).
STAGES = {Status.PENDING_OWNER: Stage.OWNER, Status.PENDING_ADMIN: Stage.ADMIN}


def already_decided_text(request: AccessRequest, actor: Person | None = None) -> str:
    """Why ``request`` (as stored now) can't be decided or cancelled any more, naming
    who decided it when someone did."""
    review = request.decision
    if review is not None and actor is not None and review.reviewer.slack_id == actor.slack_id:
        return f"You already {review.decision.value} this request."
    if review is not None:
        return (
            f"This request was already {review.decision.value} by {review.reviewer.name} "
            f"({review.reviewer.email})."
        )
    return f"This request can't be decided any more: it is {request.status_label}."


def admin_stage_messages(rules: Rules, request: AccessRequest, owner: Person) -> list[Outgoing]:
    """The DMs that take a custom request to the SSO admins and admins who may give its
    final approval (:func:`~workflows.policy.admin_stage_approvers`), or an alert to the
    admins when nobody may."""
    slack_ids = admin_stage_approvers(rules, request, owner)
    if not slack_ids:
        return [
            Outgoing.alert(
                f"Custom request #{request.id} ({request.requester.email} on "
                f"{request.account_label}) needs an SSO admin's approval, but there is "
                "no SSO admin or admin other than its owner approver."
            )
        ]
    return [
        Outgoing.approval(slack_id, MessageRole.ADMIN_APPROVER, last=i == len(slack_ids) - 1)
        for i, slack_id in enumerate(slack_ids)
    ]


@dataclass(frozen=True)
class Deciding:
    """Records decisions in ``store``; a final approval hands over to ``granting``."""

    config: Config
    store: Store
    authority: Authority
    leases: Leases
    granting: Granting
    hooks: Hooks

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
            UnknownRequest, NotAuthorized, AlreadyDecided, InvalidRequest (the comment),
            TransitionNotAllowed (the table does not allow the decision from a pending
            status).
        """
        comment = check_reason(comment)
        request = self.authority.decidable(request_id, actor)
        principal = self._not_the_requesters_principal(request, actor)
        if request.status not in PENDING_STATUSES:  # someone acted first
            raise AlreadyDecided(already_decided_text(self.authority.get(request.id), actor))
        event = Event.APPROVE if approve else Event.REJECT
        stage = STAGES.get(request.status, Stage.SINGLE)
        if approve and stage == Stage.SINGLE and request.approvals_needed > 1:
            counted = self._count_approval(request, actor, principal, now, comment)
            if counted is not None:
                return counted
            request = self.authority.get(request.id)  # as the last count left it
        decision = Decision.APPROVED if approve else Decision.REJECTED
        review = Review(stage, decision, actor, now, comment, principal)
        to_status = next_status(request.status, event)
        change: dict[str, Any] = dict(
            now=now,
            actor=actor.slack_id,
            action=review.decision.value if stage == Stage.SINGLE else f"{stage}_{decision}",
            detail={**actor_detail(actor, principal), **({"comment": comment} if comment else {})},
            review=review,
            outbox=self._notices(request, actor, to_status, approve, comment),
        )
        if Event.GRANTED in allowed_events(to_status):
            # the final approval (what it leads to is granted next): the decision and the assignment's lease in one commit,
            # then straight to AWS (the approval's notices go out with the grant's, so
            # Slack traffic does not compete with the AWS call)
            return self._approve_and_grant(request, event, now, change)
        if not lifecycle.apply(self.store, request, event, **change):
            raise AlreadyDecided(already_decided_text(self.authority.get(request.id), actor))
        self.hooks.kick()
        return self.authority.get(request.id)

    def approve_by_rule(self, request: AccessRequest, rule: str, now: datetime) -> AccessRequest:
        """Approve a new request its access rule approves automatically (``auto_approve``)
        and grant it: the audit says ``approved`` with ``automatic`` and the rule, the
        threads "Approved automatically by rule …"; the owners' DMs (sent at submit)
        carry no buttons since the request is no longer pending when they render.

        Raises:
            AlreadyDecided: it left Pending meanwhile (cancelled at once, say).
        """
        jitbot = Person("jitbot", "", "jitbot")
        review = Review(
            Stage.SINGLE, Decision.APPROVED, jitbot, now, f"approved automatically by {rule}"
        )
        change: dict[str, Any] = dict(
            now=now,
            actor="jitbot",
            action="approved",
            detail={"automatic": True, "rule": rule},
            review=review,
            outbox=changed(Notice(NoticeKind.APPROVED, by=rule)),
        )
        return self._approve_and_grant(request, Event.APPROVE, now, change)

    def _count_approval(
        self,
        request: AccessRequest,
        actor: Person,
        principal: str | None,
        now: datetime,
        comment: str | None,
    ) -> AccessRequest | None:
        """Count ``actor``'s approval of a request needing several (its access rule's
        ``approvals``) when it is not the last one needed: the request stays Pending and
        its threads say how many it has. None when this approval is the deciding one
        (the caller approves as usual). Approvals are counted per distinct person, by
        Slack user id and by Identity Center user; a second click by the same person is
        told it already counts. Two approvers at once are both counted
        (:meth:`Store.add_approval` compares the count; the loser reads again).

        Raises:
            AlreadyDecided: ``actor`` already approved it, or it left Pending meanwhile.
        """
        for _ in range(10):
            prior = request.approvals_at(Stage.SINGLE)
            needed = request.approvals_needed
            if any(
                r.reviewer.slack_id == actor.slack_id
                or (principal is not None and r.principal_id == principal)
                for r in prior
            ):
                raise AlreadyDecided(
                    f"Your approval already counts: {len(prior)} of {needed} approvals."
                )
            if len(prior) + 1 >= needed:
                return None
            review = Review(Stage.SINGLE, Decision.APPROVED, actor, now, comment, principal)
            if self.store.add_approval(
                request.id,
                request.status,
                request.approvals_given,
                review,
                now=now,
                actor=actor.slack_id,
                action="approval_counted",
                detail={
                    **actor_detail(actor, principal),
                    "needed": needed,
                    **({"comment": comment} if comment else {}),
                },
                outbox=changed(Notice(NoticeKind.APPROVAL_COUNTED, comment)),
            ):
                self.hooks.kick()
                return self.authority.get(request.id)
            request = self.authority.get(request.id)
            if request.status not in PENDING_STATUSES:
                raise AlreadyDecided(already_decided_text(request, actor))
        raise WorkflowError("Too many approvals arrived at once; try again.")

    def _not_the_requesters_principal(self, request: AccessRequest, actor: Person) -> str | None:
        """``actor``'s Identity Center user id (None: they have none), refusing them when
        it is the requester's: one person with two Slack accounts whose emails match
        the same Identity Center user still can't approve their own request.

        Raises:
            NotAuthorized: the actor's principal is the request's.
            WorkflowError: Identity Center did not answer (nothing is recorded).
        """
        try:
            principal = find_principal(self.granting.aws, self.config.identity, actor).principal_id
        except AwsError as exc:
            log.warning("identity lookup for approver %s failed: %s", actor.slack_id, exc)
            raise WorkflowError(
                "AWS IAM Identity Center isn't answering right now, so your decision wasn't "
                "recorded. Try again in a minute."
            ) from exc
        if not self.config.allow_self_approval and is_self(request, actor, principal):
            raise NotAuthorized(
                "You can't approve this request: your AWS Identity Center user is the "
                "requester's, and nobody approves their own request."
            )
        return principal

    def _notices(
        self,
        request: AccessRequest,
        actor: Person,
        to_status: Status,
        approve: bool,
        comment: str | None,
    ) -> list[Outgoing]:
        if Event.APPROVE in allowed_events(to_status):  # another stage approves next
            return [
                *changed(Notice(NoticeKind.OWNER_APPROVED, comment)),
                *admin_stage_messages(self.authority.rules(), request, actor),
            ]
        kind = NoticeKind.APPROVED if approve else NoticeKind.REJECTED
        return changed(Notice(kind, comment))

    def _approve_and_grant(
        self, request: AccessRequest, event: Event, now: datetime, change: dict[str, Any]
    ) -> AccessRequest:
        """Record the final approval and take the assignment's lease in one transaction
        (:meth:`Store.transition_leasing`), then grant under that lease.

        Holding the lease from the decision's own commit is what :meth:`Granting.grant`
        would do in a second transaction: the same per-assignment lock of this process
        is held first, and another replica holding the lease leaves the grant to it (or
        to a later sweep) exactly as a grant does. Raises :class:`AlreadyDecided` when
        another decision won.
        """
        key = key_of(request)
        name = lease_name(key)
        leases = self.leases
        with leases.local_lock(key):
            at = leases.clock()
            outcome = lifecycle.apply_leasing(
                self.store,
                request,
                event,
                lease_key=name,
                holder=leases.holder,
                lease_now=at,
                lease_until=at + leases.lease,
                # a custom request's set (so its ARN) may not exist yet: counted later
                grants_of=request if request.custom is None else None,
                **change,
            )
            if outcome.won and outcome.leased:
                try:
                    # nobody moves an Approved request without this lease, so it is
                    # still Approved: no need to read its status again
                    approved = lifecycle.moved(request, event)
                    return self.granting.grant_leased(approved, now, others=outcome.others)
                finally:
                    self.store.release_lease(name, leases.holder)
        if not outcome.won:
            actor = change["review"].reviewer
            raise AlreadyDecided(already_decided_text(self.authority.get(request.id), actor))
        log.info("%s is leased by another replica; leaving it to them", name)
        self.hooks.kick()
        return self.authority.get(request.id)
