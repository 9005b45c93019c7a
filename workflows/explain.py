"""``jitbot explain``: what a person may request, or approve, under the access rules, as
table rows (issue 18). Pure over the catalog, the rule book and the memberships; the
command line resolves the person and prints :func:`~workflows.text_table.aligned`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workflows.access_rules import AppliedRule
from workflows.catalog import Catalog, CatalogAccount
from workflows.domain import Person
from workflows.durations import duration_label
from workflows.errors import NoApprover
from workflows.policy import Rules, route_approvers
from workflows.rule_refs import names
from workflows.rulebook import RoleMembers, RuleBook, RuleLookups, approver_ids, may_request
from workflows.text_table import cell

__all__ = ["REQUESTER_HEADER", "APPROVER_HEADER", "Explaining", "approver_rows", "requester_rows"]

REQUESTER_HEADER = (
    "ACCOUNT",
    "PERMISSION SET",
    "RULE",
    "MAY REQUEST",
    "APPROVERS",
    "APPROVALS",
    "AT MOST",
    "TICKET",
)
APPROVER_HEADER = ("ACCOUNT", "PERMISSION SET", "RULE", "APPROVES AS", "APPROVALS")


@dataclass(frozen=True)
class Explaining:
    """What the rows are made from: the catalog, the rules in force, the config's roles
    through the bindings, how groups are read, and a Slack user id's display name."""

    catalog: Catalog
    rulebook: RuleBook
    rules: Rules
    lookups: RuleLookups
    name_of: Callable[[str], str]
    custom: bool = False  # custom sets enabled: a "custom" row per account that allows them

    def members(self) -> RoleMembers:
        return self.lookups.members(self.rules)

    def targets(
        self, account_id: str | None, permission_set: str | None
    ) -> list[tuple[CatalogAccount, str | None]]:
        """(account, set name; None: custom) pairs asked about, in catalog order."""
        pairs: list[tuple[CatalogAccount, str | None]] = []
        for account in self.catalog.accounts:
            if account_id is not None and account.id != account_id:
                continue
            names_here: list[str | None] = list(account.permission_sets)
            if self.custom and account.custom:
                names_here.append(None)
            for name in names_here:
                if permission_set is None or (name or "custom") == permission_set:
                    pairs.append((account, name))
        return pairs


def _rule_cells(applied: AppliedRule) -> tuple[str, str, str]:
    approvals = "automatic" if applied.auto_approve else str(applied.approvals)
    most = duration_label(applied.max_duration) if applied.max_duration else "any"
    ticket = (
        "required"
        if applied.ticket and applied.ticket.required
        else ("optional" if applied.ticket else "-")
    )
    return approvals, most, ticket


def _first_stage(
    ex: Explaining, applied: AppliedRule, account_id: str, set_name: str | None, asker: str
) -> tuple[str, ...]:
    """Who approves a request's first (for a standard set: only) stage: the approvers
    ``applied`` names; for a custom set (``set_name`` None) under no named rule, the
    account's owners (the admins and SSO admins when it has none), as
    :func:`~workflows.policy.may_decide` has it; never ``asker`` (a Slack user id)."""
    if set_name is None and applied.name is None:
        try:
            return route_approvers(ex.rules, account_id, Person(asker, "", "")).slack_ids
        except NoApprover:
            return ()
    ids = approver_ids(applied, ex.rules, ex.lookups, account_id)
    return tuple(i for i in ids if i != asker)


def requester_rows(
    ex: Explaining,
    *,
    slack_id: str,
    principal_id: str | None,
    account_id: str | None = None,
    permission_set: str | None = None,
) -> list[tuple[str, ...]]:
    """One row per (account, set): the rule, whether this person may request it (and
    why not), who approves (display names), approvals (or ``automatic``), the longest
    duration and the ticket.

    :raises AwsError, WorkflowError: a group or OU could not be read.
    """
    rows = []
    for account, name in ex.targets(account_id, permission_set):
        applied = ex.rulebook.for_request(account.id, name)
        refusal = may_request(
            applied,
            ex.members(),
            slack_id=slack_id,
            principal_id=principal_id,
            account_id=account.id,
        )
        who = ", ".join(
            ex.name_of(i) for i in _first_stage(ex, applied, account.id, name, slack_id)
        )
        approvals, most, ticket = _rule_cells(applied)
        if name is None:  # custom: the owner stage, then an SSO admin (the two stages)
            who, approvals = f"{who or 'nobody'}; then an SSO admin", "1, then 1"
        rows.append(
            (
                cell(account.label),
                cell(name or "custom"),
                applied.name or "(default)",
                "yes" if refusal is None else "no",
                cell(who or "nobody", 60),
                approvals,
                most,
                ticket,
            )
        )
    return rows


def approver_rows(
    ex: Explaining, *, slack_id: str, principal_id: str | None
) -> list[tuple[str, ...]]:
    """One row per (account, set) this person may approve: the rule, what names them
    (``owners``, ``group:ProdLeads``, …) and the approvals needed. Automatic rules need
    nobody and are left out.

    :raises AwsError, WorkflowError: a group or OU could not be read.
    """
    rows = []
    for account, name in ex.targets(None, None):
        applied = ex.rulebook.for_request(account.id, name)
        if applied.auto_approve:
            continue
        found = names(
            applied.approvers,
            ex.members(),
            slack_id=slack_id,
            principal_id=principal_id,
            account_id=account.id,
        )
        if found is None:
            continue
        rows.append(
            (
                cell(account.label),
                cell(name or "custom"),
                applied.name or "(default)",
                cell(str(found)),
                str(applied.approvals),
            )
        )
    return rows
