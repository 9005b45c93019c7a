"""The management account, seen from a delegated administrator (workflows.delegated):
a config error in check-config, and not offered at start-up."""

from __future__ import annotations

from typing import Any

from bot.adapters import make_catalog
from workflows.config import parse_config
from workflows.custom_sets.sensitive import SensitiveAccounts
from workflows.delegated import delegated_admin_problems

MANAGEMENT, MEMBER, DELEGATED = "111111111111", "222222222222", "333333333333"
CONFIG = parse_config(f"""
admins: [ada@example.com]
accounts:
  - id: "{MEMBER}"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
  - id: "{MANAGEMENT}"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
""")


class Aws:
    """What make_catalog reads of the adapter, for an organization seen from ``own``."""

    def __init__(self, own: str) -> None:
        self.own = own

    def permission_set_arns(self) -> dict[str, str]:
        return {"ReadOnlyAccess": "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1"}

    def account_names(self) -> dict[str, str]:
        return {MEMBER: "Sandbox", MANAGEMENT: "Management"}

    def sensitive_accounts(self) -> SensitiveAccounts:
        return SensitiveAccounts(MANAGEMENT, self.own)

    def session_durations(self) -> dict[str, Any]:
        return {}


def test_from_a_delegated_administrator_the_management_account_is_a_config_error() -> None:
    [problem] = delegated_admin_problems(CONFIG, SensitiveAccounts(MANAGEMENT, DELEGATED))
    assert problem.startswith(f"accounts[1]: {MANAGEMENT} is the organization's management")
    assert "delegated administrator" in problem and "Delegated administration" in problem

    catalog = make_catalog(CONFIG, Aws(DELEGATED))  # type: ignore[arg-type]
    assert [a.id for a in catalog.accounts] == [MEMBER]
    assert problem in catalog.problems


def test_from_the_management_account_or_unknown_nothing_is_refused() -> None:
    assert delegated_admin_problems(CONFIG, SensitiveAccounts(MANAGEMENT, MANAGEMENT)) == []
    assert delegated_admin_problems(CONFIG, SensitiveAccounts(None, DELEGATED, "no org")) == []
    catalog = make_catalog(CONFIG, Aws(MANAGEMENT))  # type: ignore[arg-type]
    assert [a.id for a in catalog.accounts] == [MEMBER, MANAGEMENT]
