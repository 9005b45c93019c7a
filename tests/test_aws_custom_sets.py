"""Tests of the custom permission sets of the Identity Center adapter (workflows.aws).

Happy paths run on moto (in-process ``mock_aws``, fixtures from ``conftest``), made as
strict as AWS by ``sim/moto_fixes.py``: duplicate names are refused, tags are listed,
an assignment provisions its set, and a set still assigned cannot be deleted.

Failure and retry paths raise AWS errors from a botocore event hook on a moto client, or
use ``Stubber`` with AWS's answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from sim.aws_world import DemoWorld
from workflows.aws import MANAGED_TAG, REQUEST_TAG, Assignment, AwsError, IdentityCenter

REGION = "us-east-1"
POLICY_RO = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POLICY_S3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
INLINE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)


def _ic(**kwargs: Any) -> IdentityCenter:
    kwargs.setdefault("sleep", lambda s: None)
    return IdentityCenter(region=REGION, **kwargs)


def _sso() -> Any:
    return boto3.client("sso-admin", region_name=REGION)


def _create(ic: IdentityCenter, name: str = "jit-42-s3", request_id: int = 42, **kwargs) -> str:
    kwargs.setdefault("session_duration", "PT4H")
    kwargs.setdefault("description", "jitbot request 42: read the logs bucket")
    kwargs.setdefault("managed_policies", [POLICY_RO, POLICY_S3])
    kwargs.setdefault("inline_policy", INLINE)
    return ic.create_custom_permission_set(name=name, request_id=request_id, **kwargs)


def _describe(world: DemoWorld, arn: str) -> dict:
    return _sso().describe_permission_set(InstanceArn=world.instance_arn, PermissionSetArn=arn)[
        "PermissionSet"
    ]


def _names(world: DemoWorld) -> list[str]:
    sso = _sso()
    arns = sso.list_permission_sets(InstanceArn=world.instance_arn)["PermissionSets"]
    return sorted(_describe(world, arn)["Name"] for arn in arns)


def _exists(world: DemoWorld, arn: str) -> bool:
    try:
        _describe(world, arn)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True


def _client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def _fail(
    ic: IdentityCenter,
    operation: str,
    code: str,
    message: str,
    times: int | None = None,
    when: Callable[[dict], bool] = lambda params: True,
) -> list[dict]:
    """Make ``operation`` of ic's sso-admin client raise AWS error ``code`` (the first
    ``times`` calls matching ``when``, or all); returns the params of every call."""
    calls: list[dict] = []

    def hook(params: dict, **kwargs: Any) -> None:
        calls.append(dict(params))
        failed = sum(1 for c in calls if c.get("_failed"))
        if when(params) and (times is None or failed < times):
            calls[-1]["_failed"] = True
            raise _client_error(code, message, operation)

    ic._client("sso-admin").meta.events.register(
        f"before-parameter-build.sso-admin.{operation}", hook
    )
    return calls


def _count(ic: IdentityCenter, operation: str) -> list[str]:
    calls: list[str] = []
    ic._client("sso-admin").meta.events.register(
        f"before-call.sso-admin.{operation}", lambda **kw: calls.append(operation)
    )
    return calls


def _tags_of(world: DemoWorld, arn: str) -> dict[str, str]:
    """The set's tags, as ListTagsForResource answers."""
    listed = _sso().list_tags_for_resource(InstanceArn=world.instance_arn, ResourceArn=arn)
    return {t["Key"]: t["Value"] for t in listed["Tags"]}


# --------------------------------------------------------------------------- create (moto)


def test_create_with_managed_and_inline_policies(moto_world: DemoWorld) -> None:
    ic = _ic()
    before = ic.permission_set_arns()  # cached now; the new set is added to the cache
    arn = _create(ic)
    # moto's ARN is "<instance ARN>/ps-…"; AWS's "arn:aws:sso:::permissionSet/ssoins-…/ps-…".
    assert "/ps-" in arn
    assert arn not in before.values()

    described = _describe(moto_world, arn)
    assert described["Name"] == "jit-42-s3"
    assert described["SessionDuration"] == "PT4H"
    assert described["Description"] == "jitbot request 42: read the logs bucket"
    sso = _sso()
    policies = sso.list_managed_policies_in_permission_set(
        InstanceArn=moto_world.instance_arn, PermissionSetArn=arn
    )["AttachedManagedPolicies"]
    assert [p["Arn"] for p in policies] == [POLICY_RO, POLICY_S3]
    inline = sso.get_inline_policy_for_permission_set(
        InstanceArn=moto_world.instance_arn, PermissionSetArn=arn
    )["InlinePolicy"]
    assert json.loads(inline) == json.loads(INLINE)
    tags = sso.list_tags_for_resource(InstanceArn=moto_world.instance_arn, ResourceArn=arn)["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [
        {"Key": MANAGED_TAG, "Value": "true"},
        {"Key": REQUEST_TAG, "Value": "42"},
    ]

    assert ic.permission_set_arns()["jit-42-s3"] == arn
    assert ic.session_durations()["jit-42-s3"] == "PT4H"
    assert ic.custom_permission_sets() == {arn: 42}


def test_create_without_inline_policy_and_duplicate_policies(moto_world: DemoWorld) -> None:
    ic = _ic()
    arn = _create(ic, managed_policies=[POLICY_S3, POLICY_S3], inline_policy=None)
    sso = _sso()
    policies = sso.list_managed_policies_in_permission_set(
        InstanceArn=moto_world.instance_arn, PermissionSetArn=arn
    )["AttachedManagedPolicies"]
    assert [p["Arn"] for p in policies] == [POLICY_S3]  # attached once
    inline = sso.get_inline_policy_for_permission_set(
        InstanceArn=moto_world.instance_arn, PermissionSetArn=arn
    )["InlinePolicy"]
    assert inline == ""
    assert _tags_of(moto_world, arn) == {MANAGED_TAG: "true", REQUEST_TAG: "42"}


def test_name_clash_gets_suffix(moto_world: DemoWorld) -> None:
    ic = _ic()
    first = _create(ic, name="jit-web", request_id=1)
    second = _create(ic, name="jit-web", request_id=2)
    third = _create(IdentityCenter(region=REGION), name="JIT-WEB", request_id=3)  # new process
    assert len({first, second, third}) == 3
    assert _describe(moto_world, first)["Name"] == "jit-web"
    assert _describe(moto_world, second)["Name"] == "jit-web-2"
    assert _describe(moto_world, third)["Name"] == "JIT-WEB-3"  # names clash case-insensitively
    # A standard set's name is taken too; nothing of it is reused.
    clone = _create(ic, name="ReadOnlyAccess", request_id=4)
    assert clone != moto_world.permission_sets["ReadOnlyAccess"]
    assert _describe(moto_world, clone)["Name"] == "ReadOnlyAccess-2"
    assert _tags_of(moto_world, moto_world.permission_sets["ReadOnlyAccess"]) == {}


def test_long_name_clash_is_trimmed(moto_world: DemoWorld) -> None:
    ic = _ic()
    name = "jit-1234-" + "x" * 23
    assert len(name) == 32
    _create(ic, name=name, request_id=1)
    second = _describe(moto_world, _create(ic, name=name, request_id=2))["Name"]
    assert second == name[:30] + "-2" and len(second) == 32
    for n in range(3, 11):
        _create(ic, name=name, request_id=n)
    assert _describe(moto_world, _create(ic, name=name, request_id=11))["Name"] == name[:29] + "-11"


def test_describe_calls_are_not_repeated(moto_world: DemoWorld) -> None:
    ic = _ic()
    describes = _count(ic, "DescribePermissionSet")
    ic.permission_set_arns()
    assert len(describes) == 2  # the demo's two sets
    _create(ic, name="a", request_id=1)
    _create(ic, name="b", request_id=2)
    assert len(describes) == 2  # names are known, only listed again


def test_create_rejects_bad_arguments(moto_world: DemoWorld) -> None:
    ic = _ic()
    for name in ("", "x" * 33, "has space", "naïve", "slash/no"):
        with pytest.raises(ValueError, match="permission set name"):
            _create(ic, name=name)
    for duration in ("1h", "PT", "P", "-PT1H", "3600"):
        with pytest.raises(ValueError, match="ISO 8601"):
            _create(ic, session_duration=duration)
    with pytest.raises(TypeError):
        _create(ic, managed_policies=POLICY_RO)
    assert _names(moto_world) == ["AdministratorAccess", "ReadOnlyAccess"]


def test_description_is_made_acceptable(moto_world: DemoWorld) -> None:
    ic = _ic()
    calls = _fail(ic, "CreatePermissionSet", "-", "-", when=lambda params: False)
    arn = _create(ic, name="a", description="Deploy 🚀 – “now”\tplease")
    assert _describe(moto_world, arn)["Description"] == "Deploy ? ? ?now?\tplease"
    _create(ic, name="b", description="é" + "x" * 800)
    assert calls[-1]["Description"] == "é" + "x" * 696 + "..."
    assert len(calls[-1]["Description"]) == 700
    _create(ic, name="c", description="  ")
    assert "Description" not in calls[-1]  # AWS wants at least one character


# --------------------------------------------------------------------------- delete (moto)


def test_assign_unassign_then_delete(moto_world: DemoWorld) -> None:
    ic = _ic()
    arn = _create(ic, request_id=7)
    a = Assignment(moto_world.accounts["Sandbox"], arn, moto_world.users["alice@example.com"])
    ic.assign(a)
    assert ic.has_assignment(a)

    with pytest.raises(AwsError, match="still has 1 account assignment") as err:
        ic.delete_custom_permission_set(arn, request_id=7)
    assert moto_world.accounts["Sandbox"] in str(err.value)
    assert _exists(moto_world, arn)

    ic.unassign(a)
    ic.delete_custom_permission_set(arn, request_id=7)
    assert not _exists(moto_world, arn)
    assert "jit-42-s3" not in ic.permission_set_arns()
    assert ic.custom_permission_sets() == {}
    ic.delete_custom_permission_set(arn, request_id=7)  # already gone: done


def test_delete_after_restart_uses_tags(moto_world: DemoWorld) -> None:
    arn = _create(_ic(), request_id=7)
    ic = _ic()  # a new process knows the set only by its tags
    assert ic.custom_permission_sets() == {arn: 7}
    ic.delete_custom_permission_set(arn, request_id=7)
    assert not _exists(moto_world, arn)
    ic.delete_custom_permission_set(arn, request_id=7)  # gone: ResourceNotFoundException


def test_delete_with_remaining_assignment_refuses(moto_world: DemoWorld) -> None:
    arn = _create(_ic(), request_id=7)
    a = Assignment(moto_world.accounts["Production"], arn, moto_world.users["bob@example.com"])
    _ic().assign(a)
    ic = _ic()  # a new process: AWS says where the set is provisioned
    with pytest.raises(AwsError, match="still has 1 account assignment") as err:
        ic.delete_custom_permission_set(arn, request_id=7)
    assert f"USER {moto_world.users['bob@example.com']}" in str(err.value)
    assert _exists(moto_world, arn)
    ic.unassign(a)
    ic.delete_custom_permission_set(
        arn, request_id=7, account_ids=[moto_world.accounts["Production"]]
    )
    assert not _exists(moto_world, arn)


def test_delete_refuses_sets_jitbot_did_not_create(moto_world: DemoWorld) -> None:
    ic = _ic()
    standard = moto_world.permission_sets["ReadOnlyAccess"]
    with pytest.raises(AwsError, match="refusing to delete a permission set jitbot did not create"):
        ic.delete_custom_permission_set(standard, request_id=1)
    assert _exists(moto_world, standard)

    other = _create(ic, request_id=1)
    with pytest.raises(AwsError, match="did not create for request 2"):
        ic.delete_custom_permission_set(other, request_id=2)
    assert _exists(moto_world, other)
    ic.delete_custom_permission_set(other, request_id=1)
    assert not _exists(moto_world, other)


def test_delete_refuses_other_request_after_restart(moto_world: DemoWorld) -> None:
    arn = _create(_ic(), request_id=1)
    with pytest.raises(AwsError, match=f"{REQUEST_TAG}='1'"):
        _ic().delete_custom_permission_set(arn, request_id=2)
    assert _exists(moto_world, arn)


def test_custom_permission_sets_with_tags(moto_world: DemoWorld) -> None:
    ic = _ic()
    one, two = _create(ic, name="a", request_id=1), _create(ic, name="b", request_id=2)
    _sso().create_permission_set(
        InstanceArn=moto_world.instance_arn,
        Name="hand-made",
        Tags=[{"Key": MANAGED_TAG, "Value": "true"}, {"Key": REQUEST_TAG, "Value": "x"}],
    )
    assert _ic().custom_permission_sets() == {one: 1, two: 2}


# --------------------------------------------------------------------------- durations


def test_session_durations(moto_world: DemoWorld) -> None:
    ic = _ic()
    describes = _count(ic, "DescribePermissionSet")
    assert ic.session_durations() == {"ReadOnlyAccess": "PT1H", "AdministratorAccess": "PT1H"}
    assert ic.permission_set_arns() == moto_world.permission_sets
    assert len(describes) == 2  # one DescribePermissionSet per set for both

    # A set created without a duration has AWS's default, one hour.
    _sso().create_permission_set(InstanceArn=moto_world.instance_arn, Name="no-duration")
    _create(ic, name="long", session_duration="PT12H")
    ic.refresh_catalog()
    durations = ic.session_durations()
    assert durations["no-duration"] == "PT1H"
    assert durations["long"] == "PT12H"
    # creating describes nothing; the refresh describes all four
    assert len(describes) == 2 + 4


# --------------------------------------------------------------------------- failures (moto + hooks)


def test_failing_attach_rolls_back(moto_world: DemoWorld, caplog: pytest.LogCaptureFixture) -> None:
    ic = _ic()
    _fail(
        ic,
        "AttachManagedPolicyToPermissionSet",
        "ValidationException",
        "Policy is not attachable",
        when=lambda params: params["ManagedPolicyArn"] == POLICY_S3,
    )
    deletes = _count(ic, "DeletePermissionSet")
    with caplog.at_level(logging.INFO, logger="jitbot.aws"), pytest.raises(AwsError) as err:
        _create(ic)
    assert str(err.value) == (
        f"sso-admin AttachManagedPolicyToPermissionSet ({POLICY_S3}): "
        "ValidationException: Policy is not attachable"
    )
    assert err.value.code == "ValidationException"
    assert deletes == ["DeletePermissionSet"]
    assert "rolled back" in caplog.text
    assert _names(moto_world) == ["AdministratorAccess", "ReadOnlyAccess"]
    assert ic.custom_permission_sets() == {}


def test_unknown_policy_rolls_back(moto_world: DemoWorld) -> None:
    ic = _ic()
    with pytest.raises(
        AwsError,
        match=r"AttachManagedPolicyToPermissionSet \(arn:aws:iam::aws:policy/NoSuch\): ResourceNotFoundException",
    ):
        _create(ic, managed_policies=[POLICY_RO, "arn:aws:iam::aws:policy/NoSuch"])
    assert _names(moto_world) == ["AdministratorAccess", "ReadOnlyAccess"]


def test_failing_inline_policy_rolls_back(moto_world: DemoWorld) -> None:
    ic = _ic()
    _fail(ic, "PutInlinePolicyToPermissionSet", "ValidationException", "Malformed policy")
    with pytest.raises(AwsError, match="^sso-admin PutInlinePolicyToPermissionSet: Validation"):
        _create(ic)
    assert _names(moto_world) == ["AdministratorAccess", "ReadOnlyAccess"]


def test_failed_rollback_is_reported(moto_world: DemoWorld) -> None:
    ic = _ic()
    _fail(ic, "PutInlinePolicyToPermissionSet", "ValidationException", "Malformed policy")
    _fail(ic, "DeletePermissionSet", "AccessDeniedException", "not allowed to sso:Delete")
    with pytest.raises(AwsError) as err:
        _create(ic)
    message = str(err.value)
    assert message.startswith("sso-admin PutInlinePolicyToPermissionSet: ValidationException")
    assert "rolling back failed too, delete permission set" in message
    assert "AccessDeniedException" in message
    assert err.value.code == "ValidationException"
    assert _names(moto_world) == ["AdministratorAccess", "ReadOnlyAccess", "jit-42-s3"]
    assert len(ic.custom_permission_sets()) == 1  # left over, found for the drift cleanup


def test_conflict_is_retried_then_succeeds(moto_world: DemoWorld) -> None:
    sleeps: list[float] = []
    ic = _ic(sleep=sleeps.append)
    message = "An operation on this permission set is already in progress"  # not a name clash
    calls = _fail(ic, "AttachManagedPolicyToPermissionSet", "ConflictException", message, times=2)
    arn = _create(ic, managed_policies=[POLICY_S3])
    assert len(calls) == 3
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # exponential backoff
    assert _exists(moto_world, arn)


def test_throttling_is_retried_then_given_up(moto_world: DemoWorld) -> None:
    sleeps: list[float] = []
    ic = _ic(sleep=sleeps.append, write_attempts=3)
    calls = _fail(ic, "CreatePermissionSet", "ThrottlingException", "Rate exceeded")
    with pytest.raises(
        AwsError, match=r"^sso-admin CreatePermissionSet \(jit-42-s3\): Throttling"
    ) as err:
        _create(ic)
    assert err.value.code == "ThrottlingException"
    assert len(calls) == 3 and len(sleeps) == 2
    assert _names(moto_world) == ["AdministratorAccess", "ReadOnlyAccess"]

    sleeps.clear()
    ic = _ic(sleep=sleeps.append)
    _fail(ic, "CreatePermissionSet", "ThrottlingException", "Rate exceeded", times=1)
    _create(ic)
    assert len(sleeps) == 1


def test_name_taken_meanwhile_takes_next_name(moto_world: DemoWorld) -> None:
    """AWS refuses a duplicate name: a set someone else made with that name is not
    reused, the next suffix is taken at once (no backoff)."""
    sleeps: list[float] = []
    ic = _ic(sleep=sleeps.append)
    calls = _fail(
        ic,
        "CreatePermissionSet",
        "ConflictException",
        "PermissionSet with name jit-9 already exists.",
        when=lambda params: params["Name"] == "jit-9",
    )
    arn = _create(ic, name="jit-9", request_id=9)
    assert [c["Name"] for c in calls] == ["jit-9", "jit-9-2"]
    assert _describe(moto_world, arn)["Name"] == "jit-9-2"
    assert sleeps == []


def test_delete_conflict_is_retried(moto_world: DemoWorld) -> None:
    sleeps: list[float] = []
    ic = _ic(sleep=sleeps.append)
    arn = _create(ic)
    message = "Could not delete because PermissionSet is still being deprovisioned"
    _fail(ic, "DeletePermissionSet", "ConflictException", message, times=2)
    ic.delete_custom_permission_set(arn, request_id=42)
    assert len(sleeps) == 2
    assert not _exists(moto_world, arn)


# --------------------------------------------------------------------------- Stubber (AWS answers)

INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
PS = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef"
PS_OTHER = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-fedcba0987654321"
ACCOUNT = "111122223333"
USER = "90676a4c-e0b1-70cd-1234-0123456789ab"
OUR_TAGS = [{"Key": MANAGED_TAG, "Value": "true"}, {"Key": REQUEST_TAG, "Value": "42"}]


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[IdentityCenter, Stubber, list[float]]]:
    session = boto3.session.Session(
        aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION
    )
    client = session.client("sso-admin", config=botocore.config.Config(retries={"max_attempts": 1}))
    sleeps: list[float] = []
    ic = IdentityCenter(
        instance_arn=INSTANCE,
        identity_store_id="d-1234567890",
        clients={"sso-admin": client},
        sleep=sleeps.append,
    )
    with Stubber(client) as stub:
        yield ic, stub, sleeps
        stub.assert_no_pending_responses()


def _tags(stub: Stubber, tags: list[dict], arn: str = PS) -> None:
    stub.add_response(
        "list_tags_for_resource", {"Tags": tags}, {"InstanceArn": INSTANCE, "ResourceArn": arn}
    )


def _provisioned(stub: Stubber, accounts: list[str]) -> None:
    stub.add_response(
        "list_accounts_for_provisioned_permission_set",
        {"AccountIds": accounts},
        {"InstanceArn": INSTANCE, "PermissionSetArn": PS},
    )


def _assignments(stub: Stubber, items: list[dict]) -> None:
    stub.add_response(
        "list_account_assignments",
        {"AccountAssignments": items},
        {"InstanceArn": INSTANCE, "AccountId": ACCOUNT, "PermissionSetArn": PS},
    )


def test_stub_create_exact_calls(stubbed) -> None:
    ic, stub, sleeps = stubbed
    expected = {
        "InstanceArn": INSTANCE,
        "Name": "jit-1",
        "SessionDuration": "PT2H",
        "Description": "why",
        "Tags": [{"Key": MANAGED_TAG, "Value": "true"}, {"Key": REQUEST_TAG, "Value": "1"}],
    }
    # The name is taken (by another set, of any case): AWS's answer. No listing first.
    stub.add_client_error(
        "create_permission_set",
        "ConflictException",
        "PermissionSet with name jit-1 already exists.",
        expected_params=expected,
    )
    stub.add_response(
        "create_permission_set",
        {"PermissionSet": {"Name": "jit-1-2", "PermissionSetArn": PS}},
        {**expected, "Name": "jit-1-2"},
    )
    stub.add_response(
        "attach_managed_policy_to_permission_set",
        {},
        {"InstanceArn": INSTANCE, "PermissionSetArn": PS, "ManagedPolicyArn": POLICY_RO},
    )
    stub.add_response(
        "put_inline_policy_to_permission_set",
        {},
        {"InstanceArn": INSTANCE, "PermissionSetArn": PS, "InlinePolicy": INLINE},
    )
    arn = ic.create_custom_permission_set(
        name="jit-1",
        session_duration="PT2H",
        description="why",
        request_id=1,
        managed_policies=[POLICY_RO],
        inline_policy=INLINE,
    )
    assert arn == PS
    assert sleeps == []


def test_stub_delete_with_remaining_assignment_refuses(stubbed) -> None:
    ic, stub, _ = stubbed
    _tags(stub, OUR_TAGS)
    _provisioned(stub, [ACCOUNT])
    _assignments(
        stub,
        [
            {
                "AccountId": ACCOUNT,
                "PermissionSetArn": PS,
                "PrincipalType": "GROUP",
                "PrincipalId": USER,
            }
        ],
    )
    with pytest.raises(
        AwsError, match=f"still has 1 account assignment.*in account {ACCOUNT} \\(GROUP {USER}\\)"
    ):
        ic.delete_custom_permission_set(PS, request_id=42)


def test_stub_delete_retries_conflict_while_deprovisioning(stubbed) -> None:
    ic, stub, sleeps = stubbed
    _tags(stub, OUR_TAGS)
    _provisioned(stub, [ACCOUNT])
    _assignments(stub, [])
    params = {"InstanceArn": INSTANCE, "PermissionSetArn": PS}
    stub.add_client_error(
        "delete_permission_set",
        "ConflictException",
        "Could not delete because PermissionSet has ongoing account assignment deletion",
        expected_params=params,
    )
    stub.add_response("delete_permission_set", {}, params)
    ic.delete_custom_permission_set(PS, request_id=42)
    assert len(sleeps) == 1


def test_stub_delete_gives_up_once_conflicts_outlast_the_retry_time(
    stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    ic, stub, sleeps = stubbed
    monkeypatch.setattr("workflows.aws.base.random.uniform", lambda low, high: high)
    now = [0.0]
    ic._clock = lambda: now[0]
    ic._sleep = lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s))
    ic.conflict_retry_seconds = 10.0
    _tags(stub, OUR_TAGS)
    _provisioned(stub, [])
    for _ in range(5):  # backoffs of 1, 2, 4, then the 3 s left of 10 s
        stub.add_client_error("delete_permission_set", "ConflictException", "still provisioned")
    with pytest.raises(AwsError, match="^sso-admin DeletePermissionSet: ConflictException") as err:
        ic.delete_custom_permission_set(PS, request_id=42)
    assert err.value.code == "ConflictException"
    assert sleeps == [1.0, 2.0, 4.0, 3.0] and now[0] == 10.0


def test_stub_delete_of_gone_set_is_done(stubbed) -> None:
    ic, stub, _ = stubbed
    stub.add_client_error(
        "list_tags_for_resource", "ResourceNotFoundException", "PermissionSet not found"
    )
    ic.delete_custom_permission_set(PS, request_id=42)


def test_stub_delete_refuses_without_tags(stubbed) -> None:
    ic, stub, _ = stubbed
    _tags(stub, [{"Key": REQUEST_TAG, "Value": "42"}])  # not marked managed
    with pytest.raises(AwsError, match="refusing to delete .* request 42: .*jitbot:managed=None"):
        ic.delete_custom_permission_set(PS, request_id=42)


def test_stub_delete_refuses_when_tags_not_readable(stubbed) -> None:
    ic, stub, _ = stubbed
    stub.add_client_error(
        "list_tags_for_resource", "AccessDeniedException", "not allowed to sso:ListTagsForResource"
    )
    stub.add_response(
        "describe_permission_set",
        {"PermissionSet": {"Name": "jit-42", "PermissionSetArn": PS}},
        {"InstanceArn": INSTANCE, "PermissionSetArn": PS},
    )
    with pytest.raises(AwsError, match="tags could not be read.*AccessDeniedException") as err:
        ic.delete_custom_permission_set(PS, request_id=42)
    assert err.value.code == "AccessDeniedException"


def test_stub_custom_permission_sets(stubbed) -> None:
    ic, stub, _ = stubbed
    stub.add_response(
        "list_permission_sets", {"PermissionSets": [PS, PS_OTHER]}, {"InstanceArn": INSTANCE}
    )
    _tags(stub, OUR_TAGS)
    _tags(stub, [{"Key": "team", "Value": "web"}], arn=PS_OTHER)
    assert ic.custom_permission_sets() == {PS: 42}


def test_stub_unreadable_tags_fail_the_listing(stubbed) -> None:
    """No guessing when AWS cannot say: the listing fails and names the call."""
    ic, stub, _ = stubbed
    stub.add_response("list_permission_sets", {"PermissionSets": [PS]}, {"InstanceArn": INSTANCE})
    stub.add_client_error(
        "list_tags_for_resource", "AccessDeniedException", "not allowed to sso:ListTagsForResource"
    )
    with pytest.raises(AwsError, match=r"^sso-admin ListTagsForResource \(.*AccessDenied"):
        ic.custom_permission_sets()
