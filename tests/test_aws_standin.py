"""The Identity Center stand-in (sim/aws_standin.py) answers boto3 as AWS would: changes
IN_PROGRESS for op_seconds, conflicts while in progress, duplicates and busy accounts
refused, a provisioned set not deleted, throttling; and the product's adapter assigns
and unassigns through it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sim.aws_standin import AwsStandin
from sim.aws_world import DemoWorld, assignments, seed_demo_world, start_moto_server
from workflows.assignments import Assignment
from workflows.aws import IdentityCenter

OP = 0.5  # seconds an assignment change stays IN_PROGRESS in these tests


@dataclass
class Stage:
    standin: AwsStandin
    world: DemoWorld
    sso: Any  # boto3 sso-admin client at the stand-in, no retries

    def target(self, email: str = "alice@example.com", ps: str = "ReadOnlyAccess") -> dict:
        return {
            "InstanceArn": self.world.instance_arn,
            "TargetId": self.world.accounts["Sandbox"],
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": self.world.permission_sets[ps],
            "PrincipalType": "USER",
            "PrincipalId": self.world.users[email],
        }


@pytest.fixture
def stage() -> Iterator[Stage]:
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    moto, endpoint = start_moto_server()
    standin = AwsStandin(endpoint, op_seconds=OP)
    os.environ["AWS_ENDPOINT_URL"] = standin.url
    try:
        world = seed_demo_world()
        sso = boto3.client("sso-admin", config=Config(retries={"total_max_attempts": 1}))
        yield Stage(standin, world, sso)
    finally:
        standin.stop()
        moto.stop()
        os.environ.clear()
        os.environ.update(saved)


def _code(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _status(s: Stage, request_id: str, kind: str = "Creation") -> dict:
    call = getattr(s.sso, f"describe_account_assignment_{kind.lower()}_status")
    answer = call(
        InstanceArn=s.world.instance_arn, **{f"AccountAssignment{kind}RequestId": request_id}
    )
    return answer[f"AccountAssignment{kind}Status"]


def _settled(s: Stage) -> None:
    deadline = time.monotonic() + 10
    while s.standin.in_progress():
        assert time.monotonic() < deadline, "changes still in progress"
        time.sleep(0.05)


def test_a_creation_is_in_progress_then_succeeds_after_op_seconds(stage: Stage) -> None:
    s = stage
    started = s.sso.create_account_assignment(**s.target())["AccountAssignmentCreationStatus"]
    assert started["Status"] == "IN_PROGRESS" and started["RequestId"]
    assert started["PrincipalId"] == s.world.users["alice@example.com"]
    assert _status(s, started["RequestId"])["Status"] == "IN_PROGRESS"
    assert assignments(s.world) == [], "not listed before it finished"
    listed = s.sso.list_account_assignment_creation_status(
        InstanceArn=s.world.instance_arn, Filter={"Status": "IN_PROGRESS"}
    )["AccountAssignmentsCreationStatus"]
    assert [o["RequestId"] for o in listed] == [started["RequestId"]]

    _settled(s)
    assert _status(s, started["RequestId"])["Status"] == "SUCCEEDED"
    assert assignments(s.world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
    running = s.sso.list_account_assignment_creation_status(
        InstanceArn=s.world.instance_arn, Filter={"Status": "IN_PROGRESS"}
    )["AccountAssignmentsCreationStatus"]
    assert running == []

    gone = s.sso.delete_account_assignment(**s.target())["AccountAssignmentDeletionStatus"]
    assert gone["Status"] == "IN_PROGRESS"
    _settled(s)
    assert _status(s, gone["RequestId"], "Deletion")["Status"] == "SUCCEEDED"
    assert assignments(s.world) == []


def test_a_deletion_of_nothing_ends_failed_with_awss_reason(stage: Stage) -> None:
    s = stage
    gone = s.sso.delete_account_assignment(**s.target())["AccountAssignmentDeletionStatus"]
    _settled(s)
    final = _status(s, gone["RequestId"], "Deletion")
    assert final["Status"] == "FAILED" and "ResourceNotFound" in final["FailureReason"]


def test_a_second_write_while_one_is_in_progress_conflicts(stage: Stage) -> None:
    s = stage
    s.sso.create_account_assignment(**s.target())
    with pytest.raises(ClientError) as caught:
        s.sso.create_account_assignment(**s.target("bob@example.com"))
    code, message = _code(caught)
    assert code == "ConflictException" and "in progress" in message
    with pytest.raises(ClientError) as caught:
        s.sso.delete_account_assignment(**s.target())
    assert _code(caught)[0] == "ConflictException"
    # another permission set in the account is not held
    s.sso.create_account_assignment(**s.target(ps="AdministratorAccess"))
    _settled(s)
    s.sso.create_account_assignment(**s.target("bob@example.com"))  # free again


def test_a_duplicate_creation_conflicts_saying_it_already_exists(stage: Stage) -> None:
    s = stage
    s.standin.op_seconds = 0
    s.sso.create_account_assignment(**s.target())
    with pytest.raises(ClientError) as caught:
        s.sso.create_account_assignment(**s.target())
    code, message = _code(caught)
    assert code == "ConflictException" and "already exists" in message
    assert assignments(s.world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]


def test_a_busy_account_conflicts_until_the_other_writer_is_done(stage: Stage) -> None:
    s = stage
    sandbox = s.world.accounts["Sandbox"]
    s.standin.busy(sandbox, 0.6)
    for ps in ("ReadOnlyAccess", "AdministratorAccess"):
        with pytest.raises(ClientError) as caught:
            s.sso.create_account_assignment(**s.target(ps=ps))
        code, message = _code(caught)
        assert code == "ConflictException" and message.endswith("operation in progress")
    time.sleep(0.7)
    s.standin.busy(sandbox, 5, s.world.permission_sets["AdministratorAccess"])
    s.sso.create_account_assignment(**s.target())  # only the other set is held now
    with pytest.raises(ClientError) as caught:
        s.sso.create_account_assignment(**s.target(ps="AdministratorAccess"))
    assert _code(caught)[0] == "ConflictException"
    assert [c.refused for c in s.standin.of("CreateAccountAssignment")] == [
        "ConflictException",
        "ConflictException",
        None,
        "ConflictException",
    ]


def test_a_provisioned_set_is_not_deleted(stage: Stage) -> None:
    s = stage
    instance = s.world.instance_arn
    arn = s.sso.create_permission_set(
        InstanceArn=instance, Name="JIT-1", Tags=[{"Key": "k", "Value": "v"}]
    )["PermissionSet"]["PermissionSetArn"]
    tags = s.sso.list_tags_for_resource(InstanceArn=instance, ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "k", "Value": "v"}], "moto (with moto_fixes) lists tags"
    s.sso.provision_permission_set(
        InstanceArn=instance,
        PermissionSetArn=arn,
        TargetType="AWS_ACCOUNT",
        TargetId=s.world.accounts["Sandbox"],
    )
    with pytest.raises(ClientError) as caught:
        s.sso.delete_permission_set(InstanceArn=instance, PermissionSetArn=arn)
    code, message = _code(caught)
    assert code == "ConflictException" and "provisioned to accounts" in message
    listed = s.sso.list_permission_sets(InstanceArn=instance)["PermissionSets"]
    assert arn in listed


def test_the_throttle_answers_throttling_exception(stage: Stage) -> None:
    s = stage
    s.standin.throttle(rate=1, burst=2)
    answers = []
    for _ in range(4):
        try:
            s.sso.list_instances()
            answers.append("ok")
        except ClientError as exc:
            answers.append(exc.response["Error"]["Code"])
    assert answers == ["ok", "ok", "ThrottlingException", "ThrottlingException"]
    assert len(s.standin.throttled()) == 2


def test_the_outstanding_quota_answers_service_quota_exceeded(stage: Stage) -> None:
    s = stage
    s.standin.limit_outstanding(1)
    s.sso.create_account_assignment(**s.target())
    with pytest.raises(ClientError) as caught:
        s.sso.create_account_assignment(**s.target(ps="AdministratorAccess"))
    assert _code(caught)[0] == "ServiceQuotaExceededException"


def test_the_adapter_assigns_and_unassigns_through_the_standin(stage: Stage) -> None:
    s = stage
    s.standin.op_seconds = 1.0
    ic = IdentityCenter(region="us-east-1")
    t = s.target()
    grant = Assignment(t["TargetId"], t["PermissionSetArn"], t["PrincipalId"])
    ic.assign(grant)
    creations = s.standin.of("CreateAccountAssignment")
    assert len(creations) == 1 and creations[0].refused is None
    polls = s.standin.of("DescribeAccountAssignmentCreationStatus") + s.standin.of(
        "ListAccountAssignmentCreationStatus"
    )
    assert polls, "it waited for the status"
    assert assignments(s.world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
    assert ic.has_assignment(grant)
    ic.unassign(grant)
    assert len(s.standin.of("DeleteAccountAssignment")) == 1
    assert assignments(s.world) == []
    assert s.standin.in_progress() == []


@pytest.mark.slow
def test_grants_wait_out_a_concurrent_writer_and_nothing_is_granted_twice(stage: Stage) -> None:
    """Issue 17's done-when: operations take 3 s and another writer (the console,
    Terraform) holds Sandbox for 40 s. Two grants for Sandbox wait it out (conflicts
    retried for up to ``conflict_retry_seconds``, 120 s by default), both succeed, and
    AWS accepted exactly one creation for each: nothing is granted twice, even when the
    first grant is asked for again afterwards."""
    s = stage
    s.standin.op_seconds = 3.0
    s.standin.busy(s.world.accounts["Sandbox"], 40)
    ic = IdentityCenter(region="us-east-1")
    grants = [
        Assignment(t["TargetId"], t["PermissionSetArn"], t["PrincipalId"])
        for t in (s.target("alice@example.com"), s.target("bob@example.com"))
    ]
    errors: list[BaseException] = []

    def grant(a: Assignment) -> None:
        try:
            ic.assign(a)
        except BaseException as exc:  # reported below
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=grant, args=(a,)) for a in grants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    waited = time.monotonic() - started
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert waited >= 40, "the grants waited for the other writer"
    refused = [c for c in s.standin.of("CreateAccountAssignment") if c.refused]
    assert refused and all(c.refused == "ConflictException" for c in refused)
    ic.assign(grants[0])  # asked again: already in place, not created again
    accepted = [c for c in s.standin.of("CreateAccountAssignment") if c.refused is None]
    assert sorted(c.principal_id for c in accepted) == sorted(a.principal_id for a in grants)
    assert assignments(s.world) == [
        ("Sandbox", "ReadOnlyAccess", "alice@example.com"),
        ("Sandbox", "ReadOnlyAccess", "bob@example.com"),
    ]
