"""Ending the AWS sign-ins already open (config ``revoke_live_sessions``): the services
over the hand-written fakes, time moved by the test. What people read is the rendered
session-end notice; what AWS holds is the fake's inline policy.
Through moto and two replicas: test_live_sessions_moto.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.render.notices import notice_text
from tests.fakes import (
    DEMO_IDS,
    FAKE_CONFIG,
    READ_ONLY_ARN,
    SANDBOX,
    FakeGranter,
    FakeStore,
    bind,
)
from workflows.assignments import AwsError
from workflows.catalog import build_catalog
from workflows.config import parse_config
from workflows.domain import AccessRequest, OutgoingKind, Person
from workflows.services import Hooks, Services
from workflows.services.leases import Leases
from workflows.services.live_policy import (
    PendingLift,
    with_statement,
    without_statement,
)
from workflows.validation import RequestForm

ALICE = Person("U01ALICE", "alice@example.com", "Alice Archer")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CUSTOMER = {"Sid": "CustomerReads", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


@dataclass
class FakeLifts:
    """The LiftStore port in a dict."""

    rows: dict[str, PendingLift] = field(default_factory=dict)

    def add_lift(self, lift: PendingLift) -> None:
        self.rows.setdefault(lift.sid, lift)

    def lifts_due(self, now: datetime) -> list[PendingLift]:
        return sorted((x for x in self.rows.values() if x.due_at <= now), key=lambda x: x.due_at)

    def drop_lift(self, sid: str) -> bool:
        return self.rows.pop(sid, None) is not None


@dataclass
class World:
    services: Services
    store: FakeStore
    aws: FakeGranter
    lifts: FakeLifts

    def active(self, now: datetime = T0) -> AccessRequest:
        form = RequestForm(SANDBOX, "ReadOnlyAccess", "1h", "Investigating OPS-1")
        request = self.services.submit_request(ALICE, form, now)
        return self.services.decide(request.id, OSCAR, True, now)

    def told(self, request_id: int) -> str:
        """The last thing the requester's thread was told about the request."""
        notices = [
            o.notice
            for rid, o in self.store.outbox
            if rid == request_id and o.kind == OutgoingKind.ANNOUNCE
        ]
        request = self.store.get(request_id)
        assert request is not None
        return notice_text(request, notices[-1], for_requester=True) or ""

    def alerts(self) -> list[str]:
        return [o.payload["text"] for _, o in self.store.outbox if o.kind == OutgoingKind.ALERT]

    def statements(self) -> list[dict]:
        policy = self.aws.policies.get(READ_ONLY_ARN)
        return json.loads(policy)["Statement"] if policy else []


def world(on: bool = True, policy: dict | None = None) -> World:
    config = parse_config(FAKE_CONFIG + ("revoke_live_sessions: true\n" if on else ""))
    catalog = build_catalog(config, {"ReadOnlyAccess": READ_ONLY_ARN}, {SANDBOX: "Sandbox"})
    store, lifts = FakeStore(), FakeLifts()
    aws = FakeGranter(users={"alice@example.com": "u-alice"})
    # a standard set whose role stays in Sandbox (another team's standing assignment)
    aws.provisioned.add((READ_ONLY_ARN, SANDBOX))
    aws.durations[READ_ONLY_ARN] = timedelta(hours=2)
    if policy is not None:
        aws.policies[READ_ONLY_ARN] = json.dumps(policy)
    bind(store, DEMO_IDS)
    services = Services(
        config, catalog, store, aws, hooks=Hooks(), leases=Leases(store), lifts=lifts
    )
    return World(services, store, aws, lifts)


def test_release_denies_the_open_sign_ins_keeps_the_customers_statements_and_says_so():
    w = world(policy={"Version": "2012-10-17", "Statement": [CUSTOMER]})
    request = w.active()
    w.services.release(request.id, ALICE, T0 + timedelta(minutes=10))
    customer, deny = w.statements()
    assert customer == CUSTOMER
    assert deny["Sid"].startswith("JitbotRevoke") and deny["Effect"] == "Deny"
    assert (deny["Action"], deny["Resource"]) == ("*", "*")
    assert deny["Condition"] == {
        "StringEquals": {"identitystore:userId": "u-alice", "aws:PrincipalAccount": SANDBOX},
        "DateLessThan": {"aws:TokenIssueTime": "2026-12-02T09:11:00Z"},
    }
    assert w.aws.provisions == [(READ_ONLY_ARN, SANDBOX)]
    told = w.told(request.id)
    assert "sign-ins already open with it were ended too" in told
    assert "within a few minutes" in told and "keep working" not in told
    assert "sessions_revoked" in w.store.actions(request.id)


def test_the_deny_is_lifted_once_the_sets_session_duration_has_passed():
    w = world(policy={"Version": "2012-10-17", "Statement": [CUSTOMER]})
    request = w.active()
    ended = T0 + timedelta(minutes=10)
    w.services.release(request.id, ALICE, ended)
    # cutoff = end + 1 min; sessions last 2 h; 5 min to spare
    w.services.sweep(ended + timedelta(hours=2, minutes=5))
    assert len(w.statements()) == 2, "a session opened just before the end may still run"
    w.services.sweep(ended + timedelta(hours=2, minutes=6))
    assert w.statements() == [CUSTOMER]
    assert w.aws.provisions == [(READ_ONLY_ARN, SANDBOX)] * 2
    assert w.store.actions(request.id)[-1] == "revocation_lifted"
    assert not w.lifts.rows


def test_a_set_without_an_inline_policy_gets_one_with_the_deny_and_loses_it_again():
    w = world()
    request = w.active()
    w.services.sweep(T0 + timedelta(hours=1))  # expiry
    assert [s["Effect"] for s in w.statements()] == ["Deny"]
    assert "ended too" in w.told(request.id)
    w.services.sweep(T0 + timedelta(hours=4))
    assert READ_ONLY_ARN not in w.aws.policies, "nothing of jitbot's is left behind"


def test_a_policy_that_would_grow_too_big_still_ends_the_session_and_says_plainly():
    # 10,100 characters: AWS takes it, but not with a deny statement more (10,240)
    big = {**CUSTOMER, "Resource": ["arn:aws:s3:::b/" + "x" * 10_000]}
    w = world(policy={"Version": "2012-10-17", "Statement": [big]})
    before = w.aws.policies[READ_ONLY_ARN]
    request = w.active()
    revoked = w.services.release(request.id, ALICE, T0 + timedelta(minutes=5))
    assert revoked.status.value == "revoked" and not w.aws.assignments
    assert w.aws.policies[READ_ONLY_ARN] == before and not w.aws.provisions
    told = w.told(request.id)
    assert "could NOT end the AWS sign-ins already open" in told
    assert "The admins have been told" in told
    (alert,) = w.alerts()
    assert (
        f"#{request.id}" in alert
        and "could NOT be ended" in alert
        and "10240 not whitespace" in alert
    )
    assert "sessions_not_revoked" in w.store.actions(request.id)


def test_aws_refusing_the_provisioning_is_told_plainly_too():
    w = world()
    w.aws.fail_provision = AwsError("provision: FailureReason: Role quota exceeded")
    request = w.active()
    w.services.release(request.id, ALICE, T0 + timedelta(minutes=5))
    assert "could NOT end" in w.told(request.id)
    assert "Role quota exceeded" in w.alerts()[0]


def test_with_the_option_off_nothing_changes():
    w = world(on=False, policy={"Version": "2012-10-17", "Statement": [CUSTOMER]})
    request = w.active()
    w.services.release(request.id, ALICE, T0 + timedelta(minutes=5))
    assert w.statements() == [CUSTOMER] and not w.aws.provisions
    told = w.told(request.id)
    assert "Sign-ins already open keep working until they end" in told
    assert not any(a.startswith("sessions_") for a in w.store.actions(request.id))


def test_a_set_whose_role_left_the_account_needs_no_deny():
    w = world()
    w.aws.provisioned.clear()  # the last assignment there went, and the role with it
    request = w.active()
    w.services.release(request.id, ALICE, T0 + timedelta(minutes=5))
    assert READ_ONLY_ARN not in w.aws.policies and not w.aws.provisions
    assert "ended too" in w.told(request.id)


@pytest.mark.parametrize(
    "policy",
    ['{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}', "[1, 2]", "{not json"],
)
def test_policies_jitbot_cannot_read_are_never_rewritten(policy: str):
    statement = {"Sid": "JitbotRevokeabc", "Effect": "Deny"}
    if policy.startswith('{"Statement"'):
        added = json.loads(with_statement(policy, statement))
        assert added["Statement"][0]["Effect"] == "Allow" and len(added["Statement"]) == 2
        assert json.loads(without_statement(json.dumps(added), "JitbotRevokeabc")) == {
            "Statement": [json.loads(policy)["Statement"]]
        }
    else:
        with pytest.raises(Exception, match="inline policy"):
            with_statement(policy, statement)
        assert without_statement(policy, "JitbotRevokeabc") == policy


def test_the_option_on_a_store_that_keeps_no_lifts_is_refused_at_start():
    config = parse_config(FAKE_CONFIG + "revoke_live_sessions: true\n")
    catalog = build_catalog(config, {"ReadOnlyAccess": READ_ONLY_ARN}, {SANDBOX: "Sandbox"})
    with pytest.raises(ValueError, match="needs a store that keeps pending lifts"):
        Services(config, catalog, FakeStore(), FakeGranter())
