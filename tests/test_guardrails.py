"""Hard limits on custom permission sets: an inline policy that allows an action of
``custom_permission_sets.deny_actions`` (by default: Identity Center, the identity store
and the organization except reads, account settings, and IAM's writes to users, roles,
policies and identity providers) is refused on the form, naming statement and action."""

from __future__ import annotations

import json

import pytest

from workflows.config import parse_config
from workflows.custom_sets import FIELD_INLINE, validate_custom_spec
from workflows.custom_sets.actions import wildcard_regex
from workflows.custom_sets.guardrails import denied_actions
from workflows.errors import InvalidRequest


def policy(*actions: str, not_action: bool = False) -> str:
    key = "NotAction" if not_action else "Action"
    statements = [{"Effect": "Allow", key: list(actions), "Resource": "*"}]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def refusal(text: str, deny: list[str] | None = None) -> str:
    kwargs = {} if deny is None else {"deny_actions": deny}
    with pytest.raises(InvalidRequest) as caught:
        validate_custom_spec("x", "1", [], text, allowed_managed=[], **kwargs)
    return caught.value.errors[FIELD_INLINE]


@pytest.mark.parametrize(
    ("action", "named", "rule"),
    [
        ("sso:CreateAccountAssignment", "sso:CreateAccountAssignment", "sso:*"),
        ("sso:PutInlinePolicyToPermissionSet", "sso:PutInlinePolicyToPermissionSet", "sso:*"),
        (
            "identitystore:CreateGroupMembership",
            "identitystore:CreateGroupMembership",
            "identitystore:*",
        ),
        ("organizations:Leave*", "organizations:LeaveOrganization", "organizations:*"),
        ("iam:CreateRole", "iam:CreateRole", "iam:Create*"),
        ("iam:Attach*", "iam:AttachGroupPolicy", "iam:Attach*"),
        ("*", "*", "sso:*"),
        ("sso:SomethingNewer", "sso:SomethingNewer", "sso:*"),
    ],
)
def test_a_denied_action_is_refused_naming_statement_and_action(action, named, rule) -> None:
    message = refusal(policy("s3:GetObject", action))
    assert message.startswith(f"Statement[0] allows {named}, ")
    assert f"deny_actions: {rule}" in message


@pytest.mark.parametrize(
    "action",
    [
        "identitystore:DescribeUser",
        "identitystore:List*",
        "organizations:Describe*",
        "s3:*",
        "iam:Get*",
    ],
)
def test_reads_and_other_services_pass(action: str) -> None:
    assert denied_actions(policy(action), list(_defaults())) == []


def test_not_action_is_refused_while_anything_is_denied() -> None:
    assert "uses NotAction" in refusal(policy("s3:*", not_action=True))


def test_an_admin_can_set_the_list_and_empty_it() -> None:
    assert "ec2:RunInstances" in refusal(policy("ec2:Run*"), ["ec2:RunInstances"])
    validate_custom_spec("x", "1", [], policy("sso:*"), allowed_managed=[], deny_actions=[])


def test_the_config_default_and_a_bad_entry() -> None:
    base = (
        'accounts: [{id: "111111111111", name: S, owners: [o@example.com], permission_sets: [R]}]\n'
    )
    config = parse_config(base)
    assert "sso:*" in config.custom_permission_sets.deny_actions
    with pytest.raises(Exception, match="IAM action pattern"):
        parse_config(base + "custom_permission_sets: {deny_actions: ['sso CreateAccount']}")


def _defaults() -> tuple[str, ...]:
    from workflows.custom_sets.guardrails import DEFAULT_DENY_ACTIONS

    return DEFAULT_DENY_ACTIONS


@pytest.mark.parametrize(
    ("resource", "broad"),
    [
        ("*", True),
        ("arn:aws:ec2:*:*:instance/*", True),
        ("arn:aws:sso:::*", True),
        ("arn:aws:iam::*:role/*", True),
        ("arn:aws:s3:::*", True),
        ("arn:aws:s3:::my-bucket/*", False),
        ("arn:aws:ec2:eu-west-1:111111111111:instance/*", False),
        ("arn:aws:ec2:*:*:instance/i-0123", False),
    ],
)
def test_resource_wildcards_in_arns_count_as_every_resource(resource: str, broad: bool) -> None:
    from datetime import timedelta

    from workflows.custom_sets import CustomSpec, approver_warnings

    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": resource}],
        }
    )
    warnings = approver_warnings(CustomSpec("JIT-x", timedelta(hours=1), (), text))
    assert any("on every resource" in w.text for w in warnings) is broad, warnings


@pytest.mark.parametrize(
    ("pattern", "regex"),
    [
        ("ec2:*?*?*?*?*q", "ec2:.{4,}q"),
        ("ec2:Describe*", "ec2:Describe.{0,}"),
        ("ec2:Get??", "ec2:Get.{2}"),
        ("s3:*a*b*", "s3:.{0,}a.{0,}b.{0,}"),
    ],
)
def test_a_run_of_wildcards_is_one_quantifier(pattern: str, regex: str) -> None:
    """``.*.*`` side by side backtrack exponentially on a miss: a 14-character action
    held the bot for seconds before its ack."""
    assert wildcard_regex(pattern).pattern == regex


def test_runs_of_wildcards_match_as_iam_says() -> None:
    assert wildcard_regex("ec2:Get?*").fullmatch("ec2:GetX")
    assert not wildcard_regex("ec2:Get?*").fullmatch("ec2:Get")
    assert not wildcard_regex("ec2:Get??").fullmatch("ec2:GetXYZ")
    assert wildcard_regex("EC2:describe*").fullmatch("ec2:DescribeInstances")
    assert not wildcard_regex("ec2:a.b").fullmatch("ec2:aXb")


def test_a_policy_of_alternating_wildcards_is_answered() -> None:
    hostile = "ec2:" + "*?" * 12 + "*q"
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": [hostile], "Resource": "*"}],
        }
    )
    assert denied_actions(policy, ["ec2:*Instance*"]) == []
