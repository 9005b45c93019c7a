"""Access rules' loose ends (issue 18): the manifest asks for the scope ``usergroup:``
needs, and an Identity Center group's member whose Slack address is at another domain
(``identity.email_domains``) is still DM'd and may approve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot import ids
from bot.adapters import slack_emails
from bot.cli import main
from sim.aws_world import DemoWorld, add_group
from sim.demo_setup import PEOPLE
from tests.bot_harness import running_bot
from tests.conftest import world_config
from tests.test_cli import env, fake  # noqa: F401 - fixtures
from tests.test_custom_flow import root_when_sent
from tests.test_explain import rules  # noqa: F401 - fixture
from workflows.states import Status

ROOT = Path(__file__).resolve().parent.parent


def test_the_manifest_asks_for_the_scopes_the_readme_names() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    readme = (ROOT / "README.md").read_text()
    listed = re.search(r"It asks for the bot scopes `([^`]+)`", readme)
    assert listed is not None
    assert "usergroups:read" in scopes
    assert sorted(listed.group(1).split()) == sorted(scopes)


def test_slack_addresses_read_the_domain_mapping_backwards() -> None:
    mapping = {"corp.com": "example.com", "old.org": "example.com", "x.io": "y.io"}
    assert slack_emails("bob@example.com", mapping) == [
        "bob@example.com",
        "bob@corp.com",
        "bob@old.org",
    ]
    assert slack_emails("sam@other.net", mapping) == ["sam@other.net"]


def test_a_group_member_at_a_mapped_slack_domain_is_dmd_and_approves(
    moto_world: DemoWorld, tmp_path: Path
) -> None:
    add_group(moto_world, "ProdLeads", ["bob@example.com"])
    extra = f"""
identity:
  email_domains: {{corp.com: example.com}}
access_rules:
  - name: sandbox-admin
    accounts: ["{moto_world.accounts["Sandbox"]}"]
    permission_sets: [AdministratorAccess]
    approvers: [group:ProdLeads]
"""
    with running_bot(moto_world, tmp_path, world_config(moto_world, extra)) as bot:
        bob_id, _ = PEOPLE["bob@example.com"]
        bot.fake.add_user(bob_id, "bob@corp.com", "Bob Other")  # Slack knows another address

        request = bot.request_access("alice", permission_set="AdministratorAccess")

        assert request.rule_name == "sandbox-admin"
        assert request.approvers == (bob_id,)
        bot.user("bob").click(root_when_sent(bot, request, "bob"), ids.ACTION_APPROVE)
        assert bot.assigned(bot.wait_status(request.id, Status.ACTIVE))


def test_explain_gives_a_custom_row_its_two_stages(
    rules: DemoWorld,  # noqa: F811
    env: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, production = rules.accounts["Sandbox"], rules.accounts["Production"]
    env.write_text(
        env.read_text()
        + f"""
  - name: sandbox-custom
    accounts: ["{sandbox}"]
    permission_sets: [custom]
    approvers: [group:ProdLeads]
custom_permission_sets:
  enabled: true
  managed_policies: [ReadOnlyAccess]
"""
    )
    assert main(["explain", "--as", "alice@example.com", "--permission-set", "custom"]) == 0
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert (
        f"Sandbox ({sandbox}) custom sandbox-custom yes Bob Builder, Sam SsoAdmin; then an "
        "SSO admin 1, then 1 any -" in lines
    ), lines
    assert (
        f"Production ({production}) custom (default) yes Olga Owner; then an SSO admin "
        "1, then 1 any -" in lines
    ), lines


def test_the_decider_answers_as_the_click_does() -> None:
    from tests.test_rules_flow import ADA, BOB, OSCAR, rule, submit, world

    w = world(rule(approvers=["group:ProdLeads"]))
    request = submit(w)
    answers = {p.name: w.services.authority.decider(p)(request) for p in (BOB, OSCAR, ADA)}
    assert answers == {"Bob Builder": True, "Oscar Owner": False, "Ada Admin": False}
    assert w.services.decide(request.id, BOB, True, request.requested_at).status == Status.ACTIVE


def _ruled_home(store, viewer):  # type: ignore[no-untyped-def]
    from tests.test_home import CATALOG, CONFIG, NOW, PS, SANDBOX
    from workflows.app_home import HomeState, build_home
    from workflows.config.rules import AccessRuleConfig
    from workflows.rulebook import RuleBook, RuleLookups
    from workflows.services.authority import Authority

    rule = AccessRuleConfig.model_validate(
        {
            "name": "sbx",
            "accounts": [SANDBOX],
            "permission_sets": ["*"],
            "approvers": ["group:ProdLeads"],
        }
    ).rule()
    authority = Authority(
        CONFIG,
        store,
        RuleBook((rule,)),
        RuleLookups(in_group=lambda principal, group: principal == "u-bob"),
        principal_of=lambda person: "u-bob" if person.slack_id == "U06BOB" else "u-other",
    )
    data = build_home(
        store, CONFIG, CATALOG, viewer, HomeState(), NOW, decides=authority.decider(viewer)
    )
    return data, PS


def test_pending_approvals_under_a_rule_are_what_the_click_allows(store) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from bot.render.app_home import home_view
    from sim.fake_slack import blocks_to_text
    from tests.test_home import ALICE, NOW, OSCAR, PS, SANDBOX, buttons
    from workflows.domain import NewRequest, Person

    bob = Person("U06BOB", "bob@example.com", "Bob Builder")
    at = NOW - timedelta(hours=1)
    store.add_request(
        NewRequest(
            ALICE,
            "u-alice",
            SANDBOX,
            "Sandbox",
            "ReadOnly",
            PS,
            timedelta(hours=1),
            "Looking into OPS-1",
            at,
            at + timedelta(hours=24),
            ("U06BOB",),
            rule_name="sbx",
        )
    )
    bob_home, _ = _ruled_home(store, bob)
    view = home_view(bob_home)
    assert "Pending Approvals (1)" in blocks_to_text(view["blocks"])
    assert bob_home.stats["approvals"] == 1
    assert "Approve" in [b[0] for b in buttons(view)]

    oscar_home, _ = _ruled_home(store, OSCAR)  # owns Sandbox, not in the rule's group
    view = home_view(oscar_home)
    assert "Pending Approvals (0)" in blocks_to_text(view["blocks"])
    assert "Approve" not in [b[0] for b in buttons(view)]
