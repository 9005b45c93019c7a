"""Who may approve, reject and see what: the one place for these rules.

The rules are the product's (approver guide, troubleshooting "Cannot Approve Request"):
a standard request may be decided by an owner of the target account, an SSO admin or
an admin, never by the requester (unless ``allow_self_approval`` is set for a tiny
team). Roles come from the server's config, the request from the database: nothing a
button's value or a modal's metadata claims is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.config import Config
from workflows.domain import AccessRequest, Person, Stage
from workflows.errors import NoApprover, NotAuthorized
from workflows.states import Event, Status, allowed_events


@dataclass(frozen=True)
class Roles:
    """A person's roles in the config (:meth:`Config.role_of`): ``admin``,
    ``sso_admin``, and ``owner`` of the account asked about (of any account when
    :func:`roles_of` was given none)."""

    admin: bool
    sso_admin: bool
    owner: bool

    @property
    def oversees_all(self) -> bool:
        """An admin or an SSO admin: every account's requests are theirs to see."""
        return self.admin or self.sso_admin


def roles_of(config: Config, person: Person | str, account_id: str | None = None) -> Roles:
    """The roles of ``person`` (or an email, any case), owner meaning of ``account_id``
    (of any account when None): the one notion of roles every rule here uses."""
    email = (person.email if isinstance(person, Person) else person).strip().lower()
    roles = config.role_of(email)
    owner = "owner" in roles if account_id is None else email in config.owners_of(account_id)
    return Roles(admin="admin" in roles, sso_admin="sso_admin" in roles, owner=owner)


@dataclass(frozen=True)
class ApproverRouting:
    """Who a new request is sent to. ``fell_back`` is True when the account has no
    owner who may approve, so the admins and SSO admins got it instead."""

    emails: tuple[str, ...]
    fell_back: bool


def route_approvers(config: Config, account_id: str, requester_email: str) -> ApproverRouting:
    """Pick the approvers of a new request on ``account_id``.

    Owners of the account, minus the requester; if none remain, the admins and SSO
    admins (minus the requester).

    Raises:
        NoApprover: nobody at all could approve it.
    """
    requester = requester_email.lower()

    def eligible(emails: list[str]) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for email in emails:
            if config.allow_self_approval or email != requester:
                seen.setdefault(email, None)
        return tuple(seen)

    owners = eligible(config.owners_of(account_id))
    if owners:
        return ApproverRouting(owners, fell_back=False)
    admins = eligible([*config.admins, *config.sso_admins])
    if admins:
        return ApproverRouting(admins, fell_back=True)
    raise NoApprover(
        "Nobody can approve requests for this account: it has no owner, and no admin or "
        "SSO admin is configured. Ask your jitbot administrator to add an owner."
    )


def may_decide(config: Config, request: AccessRequest, actor: Person) -> str | None:
    """Why ``actor`` may not approve or reject ``request`` now, or None if they may.

    Standard (Pending): an owner of the account, an SSO admin or an admin. Custom,
    owner stage (Pending Owner): an owner of the account (the admins and SSO admins
    when the account has no owner who may approve). Custom, admin stage (Pending
    Admin): an SSO admin or an admin who did not approve the owner stage
    (troubleshooting doc, "Cannot Approve Request"). Never the requester.
    """
    email = actor.email.lower()
    if email == request.requester.email.lower() and not config.allow_self_approval:
        return "you can't approve your own request"
    roles = roles_of(config, actor, request.account_id)
    if request.status == Status.PENDING_OWNER:
        if roles.owner:
            return None
        routing = route_approvers(config, request.account_id, request.requester.email)
        if roles.oversees_all and routing.fell_back:
            return None
        return f"the first approval is for an owner of {request.account_label}"
    if request.status == Status.PENDING_ADMIN:
        first = request.review_of(Stage.OWNER)
        owner = first.reviewer if first is not None else None
        return may_give_final_approval(config, actor, owner)
    if roles.owner or roles.oversees_all:
        return None
    return f"you are not an owner of {request.account_label}, an SSO admin or an admin"


def may_give_final_approval(
    config: Config, actor: Person | str, owner: Person | None
) -> str | None:
    """Why ``actor`` may not give a custom request's final (admin stage) approval, or
    None if they may: an SSO admin or an admin who is not ``owner``, the person who
    approved the owner stage (troubleshooting doc, "Cannot Approve Request"). ``actor``
    may be given as an email. The requester is refused by :func:`may_decide` first."""
    email = (actor.email if isinstance(actor, Person) else actor).lower()
    if owner is not None and owner.email.lower() == email:
        return "you approved the owner stage; another person must give the final approval"
    if roles_of(config, actor).oversees_all:
        return None
    return "the final approval is for an SSO admin or an admin"


def admin_stage_approvers(config: Config, request: AccessRequest, owner: Person) -> list[str]:
    """The emails a custom request goes to for its final approval once ``owner``
    approved its owner stage: the SSO admins, then the admins, each once, who
    :func:`may_give_final_approval` (and not the requester unless
    ``allow_self_approval``). Empty when nobody is left."""
    requester = request.requester.email.lower()
    return [
        email
        for email in dict.fromkeys([*config.sso_admins, *config.admins])
        if may_give_final_approval(config, email, owner) is None
        and (config.allow_self_approval or email != requester)
    ]


def check_can_decide(config: Config, request: AccessRequest, actor: Person) -> None:
    """Raise :class:`NotAuthorized` with the reason unless ``actor`` may decide ``request``.

    Authority is checked before the status, so an outsider learns nothing about the
    request's progress.
    """
    reason = may_decide(config, request, actor)
    if reason is not None:
        raise NotAuthorized(f"You can't approve this request: {reason}.")


def may_view(config: Config, request: AccessRequest, actor: Person) -> bool:
    """The requester, the account's owners, SSO admins and admins may see a request."""
    roles = roles_of(config, actor, request.account_id)
    return actor.slack_id == request.requester.slack_id or roles.owner or roles.oversees_all


def decision_buttons_shown(request: AccessRequest) -> bool:
    """Approve/Reject appear only while the transition table allows a decision."""
    return Event.APPROVE in allowed_events(request.status)


def is_approver(config: Config, actor: Person) -> bool:
    """Owners of any account, SSO admins and admins see the approver section."""
    roles = roles_of(config, actor)
    return roles.owner or roles.oversees_all


def approver_scope(config: Config, actor: Person) -> list[str] | None:
    """The accounts whose requests ``actor`` oversees: None means every account (SSO
    admins and admins), a list the accounts they own (possibly empty)."""
    if roles_of(config, actor).oversees_all:
        return None
    return config.owned_account_ids(actor.email.lower())


def may_revoke(config: Config, request: AccessRequest, actor: Person) -> str | None:
    """Why ``actor`` may not revoke the session of ``request``, or None if they may.

    Owners revoke sessions on the accounts they own, admins any session (design §3);
    the requester ends their own with Release instead.
    """
    roles = roles_of(config, actor, request.account_id)
    if roles.owner or roles.admin:
        return None
    return f"only an owner of {request.account_label} or an admin can revoke this session"


def may_end_own(request: AccessRequest, actor: Person) -> str | None:
    """Cancel (pending) and Release (active) are the requester's own."""
    if actor.slack_id != request.requester.slack_id:
        return "only the requester can do that"
    return None
