"""moto's sso-admin, patched by sim.moto_fixes, answers like AWS IAM Identity Center."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sim import moto_fixes

ACCOUNT = "111122223333"


@pytest.fixture
def sso(aws_env: None) -> Iterator[tuple[Any, str]]:
    moto_fixes.install()
    moto_fixes.install()  # idempotent
    with mock_aws():
        client = boto3.client("sso-admin", region_name="us-east-1")
        yield client, client.list_instances()["Instances"][0]["InstanceArn"]


def _create(client: Any, instance: str, name: str, **kw: Any) -> str:
    made = client.create_permission_set(InstanceArn=instance, Name=name, **kw)
    return made["PermissionSet"]["PermissionSetArn"]


def _assign(client: Any, instance: str, arn: str) -> None:
    client.create_account_assignment(
        InstanceArn=instance,
        TargetId=ACCOUNT,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=arn,
        PrincipalType="USER",
        PrincipalId="u-1",
    )


def test_tags_given_at_creation_and_later_are_listed(sso: tuple[Any, str]) -> None:
    client, instance = sso
    arn = _create(client, instance, "Jit1", Tags=[{"Key": "jitbot:managed", "Value": "true"}])
    client.tag_resource(
        InstanceArn=instance, ResourceArn=arn, Tags=[{"Key": "jitbot:request-id", "Value": "7"}]
    )
    listed = client.list_tags_for_resource(InstanceArn=instance, ResourceArn=arn)
    assert {t["Key"]: t["Value"] for t in listed["Tags"]} == {
        "jitbot:managed": "true",
        "jitbot:request-id": "7",
    }
    client.untag_resource(InstanceArn=instance, ResourceArn=arn, TagKeys=["jitbot:managed"])
    listed = client.list_tags_for_resource(InstanceArn=instance, ResourceArn=arn)
    assert listed["Tags"] == [{"Key": "jitbot:request-id", "Value": "7"}]


def test_duplicate_name_is_a_conflict_case_insensitively(sso: tuple[Any, str]) -> None:
    client, instance = sso
    _create(client, instance, "ReadOnly")
    with pytest.raises(ClientError) as caught:
        _create(client, instance, "readonly")
    assert caught.value.response["Error"]["Code"] == "ConflictException"


def test_assignment_provisions_the_set_to_the_account(sso: tuple[Any, str]) -> None:
    client, instance = sso
    arn = _create(client, instance, "Jit2")
    _assign(client, instance, arn)
    listed = client.list_accounts_for_provisioned_permission_set(
        InstanceArn=instance, PermissionSetArn=arn
    )
    assert listed["AccountIds"] == [ACCOUNT]
    sets = client.list_permission_sets_provisioned_to_account(
        InstanceArn=instance, AccountId=ACCOUNT
    )
    assert sets["PermissionSets"] == [arn]


def test_a_set_with_assignments_cannot_be_deleted(sso: tuple[Any, str]) -> None:
    client, instance = sso
    arn = _create(client, instance, "Jit3")
    _assign(client, instance, arn)
    with pytest.raises(ClientError) as caught:
        client.delete_permission_set(InstanceArn=instance, PermissionSetArn=arn)
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    client.delete_account_assignment(
        InstanceArn=instance,
        TargetId=ACCOUNT,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=arn,
        PrincipalType="USER",
        PrincipalId="u-1",
    )
    client.delete_permission_set(InstanceArn=instance, PermissionSetArn=arn)
    assert client.list_permission_sets(InstanceArn=instance)["PermissionSets"] == []


def test_tags_are_listed_through_motos_server(aws_env: None) -> None:
    from sim.aws_world import start_moto_server

    server, url = start_moto_server()
    try:
        client = boto3.client("sso-admin", region_name="us-east-1", endpoint_url=url)
        instance = client.list_instances()["Instances"][0]["InstanceArn"]
        arn = _create(client, instance, "Srv", Tags=[{"Key": "k", "Value": "v"}])
        listed = client.list_tags_for_resource(InstanceArn=instance, ResourceArn=arn)
        assert listed["Tags"] == [{"Key": "k", "Value": "v"}]
    finally:
        server.stop()


def test_a_set_made_without_duration_has_one_hour(sso: tuple[Any, str]) -> None:
    client, instance = sso
    arn = _create(client, instance, "NoDuration")
    described = client.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)
    assert described["PermissionSet"]["SessionDuration"] == "PT1H"


def test_permissions_boundary_is_put_read_and_deleted(sso: tuple[Any, str]) -> None:
    client, instance = sso
    arn = _create(client, instance, "Bounded")
    target = {"InstanceArn": instance, "PermissionSetArn": arn}
    with pytest.raises(ClientError) as caught:
        client.get_permissions_boundary_for_permission_set(**target)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    boundary = {"CustomerManagedPolicyReference": {"Name": "JitBoundary", "Path": "/"}}
    client.put_permissions_boundary_to_permission_set(**target, PermissionsBoundary=boundary)
    got = client.get_permissions_boundary_for_permission_set(**target)
    assert got["PermissionsBoundary"] == boundary
    client.delete_permissions_boundary_from_permission_set(**target)
    with pytest.raises(ClientError):
        client.get_permissions_boundary_for_permission_set(**target)
