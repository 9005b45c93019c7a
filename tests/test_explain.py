"""``jitbot explain`` against moto and the fake Slack: what a requester may ask for and
what an approver may approve, under access rules, as a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from sim.aws_world import DemoWorld, add_group
from sim.fake_slack import FakeSlack
from tests.test_cli import env, fake  # noqa: F401 - fixtures


@pytest.fixture
def rules(moto_world: DemoWorld, env: Path, fake: FakeSlack) -> DemoWorld:  # noqa: F811
    add_group(moto_world, "ProdLeads", ["bob@example.com", "sam@example.com"])
    sandbox, production = moto_world.accounts["Sandbox"], moto_world.accounts["Production"]
    env.write_text(f"""
admins: [ada@example.com]
durations: [1h, 4h, 1d]
accounts:
  - id: "{sandbox}"
    name: Sandbox
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
  - id: "{production}"
    name: Production
    owners: [olga@example.com]
    permission_sets: [ReadOnlyAccess]
access_rules:
  - name: sandbox-admin
    accounts: ["{sandbox}"]
    permission_sets: [AdministratorAccess]
    requesters: [bob@example.com]
    approvers: [group:ProdLeads]
    approvals: 2
    max_duration: 4h
    ticket: {{pattern: "INC-[0-9]+"}}
  - name: prod-read
    accounts: ["{production}"]
    permission_sets: [ReadOnlyAccess]
    auto_approve: true
""")
    return moto_world


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]


def test_explain_as_a_requester_gives_each_account_and_set_a_row(
    rules: DemoWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, production = rules.accounts["Sandbox"], rules.accounts["Production"]
    assert main(["explain", "--as", "Alice@Example.com"]) == 0
    lines = _lines(capsys)
    assert lines[0] == (
        "ACCOUNT PERMISSION SET RULE MAY REQUEST APPROVERS APPROVALS AT MOST TICKET"
    )
    assert (
        f"Sandbox ({sandbox}) ReadOnlyAccess (default) yes Oscar Owner, Ada Admin 1 any -" in lines
    )
    assert (
        f"Sandbox ({sandbox}) AdministratorAccess sandbox-admin no Bob Builder, Sam SsoAdmin "
        "2 4 hours required" in lines
    )
    assert (
        f"Production ({production}) ReadOnlyAccess prod-read yes Olga Owner, Ada Admin automatic any -"
        in lines
    )


def test_explain_one_account_and_set(rules: DemoWorld, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = rules.accounts["Sandbox"]
    assert (
        main(
            [
                "explain",
                "--as",
                "bob@example.com",
                "--account",
                sandbox,
                "--permission-set",
                "AdministratorAccess",
            ]
        )
        == 0
    )
    lines = _lines(capsys)
    assert len(lines) == 2 and " sandbox-admin yes Sam SsoAdmin 2 " in lines[1]


def test_explain_as_an_approver_lists_what_names_them(
    rules: DemoWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = rules.accounts["Sandbox"]
    assert main(["explain", "--approver", "sam@example.com"]) == 0
    lines = _lines(capsys)
    assert lines[0] == "ACCOUNT PERMISSION SET RULE APPROVES AS APPROVALS"
    assert lines[1:] == [f"Sandbox ({sandbox}) AdministratorAccess sandbox-admin group:ProdLeads 2"]


def test_explain_for_someone_slack_does_not_know_exits_1(
    rules: DemoWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", "--as", "ghost@example.com"]) == 1
    assert "no Slack user with email ghost@example.com" in capsys.readouterr().err
