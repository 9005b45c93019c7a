"""``jitbot check-config`` on access rules, against moto and the fake Slack: each
Identity Center group, Slack user group and OU a rule names must exist, and a rule must
name at least as many approvers as the approvals it asks for."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from bot.cli import main
from sim.aws_world import DemoWorld, add_group
from sim.fake_slack import FakeSlack
from tests.conftest import REGION
from tests.test_cli import env, fake  # noqa: F401 - fixtures


def test_check_config_names_every_missing_group_user_group_and_ou(
    moto_world: DemoWorld,
    env: Path,  # noqa: F811 - test_cli's fixture
    fake: FakeSlack,  # noqa: F811 - test_cli's fixture
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_group(moto_world, "ProdLeads", ["bob@example.com"])
    fake.add_usergroup("oncall", ["U06BOB"])
    org = boto3.client("organizations", region_name=REGION)
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Prod")["OrganizationalUnit"]["Id"]
    sandbox = moto_world.accounts["Sandbox"]
    env.write_text(f"""
admins: [ada@example.com]
accounts:
  - id: "{sandbox}"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
access_rules:
  - name: good
    accounts: ["{sandbox}", {ou}]
    permission_sets: [ReadOnlyAccess]
    requesters: [usergroup:oncall]
    approvers: [group:ProdLeads, oscar@example.com]
    approvals: 2
  - name: bad
    accounts: [ou-zz99-nothere1]
    permission_sets: [AdministratorAccess]
    requesters: [usergroup:nobody]
    approvers: [group:Ghosts]
  - name: too-few
    accounts: ["{sandbox}"]
    permission_sets: [AdministratorAccess]
    approvers: [group:ProdLeads]
    approvals: 2
""")
    assert main(["check-config"]) == 1
    out = capsys.readouterr().out
    assert "access_rules[1].accounts[0]: no OU ou-zz99-nothere1 in the organization" in out
    assert "access_rules[1].requesters[0]: no enabled Slack user group 'nobody'" in out
    assert "access_rules[1].approvers[0]: no Identity Center group named 'Ghosts'" in out
    assert (
        f"access_rules[2]: approvals: 2, but its approvers name 1 Slack user(s) on {sandbox}" in out
    )
    assert "access_rules[0]" not in out
    assert "4 problem(s) found." in out
