"""Who may approve, reject and see what: the one place for these rules.

The rules are the product's (approver guide, troubleshooting "Cannot Approve Request"):
a standard request may be decided by an owner of the target account, an SSO admin or
an admin, never by the requester (unless ``allow_self_approval`` is set for a tiny
team). Roles come from the server's config read through the stored bindings of its
people to Slack user ids (:class:`Rules`), the request from the database: nothing a
button's value or a modal's metadata claims is trusted, and no rule compares emails
(design §3: people are stable ids).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.config import Config
from workflows.domain import AccessRequest, Person, Stage
from workflows.errors import NoApprover, NotAuthorized
from workflows.people import Roster
from workflows.states import Event, Status, allowed_events


@dataclass(frozen=True)
class Rules:
    """The config's roles in Slack user ids: each person ``config`` names (by email or
    user id) read through ``roster``, the bindings in effect now
    (:mod:`workflows.people`). Every rule below compares user ids, never emails."""

    config: Config
    roster: Roster

    @property
    def allow_self_approval(self) -> bool:
        return self.config.allow_self_approval

    def admins(self) -> tuple[str, ...]:
        return self.roster.ids_of(self.config.admins)

    def sso_admins(self) -> tuple[str, ...]:
        return self.roster.ids_of(self.config.sso_admins)

    def owners_of(self, account_id: str) -> tuple[str, ...]:
        """The user ids of the account's owners; empty for an unknown account."""
        return self.roster.ids_of(self.config.owners_of(account_id))

    def owned_account_ids(self, slack_id: str) -> list[str]:
        """Ids of the accounts ``slack_id`` owns, in configuration order."""
        return [a.id for a in self.config.accounts if self.roster.names(a.owners, slack_id)]


@dataclass(frozen=True)
class Roles:
    """A person's roles (:func:`roles_of`): ``admin``, ``sso_admin``, and ``owner`` of
    the account asked about (of any account when :func:`roles_of` was given none)."""

    admin: bool
    sso_admin: bool
    owner: bool

    @property
    def oversees_all(self) -> bool:
        """An admin or an SSO admin: every account's requests are theirs to see."""
        return self.admin or self.sso_admin


def roles_of(rules: Rules, person: Person | str, account_id: str | None = None) -> Roles:
    """The roles of ``person`` (or a Slack user id), owner meaning of ``account_id`` (of
    any account when None): the one notion of roles every rule here uses."""
    slack_id = person.slack_id if isinstance(person, Person) else person
    if account_id is None:
        owner = bool(rules.owned_account_ids(slack_id))
    else:
        owner = slack_id in rules.owners_of(account_id)
    return Roles(
        admin=slack_id in rules.admins(), sso_admin=slack_id in rules.sso_admins(), owner=owner
    )


def is_self(request: AccessRequest, actor: Person, actor_principal: str | None = None) -> bool:
    """Whether ``actor`` is ``request``'s requester: the same Slack user id, or (when
    known) the same Identity Center user as the request's principal."""
    same_principal = actor_principal is not None and actor_principal == request.principal_id
    return actor.slack_id == request.requester.slack_id or same_principal


@dataclass(frozen=True)
class ApproverRouting:
    """Who a new request is sent to (Slack user ids). ``fell_back`` is True when the
    account has no owner who may approve, so the admins and SSO admins got it instead."""

    slack_ids: tuple[str, ...]
    fell_back: bool


def route_approvers(rules: Rules, account_id: str, requester: Person) -> ApproverRouting:
    """Pick the approvers of a new request on ``account_id``.

    The bound owners of the account, minus the requester; if none remain, the admins
    and SSO admins (minus the requester). Unbound entries (an email that resolves to
    nobody in Slack) are nobody's.

    Raises:
        NoApprover: nobody at all could approve it.
    """

    def eligible(slack_ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            s
            for s in dict.fromkeys(slack_ids)
            if rules.allow_self_approval or s != requester.slack_id
        )

    owners = eligible(rules.owners_of(account_id))
    if owners:
        return ApproverRouting(owners, fell_back=False)
    admins = eligible((*rules.admins(), *rules.sso_admins()))
    if admins:
        return ApproverRouting(admins, fell_back=True)
    raise NoApprover(
        "Nobody can approve requests for this account: it has no owner, and no admin or "
        "SSO admin is configured. Ask your jitbot administrator to add an owner."
    )


def may_decide(
    rules: Rules, request: AccessRequest, actor: Person, actor_principal: str | None = None
) -> str | None:
    """Why ``actor`` may not approve or reject ``request`` now, or None if they may.

    Standard (Pending): an owner of the account, an SSO admin or an admin. Custom,
    owner stage (Pending Owner): an owner of the account (the admins and SSO admins
    when the account has no owner who may approve). Custom, admin stage (Pending
    Admin): an SSO admin or an admin who did not approve the owner stage
    (troubleshooting doc, "Cannot Approve Request"). Never the requester: not their
    Slack user id, nor (``actor_principal``, when known) their Identity Center user.
    """
    if is_self(request, actor, actor_principal) and not rules.allow_self_approval:
        return "you can't approve your own request"
    roles = roles_of(rules, actor, request.account_id)
    if request.status == Status.PENDING_OWNER:
        if roles.owner:
            return None
        routing = route_approvers(rules, request.account_id, request.requester)
        if roles.oversees_all and routing.fell_back:
            return None
        return f"the first approval is for an owner of {request.account_label}"
    if request.status == Status.PENDING_ADMIN:
        first = request.review_of(Stage.OWNER)
        owner = first.reviewer if first is not None else None
        return may_give_final_approval(rules, actor, owner)
    if roles.owner or roles.oversees_all:
        return None
    return f"you are not an owner of {request.account_label}, an SSO admin or an admin"


def may_give_final_approval(rules: Rules, actor: Person | str, owner: Person | None) -> str | None:
    """Why ``actor`` (a person or a Slack user id) may not give a custom request's final
    (admin stage) approval, or None if they may: an SSO admin or an admin who is not
    ``owner``, the person who approved the owner stage, by Slack user id, whatever
    email either has now (troubleshooting doc, "Cannot Approve Request"). The requester
    is refused by :func:`may_decide` first."""
    slack_id = actor.slack_id if isinstance(actor, Person) else actor
    if owner is not None and owner.slack_id == slack_id:
        return "you approved the owner stage; another person must give the final approval"
    if roles_of(rules, slack_id).oversees_all:
        return None
    return "the final approval is for an SSO admin or an admin"


def admin_stage_approvers(rules: Rules, request: AccessRequest, owner: Person) -> list[str]:
    """The Slack user ids a custom request goes to for its final approval once ``owner``
    approved its owner stage: the SSO admins, then the admins, each once, who
    :func:`may_give_final_approval` (and not the requester unless
    ``allow_self_approval``). Empty when nobody is left."""
    return [
        slack_id
        for slack_id in dict.fromkeys([*rules.sso_admins(), *rules.admins()])
        if may_give_final_approval(rules, slack_id, owner) is None
        and (rules.allow_self_approval or slack_id != request.requester.slack_id)
    ]


def check_can_decide(
    rules: Rules, request: AccessRequest, actor: Person, actor_principal: str | None = None
) -> None:
    """Raise :class:`NotAuthorized` with the reason unless ``actor`` may decide ``request``.

    Authority is checked before the status, so an outsider learns nothing about the
    request's progress.
    """
    reason = may_decide(rules, request, actor, actor_principal)
    if reason is not None:
        raise NotAuthorized(f"You can't approve this request: {reason}.")


def may_view(rules: Rules, request: AccessRequest, actor: Person) -> bool:
    """The requester, the account's owners, SSO admins and admins may see a request."""
    roles = roles_of(rules, actor, request.account_id)
    return actor.slack_id == request.requester.slack_id or roles.owner or roles.oversees_all


def decision_buttons_shown(request: AccessRequest) -> bool:
    """Approve/Reject appear only while the transition table allows a decision."""
    return Event.APPROVE in allowed_events(request.status)


def is_approver(rules: Rules, actor: Person) -> bool:
    """Owners of any account, SSO admins and admins see the approver section."""
    roles = roles_of(rules, actor)
    return roles.owner or roles.oversees_all


def approver_scope(rules: Rules, actor: Person) -> list[str] | None:
    """The accounts whose requests ``actor`` oversees: None means every account (SSO
    admins and admins), a list the accounts they own (possibly empty)."""
    if roles_of(rules, actor).oversees_all:
        return None
    return rules.owned_account_ids(actor.slack_id)


def may_revoke(rules: Rules, request: AccessRequest, actor: Person) -> str | None:
    """Why ``actor`` may not revoke the session of ``request``, or None if they may.

    Owners revoke sessions on the accounts they own, admins any session (design §3);
    the requester ends their own with Release instead.
    """
    roles = roles_of(rules, actor, request.account_id)
    if roles.owner or roles.admin:
        return None
    return f"only an owner of {request.account_label} or an admin can revoke this session"


def may_end_own(request: AccessRequest, actor: Person) -> str | None:
    """Cancel (pending) and Release (active) are the requester's own: their Slack user
    id, whatever email they have now."""
    if actor.slack_id != request.requester.slack_id:
        return "only the requester can do that"
    return None
