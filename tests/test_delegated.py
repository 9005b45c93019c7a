"""The management account, seen from a delegated administrator (workflows.delegated):
a config error in check-config, and not offered at start-up."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.adapters import make_catalog
from workflows.assignments import AwsError
from workflows.config import parse_config
from workflows.custom_sets.sensitive import SensitiveAccounts
from workflows.delegated import delegated_admin_problems, management_provisioned_warnings

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

    def provisioned_accounts(self, arn: str) -> set[str]:
        return self.provisioned

    provisioned: set[str] = {MEMBER}


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


def test_a_standard_set_provisioned_in_the_management_account_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    aws = Aws(DELEGATED)
    aws.provisioned = {MEMBER, MANAGEMENT}
    sensitive = aws.sensitive_accounts()
    [line] = management_provisioned_warnings(
        CONFIG, sensitive, aws.permission_set_arns(), aws.provisioned_accounts
    )
    assert line.startswith(
        f"permission set ReadOnlyAccess is also provisioned in the management account {MANAGEMENT}"
    )
    assert "delegated administrator" in line and "Delegated administration" in line
    with caplog.at_level(logging.WARNING, logger="jitbot"):
        make_catalog(CONFIG, aws)  # type: ignore[arg-type]
    assert line in caplog.text  # said at start


def test_no_warning_when_not_provisioned_there_or_run_from_the_management_account() -> None:
    aws = Aws(DELEGATED)
    arns, provisioned = aws.permission_set_arns(), aws.provisioned_accounts
    assert (
        management_provisioned_warnings(CONFIG, aws.sensitive_accounts(), arns, provisioned) == []
    )
    aws = Aws(MANAGEMENT)
    aws.provisioned = {MEMBER, MANAGEMENT}
    assert (
        management_provisioned_warnings(
            CONFIG, aws.sensitive_accounts(), arns, aws.provisioned_accounts
        )
        == []
    )


def test_a_failed_listing_is_said_for_its_set() -> None:
    def refused(arn: str) -> set[str]:
        raise AwsError("sso-admin ListAccountsForProvisionedPermissionSet: AccessDeniedException")

    aws = Aws(DELEGATED)
    [line] = management_provisioned_warnings(
        CONFIG, aws.sensitive_accounts(), aws.permission_set_arns(), refused
    )
    assert line.startswith("permission set ReadOnlyAccess: could not tell where it is provisioned")
