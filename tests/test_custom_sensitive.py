"""Custom sets are refused on the organization's management account and on the account
jitbot runs in, unless that account says ``allow_custom_on_sensitive: true``; refused
where the person is (no custom option in the modal, an inline error for a forged
submission), and everywhere when AWS cannot say which account is which."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.core.exceptions import JsonRESTError
from moto.organizations.responses import OrganizationsResponse

from bot import ids
from sim.aws_world import DemoWorld
from tests.bot_harness import Bot, has_block, running_bot
from tests.conftest import REGION
from tests.test_custom_flow import S3_POLICY, open_custom_form
from workflows.aws import IdentityCenter
from workflows.catalog import build_catalog
from workflows.config import Config, parse_config
from workflows.custom_sets.sensitive import SensitiveAccounts, restrict_custom
from workflows.errors import InvalidRequest
from workflows.validation import KIND_CUSTOM, RequestForm, validate_form

MANAGEMENT_REFUSED = (
    "Custom permission sets can't be requested on Management ({id}): it is the "
    "organization's management account."
)
UNKNOWN_REFUSED = (
    "Custom permission sets can't be requested on Sandbox ({id}) right now: jitbot could "
    "not find out whether it is the organization's management account. Ask your jitbot "
    "admins."
)


def management_id() -> str:
    org = boto3.client("organizations", region_name=REGION).describe_organization()
    return str(org["Organization"]["MasterAccountId"])


def config_text(world: DemoWorld, *, management_opts_in: bool = False) -> str:
    return f"""
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - id: "{world.accounts["Sandbox"]}"
    name: Sandbox
    owners: [oscar@example.com, olga@example.com]
    permission_sets: [ReadOnlyAccess]
  - id: "{management_id()}"
    name: Management
    owners: [olga@example.com]
    permission_sets: [ReadOnlyAccess]
    allow_custom_on_sensitive: {str(management_opts_in).lower()}
durations: [1h]
custom_permission_sets:
  enabled: true
  managed_policies: [ReadOnlyAccess]
"""


def custom_values() -> dict[str, Any]:
    return {
        ids.ACTION_CUSTOM_NAME: "S3Read",
        ids.ACTION_CUSTOM_SESSION: "1",
        ids.ACTION_CUSTOM_INLINE: S3_POLICY,
        ids.ACTION_DURATION: "1h",
        ids.ACTION_JUSTIFICATION: "Reading artifacts for OPS-90",
    }


def forged_on(bot: Bot, account_id: str) -> dict[str, Any]:
    """A custom request made on Sandbox's form, sent as if for ``account_id``."""
    alice = bot.user("alice")
    view = open_custom_form(bot, alice)
    state = alice.fill(view, custom_values())
    chosen = state[ids.BLOCK_ACCOUNT][ids.ACTION_ACCOUNT]
    chosen["selected_option"] = copy.deepcopy(chosen["selected_option"])
    chosen["selected_option"]["value"] = account_id
    return bot.forge_submission(alice, view, state).json()


def kind_offered(bot: Bot, account_id: str) -> bool:
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), account_id)
    return has_block(view, ids.BLOCK_KIND)


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, parse_config(config_text(moto_world))) as running:
        yield running


def test_the_management_account_offers_no_custom_set(bot: Bot) -> None:
    assert kind_offered(bot, bot.sandbox)
    assert not kind_offered(bot, management_id())


def test_a_forged_custom_request_on_the_management_account_is_refused_inline(bot: Bot) -> None:
    answer = forged_on(bot, management_id())
    assert answer["response_action"] == "errors"
    assert answer["errors"][ids.BLOCK_ACCOUNT] == MANAGEMENT_REFUSED.format(id=management_id())
    assert bot.requests(bot.user("alice").user_id) == []


def test_an_account_that_opts_in_offers_custom_sets(moto_world: DemoWorld, tmp_path: Path) -> None:
    config = parse_config(config_text(moto_world, management_opts_in=True))
    with running_bot(moto_world, tmp_path, config) as running:
        assert kind_offered(running, management_id())


def test_when_organizations_cannot_say_no_account_offers_custom_sets(
    moto_world: DemoWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: OrganizationsResponse) -> str:
        raise JsonRESTError("AccessDeniedException", "not allowed to DescribeOrganization")

    config = parse_config(config_text(moto_world))
    monkeypatch.setattr(OrganizationsResponse, "describe_organization", refuse)
    with running_bot(moto_world, tmp_path, config) as running:
        assert not kind_offered(running, running.sandbox)
        answer = forged_on_sandbox_form(running)
    assert answer["errors"][ids.BLOCK_ACCOUNT] == UNKNOWN_REFUSED.format(
        id=moto_world.accounts["Sandbox"]
    )


def forged_on_sandbox_form(bot: Bot) -> dict[str, Any]:
    """A custom submission for Sandbox, which offers no custom option: the custom inputs
    are added by hand to the standard form."""
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    state = alice.fill(
        view, {ids.ACTION_DURATION: "1h", ids.ACTION_JUSTIFICATION: "Reading artifacts for OPS-91"}
    )
    state[ids.BLOCK_KIND] = {
        ids.ACTION_KIND: {"type": "static_select", "selected_option": {"value": KIND_CUSTOM}}
    }
    state[ids.BLOCK_CUSTOM_NAME] = {
        ids.ACTION_CUSTOM_NAME: {"type": "plain_text_input", "value": "S3Read"}
    }
    return bot.forge_submission(alice, view, state).json()


# --------------------------------------------------------------------------- the rule


def small_config(own: str, management: str, *, own_opts_in: bool = False) -> Config:
    return parse_config(f"""
admins: [ada@example.com]
accounts:
  - {{id: "{own}", name: Tooling, owners: [oscar@example.com], permission_sets: [RO]}}
  - {{id: "{management}", name: Root, owners: [oscar@example.com],
     allow_custom_on_sensitive: false}}
  - {{id: "333333333333", name: Plain, owners: [oscar@example.com],
     allow_custom_on_sensitive: {str(own_opts_in).lower()}}}
durations: [1h]
custom_permission_sets: {{enabled: true, managed_policies: [ReadOnlyAccess]}}
""")


def custom_errors(config: Config, sensitive: SensitiveAccounts, account_id: str) -> dict:
    catalog = restrict_custom(build_catalog(config, {"RO": "arn:ps"}, {}), config, sensitive)
    form = RequestForm(
        account_id,
        None,
        "1h",
        "Reading artifacts for OPS-92",
        kind=KIND_CUSTOM,
        custom_name="S3Read",
        custom_session_hours="1",
        custom_inline=S3_POLICY,
    )
    try:
        validate_form(config, catalog, form)
    except InvalidRequest as exc:  # what the modal shows, by field
        return dict(exc.errors)
    return {}


def test_the_account_jitbot_runs_in_is_refused_too() -> None:
    config = small_config("111111111111", "222222222222")
    sensitive = SensitiveAccounts("222222222222", "111111111111")
    assert custom_errors(config, sensitive, "111111111111") == {
        "account": "Custom permission sets can't be requested on Tooling (111111111111): "
        "jitbot runs in it."
    }
    assert custom_errors(config, sensitive, "333333333333") == {}


def test_a_management_account_with_nothing_else_to_request_is_not_offered() -> None:
    config = small_config("111111111111", "222222222222")
    catalog = restrict_custom(
        build_catalog(config, {"RO": "arn:ps"}, {}),
        config,
        SensitiveAccounts("222222222222", "111111111111"),
    )
    assert [a.name for a in catalog.accounts] == ["Tooling", "Plain"]


def test_unknown_accounts_refuse_custom_sets_except_where_an_account_opts_in() -> None:
    config = small_config("111111111111", "222222222222", own_opts_in=True)
    unknown = SensitiveAccounts(None, None, "organizations DescribeOrganization: AccessDenied")
    assert "right now" in custom_errors(config, unknown, "111111111111")["account"]
    assert custom_errors(config, unknown, "333333333333") == {}


# --------------------------------------------------------------------------- the adapter


def stubbed_facts(aws_env: None) -> tuple[IdentityCenter, Stubber, Stubber]:
    org = boto3.client("organizations", region_name=REGION)
    sts = boto3.client("sts", region_name=REGION)
    ic = IdentityCenter(
        instance_arn="arn:aws:sso:::instance/ssoins-1234567890abcdef",
        identity_store_id="d-1234567890",
        clients={"organizations": org, "sts": sts},
    )
    return ic, Stubber(org), Stubber(sts)


def caller(account: str) -> dict[str, str]:
    return {"Account": account, "Arn": f"arn:aws:iam::{account}:role/jitbot", "UserId": "AID"}


def test_aws_names_both_accounts_once(aws_env: None) -> None:
    ic, org, sts = stubbed_facts(aws_env)
    org.add_response(
        "describe_organization", {"Organization": {"Id": "o-1", "MasterAccountId": "222222222222"}}
    )
    sts.add_response("get_caller_identity", caller("111111111111"))
    with org, sts:
        assert ic.sensitive_accounts() == SensitiveAccounts("222222222222", "111111111111")
        assert ic.sensitive_accounts() == SensitiveAccounts("222222222222", "111111111111")
    org.assert_no_pending_responses()


def test_no_organization_means_no_management_account(aws_env: None) -> None:
    ic, org, sts = stubbed_facts(aws_env)
    org.add_client_error("describe_organization", "AWSOrganizationsNotInUseException", "none")
    sts.add_response("get_caller_identity", caller("111111111111"))
    with org, sts:
        assert ic.sensitive_accounts() == SensitiveAccounts(None, "111111111111")


def test_a_refusal_leaves_the_answer_unknown_and_logged(
    aws_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    ic, org, sts = stubbed_facts(aws_env)
    org.add_client_error("describe_organization", "AccessDeniedException", "no organizations:*")
    sts.add_response("get_caller_identity", caller("111111111111"))
    with org, sts, caplog.at_level("WARNING", logger="jitbot.aws"):
        found = ic.sensitive_accounts()
    assert found.management_account_id is None and found.own_account_id == "111111111111"
    assert found.unknown == (
        "organizations DescribeOrganization: AccessDeniedException: no organizations:*"
    )
    assert "refused on every account without allow_custom_on_sensitive" in caplog.text
