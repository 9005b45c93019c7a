"""Every ARN jitbot builds is in the partition of the Identity Center instance's ARN
(``aws``, ``aws-us-gov``, ``aws-cn``): the managed policies and the permissions boundary
of a ``JIT-`` set, on moto in a GovCloud and a China Region (moto's instance ARNs and
AWS managed policies carry their Region's partition, as AWS's do)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bot.checks import _region_problems
from workflows.arns import partition_of
from workflows.aws import IdentityCenter
from workflows.config.accounts import IdentityCenterConfig
from workflows.custom_sets.boundary import PermissionsBoundary
from workflows.custom_sets.inline_warnings import _inline_warnings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=[("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")])
def far_region(request: pytest.FixtureRequest, aws_env: None) -> Iterator[tuple[str, str]]:
    with mock_aws():
        yield request.param


def test_a_jit_set_in_govcloud_gets_govcloud_policy_arns(far_region: tuple[str, str]) -> None:
    region, partition = far_region
    ic = IdentityCenter(region=region, sleep=lambda s: None)
    assert ic.instance_arn.startswith(f"arn:{partition}:sso:::instance/")  # ListInstances
    assert ic.partition == partition
    arn = ic.create_custom_permission_set(
        name="jit-7-read",
        session_duration="PT1H",
        description="request 7",
        request_id=7,
        managed_policies=["ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
        inline_policy=None,
        permissions_boundary=PermissionsBoundary(aws_managed="PowerUserAccess"),
    )
    sso = boto3.client("sso-admin", region_name=region)
    ids = {"InstanceArn": ic.instance_arn, "PermissionSetArn": arn}
    attached = sso.list_managed_policies_in_permission_set(**ids)["AttachedManagedPolicies"]
    assert sorted(p["Arn"] for p in attached) == [
        f"arn:{partition}:iam::aws:policy/AmazonS3ReadOnlyAccess",
        f"arn:{partition}:iam::aws:policy/ReadOnlyAccess",
    ]
    boundary = sso.get_permissions_boundary_for_permission_set(**ids)["PermissionsBoundary"]
    assert boundary == {"ManagedPolicyArn": f"arn:{partition}:iam::aws:policy/PowerUserAccess"}


def test_a_configured_govcloud_instance_gives_its_partition() -> None:
    arn = "arn:aws-us-gov:sso:::instance/ssoins-0123456789abcdef"
    ic = IdentityCenter(region="us-gov-west-1", instance_arn=arn, identity_store_id="d-0123456789")
    assert ic.partition == "aws-us-gov"


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_config_takes_an_instance_arn_of_every_partition(partition: str) -> None:
    arn = f"arn:{partition}:sso:::instance/ssoins-0123456789abcdef"
    config = IdentityCenterConfig(instance_arn=arn, identity_store_id="d-0123456789")
    assert config.instance_arn == arn
    assert partition_of(arn) == partition


def test_config_refuses_an_unknown_partition() -> None:
    with pytest.raises(ValueError, match="instance_arn"):
        IdentityCenterConfig(
            instance_arn="arn:aws-mars:sso:::instance/ssoins-0123456789abcdef",
            identity_store_id="d-0123456789",
        )
    with pytest.raises(ValueError, match="not an ARN"):
        partition_of("arn:aws-mars:sso:::instance/ssoins-0123456789abcdef")


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_inline_warnings_see_every_resource_in_every_partition(partition: str) -> None:
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        f'"Action": "sso:*", "Resource": "arn:{partition}:sso:::*"}}]}}'
    )
    texts = [w.text for w in _inline_warnings(policy)]
    assert 'Statement[0] allows every sso action ("sso:*") on every resource.' in texts


# ----------------------------------------------------------- no literal partition

_LITERAL = re.compile(r"arn:aws:")
#: Examples in what a person reads, not ARNs jitbot builds (file, the string's start).
_EXAMPLES = {
    ("workflows/config/accounts.py", "arn:aws:sso:::instance/ssoins-0123456789abcdef"),
}


def _code_strings(path: Path) -> Iterator[tuple[int, str]]:
    """String constants of ``path`` that are not docstrings (comments are not in the
    tree at all)."""
    tree = ast.parse(path.read_text())
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            docstrings.add(id(first.value))
    for node in ast.walk(tree):
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and id(node) not in docstrings:
            yield node.lineno, text


def test_no_product_code_writes_the_aws_partition_literally() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for package in ("bot", "workflows", "storage")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, text in _code_strings(path)
        if _LITERAL.search(text)
        and not any(str(path.relative_to(ROOT)) == f and text.startswith(t) for f, t in _EXAMPLES)
    ]
    assert found == []


# ------------------------------------------------- the primary Region (check-config)

INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"


def _stubbed(region: str, answer: dict | None = None, error: str | None = None) -> Any:
    ic = IdentityCenter(region=region, instance_arn=INSTANCE, identity_store_id="d-0123456789")
    stub = Stubber(ic._client("sso-admin"))
    if error:
        stub.add_client_error(
            "list_regions", error, "no", expected_params={"InstanceArn": INSTANCE}
        )
    else:
        stub.add_response("list_regions", answer, {"InstanceArn": INSTANCE})
    stub.activate()
    return ic


REGIONS = {
    "Regions": [
        {"RegionName": "eu-west-1", "Status": "ACTIVE", "IsPrimaryRegion": True},
        {"RegionName": "eu-central-1", "Status": "ACTIVE", "IsPrimaryRegion": False},
    ]
}


def test_an_additional_region_is_refused_and_the_primary_named(aws_env: None) -> None:
    ic = _stubbed("eu-central-1", REGIONS)
    notes: list[str] = []
    [problem] = _region_problems(ic, notes.append)
    assert problem.startswith("AWS: identity_center.region: eu-central-1 is an additional Region")
    assert problem.endswith("use its primary Region, eu-west-1")
    assert notes == []


def test_the_primary_region_passes(aws_env: None) -> None:
    assert _region_problems(_stubbed("eu-west-1", REGIONS), lambda _: None) == []


def test_a_region_check_refused_by_aws_is_a_warning_not_a_problem(aws_env: None) -> None:
    notes: list[str] = []
    ic = _stubbed("eu-central-1", error="AccessDeniedException")
    assert _region_problems(ic, notes.append) == []
    [note] = notes
    assert note.startswith("AWS: warning: could not check that eu-central-1 is the primary Region")
    assert "ListRegions" in note and "AccessDeniedException" in note
