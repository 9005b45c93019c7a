"""What can be requested: the config's accounts with names and permission set ARNs
resolved in AWS at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from workflows.config import Config


@dataclass(frozen=True)
class CatalogAccount:
    """An account people may request, with its allowed standard permission sets
    (name -> ARN, in config order)."""

    id: str
    name: str
    permission_sets: dict[str, str] = field(default_factory=dict)
    custom: bool = False  # custom permission sets may be requested here
    custom_refusal: str | None = None  # why not, when a rule refuses them (the requester reads it)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class Catalog:
    """Accounts offered in the request modal, in config order. ``problems`` lists what
    in the config did not resolve in AWS (a permission set name that does not exist)."""

    accounts: tuple[CatalogAccount, ...]
    problems: tuple[str, ...] = ()
    # standard set name -> how long one sign-in lasts (its SessionDuration)
    session_limits: dict[str, timedelta] = field(default_factory=dict)

    def account(self, account_id: str) -> CatalogAccount | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def find(self, query: str) -> CatalogAccount | None:
        """The one account whose id or name is ``query`` (case-insensitive), else the one
        whose name contains it; None when there is no query or it is ambiguous."""
        q = query.strip().lower()
        if not q:
            return None
        exact = [a for a in self.accounts if q in (a.id, a.name.lower())]
        if len(exact) == 1:
            return exact[0]
        partial = [a for a in self.accounts if q in a.name.lower()]
        return partial[0] if len(partial) == 1 else None


def build_catalog(
    config: Config, permission_set_arns: dict[str, str], account_names: dict[str, str]
) -> Catalog:
    """Resolve the config against what Identity Center and Organizations report.

    ``permission_set_arns`` maps permission set name -> ARN (sso-admin), ``account_names``
    account id -> name (organizations; may be empty). A permission set name that does
    not exist is a problem and is left out; an account with no permission set left is
    not offered unless custom permission sets may be requested on it (troubleshooting
    doc: "Accounts will only appear if there are valid permission sets available for
    them").
    """
    accounts: list[CatalogAccount] = []
    problems: list[str] = []
    for index, account in enumerate(config.accounts):
        sets: dict[str, str] = {}
        for ps_index, name in enumerate(account.permission_sets):
            arn = permission_set_arns.get(name)
            if arn is None:
                problems.append(
                    f"accounts[{index}].permission_sets[{ps_index}]: no permission set named "
                    f"{name!r} in the Identity Center instance"
                )
            else:
                sets[name] = arn
        name = account.name or account_names.get(account.id) or account.id
        custom = config.custom_allowed_on(account.id)
        if sets or custom:
            accounts.append(CatalogAccount(account.id, name, sets, custom))
    return Catalog(tuple(accounts), tuple(problems))
