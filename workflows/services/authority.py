"""Who may act on a stored request: the checks every click goes through before a
service changes anything (the rules themselves are :mod:`workflows.policy`'s), with the
people of the config bound to Slack user ids as stored now (:mod:`workflows.people`).

A request an access rule governs (:mod:`workflows.access_rules`, read again from the
config at every click, never from the stored request or a button) is decided by that
rule's approvers instead of the account's owners: at the single stage of a standard
request and at the owner stage of a custom one; the admin stage of a custom request
keeps its SSO admins and admins. Those approvers may also see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from workflows.access_rules import AppliedRule
from workflows.assignments import AwsError
from workflows.config import Config
from workflows.domain import AccessRequest, Person
from workflows.errors import NotAuthorized, UnknownRequest, WorkflowError
from workflows.people import Roster
from workflows.policy import (
    Rules,
    check_can_decide,
    is_self,
    may_end_own,
    may_revoke,
    may_view,
)
from workflows.ports import Store
from workflows.rule_refs import names
from workflows.rulebook import RuleBook, RuleLookups
from workflows.states import Status

#: The statuses whose approvers an access rule names.
RULED_STAGES = (Status.PENDING, Status.PENDING_OWNER)


@dataclass(frozen=True)
class Authority:
    """Reads a request from ``store`` and checks ``config``'s rules against it, its
    people as ``store``'s bindings say (read at each check, so a binding an admin
    confirmed on another replica counts here at once)."""

    config: Config
    store: Store
    rulebook: RuleBook = field(default_factory=RuleBook)
    lookups: RuleLookups = field(default_factory=RuleLookups)
    #: a person's Identity Center user id (None: none), for rules naming groups
    principal_of: Callable[[Person], str | None] | None = None
    #: when a request was escalated (None: not), read at each click; None: never
    escalated: Callable[[int], datetime | None] | None = None

    def rules(self) -> Rules:
        """The config's rules with the bindings in effect now."""
        return Rules(self.config, Roster.of(self.store.bindings()))

    def rule_of(self, request: AccessRequest) -> AppliedRule:
        """The access rule governing ``request`` in the config now.

        Raises:
            WorkflowError: the OUs above its account could not be read.
        """
        set_name = None if request.custom is not None else request.permission_set_name
        try:
            return self.rulebook.for_request(request.account_id, set_name)
        except AwsError as exc:
            raise WorkflowError(
                "AWS Organizations isn't answering right now, so jitbot can't tell which "
                "access rule applies. Try again in a minute."
            ) from exc

    def is_rule_approver(
        self, request: AccessRequest, actor: Person, principal: str | None = None
    ) -> bool:
        """Whether the access rule governing ``request`` (a named one) names ``actor``
        among its approvers; ``principal`` is found with ``principal_of`` when None."""
        applied = self.rule_of(request)
        if applied.name is None:
            return False
        groups = any(ref.kind == "group" for ref in applied.approvers)
        if principal is None and self.principal_of is not None and groups:
            try:
                principal = self.principal_of(actor)
            except AwsError as exc:
                raise WorkflowError(
                    "AWS IAM Identity Center isn't answering right now, so jitbot can't "
                    "tell whether you are among this request's approvers. Try again in a "
                    "minute."
                ) from exc
        members = self.lookups.members(self.rules())
        try:
            found = names(
                applied.approvers,
                members,
                slack_id=actor.slack_id,
                principal_id=principal,
                account_id=request.account_id,
            )
        except AwsError as exc:
            raise WorkflowError(
                "AWS IAM Identity Center isn't answering right now, so jitbot can't tell "
                "whether you are in this request's approver group. Try again in a minute."
            ) from exc
        return found is not None

    def get(self, request_id: int) -> AccessRequest:
        """The stored request (no authority check; for the bot's own work).

        Raises:
            UnknownRequest: no such request.
        """
        request = self.store.get(request_id)
        if request is None:
            raise UnknownRequest(f"There is no request #{request_id}.")
        return request

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
        if request is None or not (
            may_view(self.rules(), request, actor)
            or (self.rulebook.rules and self.is_rule_approver(request, actor))
            or self.may_decide_escalated(request, actor)
        ):
            raise UnknownRequest(f"There is no request #{request_id} that you can see.")
        return request

    def decidable(
        self, request_id: int, actor: Person, actor_principal: str | None = None
    ) -> AccessRequest:
        """:meth:`visible`, and ``actor`` (whose Identity Center user is
        ``actor_principal``, when known) may approve or reject it at its stage
        (:func:`~workflows.policy.check_can_decide`; the status is the decision's to
        check). Raises UnknownRequest, NotAuthorized."""
        request = self.visible(request_id, actor)
        try:
            self.check_decide(request, actor, actor_principal)
        except NotAuthorized:
            if not self.may_decide_escalated(request, actor, actor_principal):
                raise
        return request

    def may_decide_escalated(
        self, request: AccessRequest, actor: Person, actor_principal: str | None = None
    ) -> bool:
        """Whether ``request`` was escalated (:mod:`workflows.services.remind`, read
        from the store now) and its access rule's ``escalation:`` (default the SSO admins
        and admins) names ``actor``, who may then decide it at its stage as its
        approvers would (not their own, unless self-approval is on).

        Raises:
            WorkflowError: AWS could not tell the rule or a group's members.
        """
        if self.escalated is None or request.status not in RULED_STAGES:
            return False
        if self.escalated(request.id) is None:
            return False
        if is_self(request, actor, actor_principal) and not self.rules().allow_self_approval:
            return False
        applied = self.rule_of(request)
        principal = actor_principal
        groups = any(ref.kind == "group" for ref in applied.escalation)
        if principal is None and self.principal_of is not None and groups:
            try:
                principal = self.principal_of(actor)
            except AwsError:
                return False
        members = self.lookups.members(self.rules())
        try:
            found = names(
                applied.escalation,
                members,
                slack_id=actor.slack_id,
                principal_id=principal,
                account_id=request.account_id,
            )
        except AwsError:
            return False
        return found is not None

    def check_decide(
        self, request: AccessRequest, actor: Person, actor_principal: str | None = None
    ) -> None:
        """Raise :class:`NotAuthorized` with the reason unless ``actor`` may decide
        ``request`` at its stage: its access rule's approvers where a rule names them
        (:data:`RULED_STAGES`), else :func:`~workflows.policy.check_can_decide`."""
        rules = self.rules()
        if request.status in RULED_STAGES and self.rulebook.rules:
            applied = self.rule_of(request)
            if applied.name is not None:
                if is_self(request, actor, actor_principal) and not rules.allow_self_approval:
                    raise NotAuthorized("You can't approve this request: it is your own.")
                if not self.is_rule_approver(request, actor, actor_principal):
                    raise NotAuthorized(
                        "You can't approve this request: you are not one of the "
                        f"approvers {applied.label} names."
                    )
                return
        check_can_decide(rules, request, actor, actor_principal)

    def decider(self, actor: Person) -> Callable[[AccessRequest], bool]:
        """Whether ``actor`` may decide a request now, as :meth:`check_decide` answers
        at the click, for lists such as App Home's Pending Approvals: their Identity
        Center user is found once (cached lookups) and only if a rule names a group;
        a lookup that fails hides the request (the click would be refused too)."""
        found: list[str | None] = []

        def principal() -> str | None:
            if not found:
                groups = any(
                    ref.kind == "group"
                    for rule in self.rulebook.rules
                    for ref in rule.approvers or ()
                )
                who = self.principal_of if groups and self.principal_of else None
                try:
                    found.append(who(actor) if who else None)
                except AwsError:
                    found.append(None)
            return found[0]

        def decides(request: AccessRequest) -> bool:
            try:
                self.check_decide(request, actor, principal())
            except NotAuthorized:  # an escalated request's escalation approvers decide too
                try:
                    return self.may_decide_escalated(request, actor, principal())
                except WorkflowError:
                    return False
            except WorkflowError:
                return False
            return True

        return decides

    def revocable(self, request_id: int, actor: Person) -> AccessRequest:
        """:meth:`visible`, and ``actor`` may revoke its session
        (:func:`~workflows.policy.may_revoke`; that it is Active is the revocation's to
        check). Raises UnknownRequest, NotAuthorized."""
        request = self.visible(request_id, actor)
        refusal = may_revoke(self.rules(), request, actor)
        if refusal:
            raise NotAuthorized(f"You can't revoke this session: {refusal}.")
        return request

    def own(self, request_id: int, actor: Person, what: str) -> AccessRequest:
        """:meth:`visible`, and ``actor`` is its requester (Cancel and Release are
        theirs; ``what`` is the refusal's object, e.g. ``"cancel this request"``).
        Raises UnknownRequest, NotAuthorized."""
        request = self.visible(request_id, actor)
        refusal = may_end_own(request, actor)
        if refusal:
            raise NotAuthorized(f"You can't {what}: {refusal}.")
        return request
