"""Ending the AWS sign-ins already open, through the real adapter on moto (made strict by
sim/moto_fixes.py and sim/moto_provisioning.py) and the SQL store: the deny really is in
the set's inline policy and in the account's role, and goes again after the session
duration; two replicas ending sessions of one set at once keep both statements."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import boto3
from moto.backends import get_backend

from sim import moto_provisioning
from sim.aws_world import DemoWorld
from storage.store import SqlStore
from tests.conftest import REGION, world_config
from workflows.aws import IdentityCenter
from workflows.catalog import build_catalog
from workflows.domain import AccessRequest, Person
from workflows.services import Services
from workflows.services.leases import Leases
from workflows.states import Status
from workflows.validation import RequestForm

ALICE = Person("U01ALICE", "alice@example.com", "Alice Archer")
BOB = Person("U06BOB", "bob@example.com", "Bob Builder")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CUSTOMER = {"Sid": "TeamReads", "Effect": "Allow", "Action": "s3:List*", "Resource": "*"}


def replica(world: DemoWorld, store: SqlStore, holder: str, aws: object = None) -> Services:
    config = world_config(world, "revoke_live_sessions: true")
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    catalog = build_catalog(config, ic.permission_set_arns(), ic.account_names())
    return Services(config, catalog, store, aws or ic, leases=Leases(store, holder=holder))


def active(services: Services, world: DemoWorld, who: Person) -> AccessRequest:
    form = RequestForm(world.accounts["Sandbox"], "ReadOnlyAccess", "1h", "Checking OPS-7")
    request = services.submit_request(who, form, T0)
    return services.decide(request.id, OSCAR, True, T0)


def standing_assignment(world: DemoWorld, email: str) -> None:
    """Someone else's assignment of the set in Sandbox, so its role stays there."""
    boto3.client("sso-admin", region_name=REGION).create_account_assignment(
        InstanceArn=world.instance_arn,
        TargetId=world.accounts["Sandbox"],
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=world.permission_sets["ReadOnlyAccess"],
        PrincipalType="USER",
        PrincipalId=world.users[email],
    )


def set_policy(world: DemoWorld) -> list[dict]:
    text = boto3.client("sso-admin", region_name=REGION).get_inline_policy_for_permission_set(
        InstanceArn=world.instance_arn, PermissionSetArn=world.permission_sets["ReadOnlyAccess"]
    )["InlinePolicy"]
    return json.loads(text)["Statement"] if text else []


def role_policy(world: DemoWorld) -> list[dict]:
    backend = get_backend("sso-admin")["123456789012"]["us-east-1"]
    text = moto_provisioning.role_policy(
        backend, world.permission_sets["ReadOnlyAccess"], world.accounts["Sandbox"]
    )
    return json.loads(text)["Statement"] if text else []


def put_customer_policy(world: DemoWorld) -> None:
    boto3.client("sso-admin", region_name=REGION).put_inline_policy_to_permission_set(
        InstanceArn=world.instance_arn,
        PermissionSetArn=world.permission_sets["ReadOnlyAccess"],
        InlinePolicy=json.dumps({"Version": "2012-10-17", "Statement": [CUSTOMER]}),
    )


def test_a_release_puts_the_deny_into_the_sets_role_and_the_sweep_takes_it_out(
    moto_world: DemoWorld, store: SqlStore
):
    put_customer_policy(moto_world)
    standing_assignment(moto_world, "sam@example.com")
    services = replica(moto_world, store, "one")
    request = active(services, moto_world, ALICE)
    services.release(request.id, ALICE, T0 + timedelta(minutes=10))
    customer, deny = set_policy(moto_world)
    assert customer == CUSTOMER
    assert deny["Condition"]["StringEquals"]["identitystore:userId"] == request.principal_id
    assert role_policy(moto_world) == [customer, deny], "provisioned to Sandbox's role"
    services.sweep(T0 + timedelta(hours=1))  # the session duration (PT1H) has not passed
    assert len(set_policy(moto_world)) == 2
    services.sweep(T0 + timedelta(hours=1, minutes=20))
    assert set_policy(moto_world) == [CUSTOMER] == role_policy(moto_world)
    actions = [e["action"] for e in store.audit_events(request.id)]
    assert actions[-1] == "revocation_lifted" and "sessions_revoked" in actions


def test_the_last_assignment_takes_the_role_so_no_deny_is_written(
    moto_world: DemoWorld, store: SqlStore
):
    services = replica(moto_world, store, "one")
    request = active(services, moto_world, ALICE)
    ended = services.release(request.id, ALICE, T0 + timedelta(minutes=10))
    assert ended.status == Status.REVOKED
    assert set_policy(moto_world) == []
    detail = [e for e in store.audit_events(request.id) if e["action"] == "sessions_revoked"]
    assert detail[0]["detail"] == {"how": "role_removed"}


class SlowReader:
    """Replica one's adapter: holds the policy it read until replica two is trying too,
    which, without the lease, would make one statement overwrite the other."""

    def __init__(self, real: IdentityCenter, other_started: threading.Event) -> None:
        self.real = real
        self.other_started = other_started

    def inline_policy(self, arn: str) -> str:
        text = self.real.inline_policy(arn)
        self.other_started.wait(5)
        threading.Event().wait(0.3)  # replica two reaches the policy meanwhile
        return text

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


class Announcing:
    def __init__(self, real: IdentityCenter, started: threading.Event) -> None:
        self.real, self.started = real, started

    def is_provisioned(self, arn: str, account_id: str) -> bool:
        self.started.set()
        return self.real.is_provisioned(arn, account_id)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_two_replicas_ending_two_peoples_sessions_of_one_set_keep_both_statements(
    moto_world: DemoWorld, store: SqlStore
):
    put_customer_policy(moto_world)
    standing_assignment(moto_world, "sam@example.com")
    two_started = threading.Event()
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    one = replica(moto_world, store, "one", SlowReader(ic, two_started))
    two = replica(moto_world, store, "two", Announcing(ic, two_started))
    alice, bob = active(one, moto_world, ALICE), active(one, moto_world, BOB)
    threads = [
        threading.Thread(target=one.release, args=(alice.id, ALICE, T0 + timedelta(minutes=5))),
        threading.Thread(target=two.release, args=(bob.id, BOB, T0 + timedelta(minutes=5))),
    ]
    threads[0].start()
    threading.Event().wait(0.05)
    threads[1].start()
    for t in threads:
        t.join(30)
    statements = set_policy(moto_world)
    assert statements[0] == CUSTOMER
    denied = {s["Condition"]["StringEquals"]["identitystore:userId"] for s in statements[1:]}
    assert denied == {alice.principal_id, bob.principal_id}


def test_a_set_without_an_inline_policy_gets_one_and_has_none_again_after_the_lift(
    moto_world: DemoWorld, store: SqlStore
):
    standing_assignment(moto_world, "sam@example.com")
    services = replica(moto_world, store, "one")
    request = active(services, moto_world, ALICE)
    services.sweep(T0 + timedelta(hours=1))  # expiry
    assert store.get(request.id).status == Status.EXPIRED
    assert (
        [s["Effect"] for s in set_policy(moto_world)]
        == ["Deny"]
        == [s["Effect"] for s in role_policy(moto_world)]
    )
    services.sweep(T0 + timedelta(hours=2, minutes=10))
    assert set_policy(moto_world) == [] == role_policy(moto_world)


def test_a_customer_policy_with_no_room_left_ends_the_access_and_alerts(
    moto_world: DemoWorld, store: SqlStore
):
    standing_assignment(moto_world, "sam@example.com")
    big = {**CUSTOMER, "Resource": ["arn:aws:s3:::b/" + "x" * 10_000]}
    text = json.dumps({"Version": "2012-10-17", "Statement": [big]})
    client = boto3.client("sso-admin", region_name=REGION)
    arn = moto_world.permission_sets["ReadOnlyAccess"]
    client.put_inline_policy_to_permission_set(
        InstanceArn=moto_world.instance_arn, PermissionSetArn=arn, InlinePolicy=text
    )
    services = replica(moto_world, store, "one")
    request = active(services, moto_world, ALICE)
    assert services.release(request.id, ALICE, T0).status == Status.REVOKED
    held = client.get_inline_policy_for_permission_set(
        InstanceArn=moto_world.instance_arn, PermissionSetArn=arn
    )["InlinePolicy"]
    assert held == text, "the customer's policy is left exactly as it was"
    (refused,) = [
        e for e in store.audit_events(request.id) if e["action"] == "sessions_not_revoked"
    ]
    assert "over AWS's limit" in refused["detail"]["reason"]
