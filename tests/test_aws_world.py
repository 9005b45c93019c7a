"""The simulated AWS the demo and the process tests start (:mod:`sim.aws_world`)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from sim.aws_world import assignments, seed_demo_world, start_moto_server


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    yield


def test_each_moto_server_starts_with_an_empty_aws(
    aws_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto keeps its state per process, not per server: without a reset, a test's
    second server sees the first one's users and account assignments (a process test
    then counted a grant twice)."""
    first, endpoint = start_moto_server()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        world = seed_demo_world()
        boto3.client("sso-admin").create_account_assignment(
            InstanceArn=world.instance_arn,
            TargetId=world.accounts["Sandbox"],
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=world.permission_sets["ReadOnlyAccess"],
            PrincipalType="USER",
            PrincipalId=world.users["alice@example.com"],
        )
        assert assignments(world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
    finally:
        first.stop()

    second, endpoint = start_moto_server()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        again = seed_demo_world()
        assert assignments(again) == []
        assert again.users["alice@example.com"] != world.users["alice@example.com"]
    finally:
        second.stop()
    assert os.environ["AWS_ENDPOINT_URL"] == endpoint
