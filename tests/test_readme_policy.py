"""README's least-privilege IAM policy grants every AWS call the adapter makes: each
operation the product calls while it works (a grant, a revoke, a custom set made and
deleted, the reconciler's listings, check-config's checks) is recorded from botocore's
own events and looked up in the policy README shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sim.aws_world import DemoWorld, add_group
from tests.conftest import REGION
from workflows.assignments import Assignment
from workflows.aws import IdentityCenter
from workflows.custom_sets.boundary import PermissionsBoundary

README = Path(__file__).resolve().parent.parent / "README.md"
#: botocore service name -> IAM action prefix
PREFIX = {"sso-admin": "sso", "identitystore": "identitystore", "organizations": "organizations"}
#: calls no IAM permission governs (sts:GetCallerIdentity always answers)
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}


def readme_actions() -> set[str]:
    """The ``Action`` entries of the first JSON policy block of README."""
    text = README.read_text()
    block = next(b for b in re.findall(r"```json\n(.*?)```", text, re.S) if '"Statement"' in b)
    actions: set[str] = set()
    for statement in json.loads(block)["Statement"]:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def recorded_calls(ic: IdentityCenter) -> set[str]:
    calls: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        calls.add(f"{PREFIX.get(service, service)}:{model.name}")

    for service in ("sso-admin", "identitystore", "organizations", "sts"):
        ic._client(service).meta.events.register("before-call", record)
    return calls


def test_every_call_the_adapter_makes_is_in_readmes_policy(moto_world: DemoWorld) -> None:
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    calls = recorded_calls(ic)
    w = moto_world
    sandbox, alice = w.accounts["Sandbox"], w.users["alice@example.com"]

    # start-up and check-config
    assert ic.check() == []
    assert ic.primary_region() == (REGION, None)
    ic.permission_set_arns()
    ic.account_names()
    ic.permission_set_policies(["ReadOnlyAccess"])
    ic.sensitive_accounts()
    # a standard grant and its end
    standard = Assignment(sandbox, w.permission_sets["ReadOnlyAccess"], alice)
    assert ic.find_user_id("alice@example.com") == alice
    ic.assign(standard)
    ic.unassign(standard)
    # a custom set, granted, then deleted with its assignment
    arn = ic.create_custom_permission_set(
        name="JIT-7-alice",
        session_duration="PT1H",
        description="for the policy test",
        request_id=7,
        managed_policies=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        inline_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}],
            }
        ),
        permissions_boundary=PermissionsBoundary(aws_managed="PowerUserAccess"),
    )
    custom = Assignment(sandbox, arn, alice)
    ic.assign(custom)
    ic.unassign(custom)
    ic.delete_custom_permission_set(arn, request_id=7, account_ids=[sandbox])
    # revoke_live_sessions: a deny in a standard set's inline policy, provisioned
    read_only = w.permission_sets["ReadOnlyAccess"]
    ic.assign(standard)
    ic.is_provisioned(read_only, sandbox)
    ic.session_duration(read_only)
    ic.put_inline_policy(read_only, ic.inline_policy(read_only) or None)
    ic.provision_to_account(read_only, sandbox)
    ic.unassign(standard)
    # the reconciler
    ic.jit_permission_sets()
    ic.account_assignments(sandbox, w.permission_sets["ReadOnlyAccess"])
    ic.find_group_id("BreakGlass")
    ic.principal_name("USER", alice)
    ic.provisioned_accounts(read_only)
    # access rules: groups and OUs
    add_group(w, "ProdLeads", ["alice@example.com"])
    assert ic.in_group(alice, "ProdLeads")
    assert ic.group_member_emails("ProdLeads") == ("alice@example.com",)
    ic.account_ous(sandbox)
    assert not ic.ou_exists("ou-zz99-nothere1")  # check-config

    assert {"sso:CreateAccountAssignment", "sso:PutPermissionsBoundaryToPermissionSet"} <= calls
    missing = sorted(calls - readme_actions() - NEEDS_NO_PERMISSION)
    assert missing == [], f"README's IAM policy lacks {missing}"
