"""What the request form offers a person under the access rules (issue 18): the
accounts and permission sets whose rule lets them ask."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from workflows.access_rules import may_ask_ticket, rule_line
from workflows.catalog import Catalog, CatalogAccount
from workflows.errors import WorkflowError
from workflows.policy import Rules
from workflows.rulebook import RoleMembers, RuleBook, RuleLookups, may_request

#: Stands for the requester's Identity Center user, unknown on the form's paths: every
#: Identity Center group counts as naming them there.
ANY_PRINCIPAL = "(any)"


def offering(
    rulebook: RuleBook, lookups: RuleLookups, rules: Rules, slack_id: str
) -> Callable[[CatalogAccount], CatalogAccount | None]:
    """A function from a catalog account to that account with only the standard sets
    (and custom, when allowed) whose access rule lets ``slack_id`` ask, or None when
    nothing is left; every account as it is when there are no rules.

    Decided without AWS (the form's paths call none): a rule naming an OU whose accounts
    are not cached yet, and Identity Center groups among ``requesters``, count as
    letting the person ask; the server decides at submit. Slack user groups are read
    (cached); when Slack does not answer they count as letting the person ask too.
    """
    if not rulebook.rules:
        return lambda account: account

    def in_usergroup(user: str, handle: str) -> bool:
        try:
            return lookups.in_usergroup is None or lookups.in_usergroup(user, handle)
        except WorkflowError:
            return True

    members = RoleMembers(rules, lambda _principal, _group: True, in_usergroup)

    def allowed(account_id: str, name: str | None) -> bool:
        applied = rulebook.for_request_now(account_id, name)
        if applied is None:
            return True
        refusal = may_request(
            applied, members, slack_id=slack_id, principal_id=ANY_PRINCIPAL, account_id=account_id
        )
        return refusal is None

    def offer(account: CatalogAccount) -> CatalogAccount | None:
        sets = {n: arn for n, arn in account.permission_sets.items() if allowed(account.id, n)}
        custom = account.custom and allowed(account.id, None)
        if not sets and not custom:
            return None
        return replace(account, permission_sets=sets, custom=custom)

    return offer


@dataclass(frozen=True)
class FormChoice:
    """What the request form shows for a person's current choice: ``account`` (its
    standard sets only those the rules let them ask for; None: none chosen, or nothing
    there for them), the ``durations`` the governing rule allows, its ``rule_line``
    (None: the default rule, or not known without AWS), and whether to show the
    "Ticket" input."""

    account: CatalogAccount | None
    durations: list[timedelta]
    rule_line: str | None
    ticket: bool


def form_choice(
    catalog: Catalog,
    durations: list[timedelta],
    rulebook: RuleBook,
    offer: Callable[[CatalogAccount], CatalogAccount | None],
    account_id: str | None,
    permission_set: str | None,
    custom: bool,
) -> FormChoice:
    """:class:`FormChoice` for ``account_id`` and the standard ``permission_set`` chosen
    (or a custom set), read without an AWS call
    (:meth:`~workflows.rulebook.RuleBook.for_request_now`)."""
    chosen = catalog.account(account_id) if account_id else None
    account = offer(chosen) if chosen is not None else None
    line = None
    if account_id and (permission_set or custom):
        applied = rulebook.for_request_now(account_id, None if custom else permission_set)
        line = rule_line(applied)
        if applied is not None and applied.max_duration is not None:
            durations = applied.durations(durations)
    return FormChoice(account, durations, line, may_ask_ticket(rulebook.rules, account_id))
