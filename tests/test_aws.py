"""Tests of the Identity Center adapter (workflows.aws) and the demo world (sim.aws_world).

Happy paths run on moto (in-process ``mock_aws``, and once through moto's server via
``AWS_ENDPOINT_URL``); moto answers every assignment request SUCCEEDED at once, so the
polling, failure and retry paths use botocore's ``Stubber``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sim.aws_world import DemoWorld, assignments, seed_demo_world, start_moto_server
from workflows.aws import (
    Assignment,
    AssignmentFailed,
    AssignmentTimeout,
    AwsError,
    IdentityCenter,
)

REGION = "us-east-1"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and region; nothing that could reach a real account."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


@pytest.fixture
def moto_world(aws_env: None):
    with mock_aws():
        yield seed_demo_world(region=REGION)


def _ic(**kwargs) -> IdentityCenter:
    kwargs.setdefault("sleep", lambda s: None)
    return IdentityCenter(region=REGION, **kwargs)


def _count_calls(ic: IdentityCenter, service: str, operation: str) -> list[str]:
    calls: list[str] = []
    ic._client(service).meta.events.register(
        f"before-call.{service}.{operation}", lambda **kw: calls.append(operation)
    )
    return calls


# --------------------------------------------------------------------------- moto


def test_seed_demo_world_shape(moto_world: DemoWorld) -> None:
    w = moto_world
    assert w.instance_arn.startswith("arn:aws:sso:::instance/")
    assert w.identity_store_id.startswith("d-")
    assert set(w.accounts) == {"Sandbox", "Production"}
    assert all(len(i) == 12 and i.isdigit() for i in w.accounts.values())
    assert len(set(w.accounts.values())) == 2
    assert set(w.users) == {
        "alice@example.com",
        "oscar@example.com",
        "olga@example.com",
        "sam@example.com",
        "ada@example.com",
        "bob@example.com",
    }
    assert set(w.permission_sets) == {"ReadOnlyAccess", "AdministratorAccess"}
    assert assignments(w) == []

    ids = boto3.client("identitystore", region_name=REGION)
    alice = ids.describe_user(
        IdentityStoreId=w.identity_store_id, UserId=w.users["alice@example.com"]
    )
    assert alice["UserName"] == "alice@example.com"
    assert alice["DisplayName"] == "Alice Archer"
    assert alice["Name"]["GivenName"] == "Alice"
    assert alice["Emails"] == [{"Value": "alice@example.com", "Type": "work", "Primary": True}]

    sso = boto3.client("sso-admin", region_name=REGION)
    ps = sso.describe_permission_set(
        InstanceArn=w.instance_arn, PermissionSetArn=w.permission_sets["ReadOnlyAccess"]
    )
    assert ps["PermissionSet"]["SessionDuration"] == "PT1H"
    policies = sso.list_managed_policies_in_permission_set(
        InstanceArn=w.instance_arn, PermissionSetArn=w.permission_sets["AdministratorAccess"]
    )["AttachedManagedPolicies"]
    assert [p["Arn"] for p in policies] == ["arn:aws:iam::aws:policy/AdministratorAccess"]

    # Seeding again reuses everything.
    assert seed_demo_world(region=REGION) == w


def test_discovers_instance(moto_world: DemoWorld) -> None:
    ic = _ic()
    assert ic.instance_arn == moto_world.instance_arn
    assert ic.identity_store_id == moto_world.identity_store_id
    assert ic.check() == []


def test_find_user_id_by_email_username_and_cached(moto_world: DemoWorld) -> None:
    ids = boto3.client("identitystore", region_name=REGION)
    # A user whose email differs from the userName, to exercise the fallback.
    carol = ids.create_user(
        IdentityStoreId=moto_world.identity_store_id,
        UserName="carol",
        DisplayName="Carol C",
        Name={"GivenName": "Carol", "FamilyName": "C"},
        Emails=[{"Value": "carol.c@example.com", "Primary": True}],
    )["UserId"]
    now = [1000.0]
    ic = _ic(clock=lambda: now[0], user_cache_ttl=300)
    calls = _count_calls(ic, "identitystore", "GetUserId")

    assert ic.find_user_id("alice@example.com") == moto_world.users["alice@example.com"]
    assert len(calls) == 1  # found by emails.value at once
    assert ic.find_user_id("carol") == carol  # emails.value misses, userName hits
    assert len(calls) == 3
    assert ic.find_user_id("carol.c@example.com") == carol
    assert ic.find_user_id("nobody@example.com") is None
    assert len(calls) == 6

    # Cached (case-insensitively), misses too.
    assert ic.find_user_id("ALICE@example.com ") == moto_world.users["alice@example.com"]
    assert ic.find_user_id("nobody@example.com") is None
    assert len(calls) == 6

    now[0] += 31  # the miss expires after 30 s, the hit does not
    assert ic.find_user_id("nobody@example.com") is None
    assert ic.find_user_id("alice@example.com") == moto_world.users["alice@example.com"]
    assert len(calls) == 8
    now[0] += 300
    assert ic.find_user_id("alice@example.com") == moto_world.users["alice@example.com"]
    assert len(calls) == 9


def test_one_lookup_per_email_while_it_is_under_way(moto_world: DemoWorld) -> None:
    ic = _ic()
    calls = _count_calls(ic, "identitystore", "GetUserId")
    in_aws, let_go = threading.Event(), threading.Event()

    def hold_first_call(**_: object) -> None:
        if not in_aws.is_set():
            in_aws.set()
            let_go.wait(10)

    ic._client("identitystore").meta.events.register(
        "before-send.identitystore.GetUserId", hold_first_call
    )
    answers: list[str | None] = []
    first = threading.Thread(target=lambda: answers.append(ic.find_user_id("alice@example.com")))
    first.start()
    assert in_aws.wait(10)
    # a second /jit of the same person while the first lookup waits on AWS
    second = threading.Thread(target=lambda: answers.append(ic.find_user_id("Alice@example.com")))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waiting for the first lookup, not calling AWS
    let_go.set()
    first.join(10)
    second.join(10)
    assert answers == [moto_world.users["alice@example.com"]] * 2
    assert len(calls) == 1
    assert ic._user_lookups == {}


def test_catalog(moto_world: DemoWorld) -> None:
    ic = _ic()
    assert ic.permission_set_arns() == moto_world.permission_sets
    names = ic.account_names()
    assert names[moto_world.accounts["Sandbox"]] == "Sandbox"
    assert names[moto_world.accounts["Production"]] == "Production"

    calls = _count_calls(ic, "sso-admin", "ListPermissionSets")
    ic.permission_set_arns()
    assert calls == []
    ic.refresh_catalog()
    ic.permission_set_arns()
    assert calls == ["ListPermissionSets"]


def test_account_names_without_organizations(
    aws_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    ic = IdentityCenter(
        region=REGION,
        instance_arn="x",
        identity_store_id="d-1234567890",
        clients={"organizations": _raw_client("organizations")},
    )
    with Stubber(ic._client("organizations")) as stub:
        stub.add_client_error(
            "list_accounts",
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        )
        with caplog.at_level(logging.WARNING, logger="jitbot.aws"):
            assert ic.account_names() == {}
    assert "not in use" in caplog.text


def test_assign_and_unassign(moto_world: DemoWorld, caplog: pytest.LogCaptureFixture) -> None:
    ic = _ic()
    a = Assignment(
        moto_world.accounts["Sandbox"],
        moto_world.permission_sets["ReadOnlyAccess"],
        moto_world.users["alice@example.com"],
    )
    assert not ic.has_assignment(a)
    with caplog.at_level(logging.INFO, logger="jitbot.aws"):
        ic.assign(a)
    assert ic.has_assignment(a)
    assert "SUCCEEDED" in caplog.text
    assert assignments(moto_world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]

    ic.unassign(a)
    assert not ic.has_assignment(a)
    assert assignments(moto_world) == []
    ic.unassign(a)  # already gone: moto says ResourceNotFoundException, that is done


def test_server_via_aws_endpoint_url(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    server, endpoint = start_moto_server()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        world = seed_demo_world(region=REGION)
        ic = IdentityCenter(region=REGION, sleep=lambda s: None)
        assert ic._client("sso-admin").meta.endpoint_url == endpoint
        assert ic.instance_arn == world.instance_arn
        assert ic.find_user_id("bob@example.com") == world.users["bob@example.com"]
        a = Assignment(
            world.accounts["Production"],
            world.permission_sets["AdministratorAccess"],
            world.users["bob@example.com"],
        )
        ic.assign(a)
        assert assignments(world) == [("Production", "AdministratorAccess", "bob@example.com")]
        ic.unassign(a)
        assert assignments(world) == []
        assert ic.check() == []
    finally:
        server.stop()


# --------------------------------------------------------------------------- Stubber

INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
PS = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef"
ACCOUNT = "111122223333"
USER = "90676a4c-e0b1-70cd-1234-0123456789ab"
REQ = "0d6e3b8a-8c4e-4a3e-9a59-3f7b5e0c1a2b"
A = Assignment(ACCOUNT, PS, USER)
TARGET = {
    "InstanceArn": INSTANCE,
    "TargetId": ACCOUNT,
    "TargetType": "AWS_ACCOUNT",
    "PermissionSetArn": PS,
    "PrincipalType": "USER",
    "PrincipalId": USER,
}


def _raw_client(service: str):
    """A client whose errors reach us at once (no botocore retries)."""
    session = boto3.session.Session(
        aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION
    )
    return session.client(service, config=botocore.config.Config(retries={"max_attempts": 1}))


def _status(state: str, **extra) -> dict:
    return {
        "Status": state,
        "RequestId": REQ,
        "TargetId": ACCOUNT,
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": PS,
        "PrincipalType": "USER",
        "PrincipalId": USER,
        **extra,
    }


class Clock:
    """Fake monotonic clock that ``sleep`` advances; records the sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def stubbed():
    client = _raw_client("sso-admin")
    clock = Clock()
    ic = IdentityCenter(
        instance_arn=INSTANCE,
        identity_store_id="d-1234567890",
        clients={"sso-admin": client},
        sleep=clock.sleep,
        clock=clock,
        poll_interval=2.0,
        poll_timeout=10.0,
    )
    with Stubber(client) as stub:
        yield ic, stub, clock
        stub.assert_no_pending_responses()


def _creation(stub: Stubber, state: str, **extra) -> None:
    stub.add_response(
        "describe_account_assignment_creation_status",
        {"AccountAssignmentCreationStatus": _status(state, **extra)},
        {"InstanceArn": INSTANCE, "AccountAssignmentCreationRequestId": REQ},
    )


def _create_ok(stub: Stubber, state: str = "IN_PROGRESS") -> None:
    stub.add_response(
        "create_account_assignment", {"AccountAssignmentCreationStatus": _status(state)}, TARGET
    )


def test_assign_polls_until_succeeded(stubbed) -> None:
    ic, stub, clock = stubbed
    _create_ok(stub)
    _creation(stub, "IN_PROGRESS")
    _creation(stub, "IN_PROGRESS")
    _creation(stub, "SUCCEEDED")
    ic.assign(A)
    assert clock.sleeps == [2.0, 2.0, 2.0]


def test_assign_failed_carries_reason(stubbed) -> None:
    ic, stub, _ = stubbed
    _create_ok(stub)
    _creation(stub, "FAILED", FailureReason="Role quota exceeded in account 111122223333")
    with pytest.raises(AssignmentFailed) as err:
        ic.assign(A)
    assert err.value.reason == "Role quota exceeded in account 111122223333"
    assert err.value.request_id == REQ
    assert "Role quota exceeded" in str(err.value)


def test_assign_times_out(stubbed) -> None:
    ic, stub, clock = stubbed
    _create_ok(stub)
    for _ in range(5):  # at t = 2, 4, 6, 8, 10
        _creation(stub, "IN_PROGRESS")
    with pytest.raises(AssignmentTimeout) as err:
        ic.assign(A)
    assert clock.now == 10.0
    assert err.value.request_id == REQ
    assert isinstance(err.value, AwsError)


def test_assign_retries_throttling(stubbed) -> None:
    ic, stub, clock = stubbed
    stub.add_client_error(
        "create_account_assignment", "ThrottlingException", "Rate exceeded", expected_params=TARGET
    )
    _create_ok(stub, "SUCCEEDED")
    ic.assign(A)
    assert len(clock.sleeps) == 1 and 0.5 <= clock.sleeps[0] <= 1.0  # backoff, not polling


def test_assign_retries_conflict_in_progress(stubbed) -> None:
    ic, stub, clock = stubbed
    message = "Another operation on this permission set and account is in progress"
    stub.add_client_error(
        "create_account_assignment", "ConflictException", message, expected_params=TARGET
    )
    stub.add_client_error(
        "create_account_assignment", "ConflictException", message, expected_params=TARGET
    )
    _create_ok(stub)
    _creation(stub, "SUCCEEDED")
    ic.assign(A)
    assert 0.5 <= clock.sleeps[0] <= 1.0 and 1.0 <= clock.sleeps[1] <= 2.0  # exponential
    assert clock.sleeps[2] == 2.0  # then one poll


def test_assign_gives_up_after_write_attempts(stubbed) -> None:
    ic, stub, clock = stubbed
    for _ in range(5):
        stub.add_client_error("create_account_assignment", "ThrottlingException", "Slow down")
    with pytest.raises(AwsError, match="ThrottlingException"):
        ic.assign(A)
    assert len(clock.sleeps) == 4


def test_assign_already_exists_is_success_once_confirmed(stubbed) -> None:
    ic, stub, _ = stubbed
    stub.add_client_error(
        "create_account_assignment", "ConflictException", "The account assignment already exists"
    )
    stub.add_response(
        "list_account_assignments",
        {
            "AccountAssignments": [
                {
                    "AccountId": ACCOUNT,
                    "PermissionSetArn": PS,
                    "PrincipalType": "USER",
                    "PrincipalId": USER,
                }
            ]
        },
        {"InstanceArn": INSTANCE, "AccountId": ACCOUNT, "PermissionSetArn": PS},
    )
    ic.assign(A)


def test_assign_access_denied_is_not_retried(stubbed) -> None:
    ic, stub, clock = stubbed
    stub.add_client_error(
        "create_account_assignment",
        "AccessDeniedException",
        "User is not authorized to perform sso:CreateAccountAssignment",
    )
    with pytest.raises(AwsError) as err:
        ic.assign(A)
    assert err.value.code == "AccessDeniedException"
    assert "not authorized" in str(err.value)
    assert clock.sleeps == []


def test_unassign_resource_not_found_is_done(stubbed) -> None:
    ic, stub, _ = stubbed
    stub.add_client_error(
        "delete_account_assignment",
        "ResourceNotFoundException",
        "Assignment not found",
        expected_params=TARGET,
    )
    ic.unassign(A)


def test_unassign_polls_and_failed_but_gone_is_done(stubbed) -> None:
    ic, stub, clock = stubbed
    stub.add_response(
        "delete_account_assignment",
        {"AccountAssignmentDeletionStatus": _status("IN_PROGRESS")},
        TARGET,
    )
    stub.add_response(
        "describe_account_assignment_deletion_status",
        {"AccountAssignmentDeletionStatus": _status("FAILED", FailureReason="not assigned")},
        {"InstanceArn": INSTANCE, "AccountAssignmentDeletionRequestId": REQ},
    )
    stub.add_response("list_account_assignments", {"AccountAssignments": []})
    ic.unassign(A)
    assert clock.sleeps == [2.0]


def test_check_reports_access_denied(aws_env: None) -> None:
    client = _raw_client("sso-admin")
    ic = IdentityCenter(clients={"sso-admin": client})
    with Stubber(client) as stub:
        stub.add_client_error(
            "list_instances",
            "AccessDeniedException",
            "User is not authorized to perform sso:ListInstances",
        )
        problems = ic.check()
    assert problems == [
        "sso-admin ListInstances: AccessDeniedException: "
        "User is not authorized to perform sso:ListInstances"
    ]


def test_assign_already_exists_unconfirmed_is_retried(stubbed) -> None:
    ic, stub, clock = stubbed
    stub.add_client_error(
        "create_account_assignment", "ConflictException", "The account assignment already exists"
    )
    stub.add_response("list_account_assignments", {"AccountAssignments": []})
    _create_ok(stub, "SUCCEEDED")
    ic.assign(A)
    assert len(clock.sleeps) == 1


def _instance(name: str, status: str, owner: str = "111111111111") -> dict[str, Any]:
    return {
        "InstanceArn": f"arn:aws:sso:::instance/ssoins-{name}",
        "IdentityStoreId": f"d-{name}",
        "OwnerAccountId": owner,
        "Status": status,
    }


@pytest.mark.parametrize(
    ("instances", "found"),
    [
        ([_instance("0000000001", "DELETE_IN_PROGRESS"), _instance("0000000002", "ACTIVE")], "2"),
        ([_instance("0000000003", "CREATE_IN_PROGRESS")], "no ACTIVE Identity Center instance"),
        (
            [_instance("0000000004", "ACTIVE"), _instance("0000000005", "ACTIVE", "222222222222")],
            "2 ACTIVE Identity Center instances",
        ),
    ],
)
def test_discovery_takes_the_one_active_instance_and_never_guesses(
    aws_env: None, instances: list[dict[str, Any]], found: str
) -> None:
    ic = IdentityCenter(region=REGION, clients={"sso-admin": _raw_client("sso-admin")})
    with Stubber(ic._client("sso-admin")) as stub:
        stub.add_response("list_instances", {"Instances": instances})
        if len(found) == 1:
            assert ic.instance_arn == f"arn:aws:sso:::instance/ssoins-000000000{found}"
        else:
            with pytest.raises(AwsError, match=found) as raised:
                ic.instance_arn  # noqa: B018 - the property discovers
            if "2 ACTIVE" in found:
                assert "set identity_center.instance_arn" in str(raised.value)
                assert "owner 222222222222" in str(raised.value)
