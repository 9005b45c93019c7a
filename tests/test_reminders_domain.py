"""The reminder schedule, whom a reminder is for, and the config's ``reminders:`` and
``escalation:`` with the messages a person reads (pure: no store, no Slack)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FAKE_CONFIG, SANDBOX
from workflows.access_rules import DEFAULT_ESCALATION, Ref
from workflows.config import ConfigError, parse_config
from workflows.domain import AccessRequest, Decision, MessageRef, MessageRole, Person, Review, Stage
from workflows.reminders import ReminderPlan, escalation_targets, waiting_on
from workflows.states import Status

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ALICE = Person("U01ALICE", "alice@example.com", "Alice")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar")
PLAN = ReminderPlan(timedelta(minutes=30), 2.0, timedelta(hours=12))


def request(
    status: Status, reviews: tuple[Review, ...] = (), **roles: MessageRole
) -> AccessRequest:
    refs = [MessageRef("D0", "0.1", MessageRole.REQUESTER, ALICE.slack_id)]
    refs += [
        MessageRef(f"D{i}", f"1.{i}", role, who) for i, (who, role) in enumerate(roles.items())
    ]
    return AccessRequest(
        id=1,
        requester=ALICE,
        principal_id="u-alice",
        account_id=SANDBOX,
        account_name="Sandbox",
        permission_set_name="ReadOnlyAccess",
        permission_set_arn="arn",
        duration=timedelta(hours=1),
        justification="x",
        status=status,
        requested_at=T0,
        approval_deadline=T0 + timedelta(days=1),
        reviews=reviews,
        messages=tuple(refs),
    )


def test_the_schedule_doubles_each_gap_and_counts_the_rounds_missed():
    assert [PLAN.due_at(T0, n) - T0 for n in range(4)] == [
        timedelta(minutes=m) for m in (30, 90, 210, 450)
    ]
    assert PLAN.rounds_due(T0, 0, T0 + timedelta(minutes=29)) == 0
    assert PLAN.rounds_due(T0, 0, T0 + timedelta(hours=5)) == 3
    assert PLAN.escalate_at(T0) == T0 + timedelta(hours=12)


def test_a_backoff_of_one_reminds_at_a_steady_pace():
    steady = ReminderPlan(timedelta(minutes=10), 1.0, timedelta(hours=1))
    assert steady.due_at(T0, 5) == T0 + timedelta(minutes=60)


def test_the_current_stage_is_reminded_and_who_acted_is_not():
    owner_done = Review(Stage.OWNER, Decision.APPROVED, OSCAR, T0)
    admin_stage = request(
        Status.PENDING_ADMIN,
        (owner_done,),
        U02OSCAR=MessageRole.APPROVER,
        U05ADA=MessageRole.ADMIN_APPROVER,
    )
    assert waiting_on(admin_stage) == ("U05ADA",)
    counted = Review(Stage.SINGLE, Decision.APPROVED, OSCAR, T0)
    two = request(
        Status.PENDING, (counted,), U02OSCAR=MessageRole.APPROVER, U03OLGA=MessageRole.APPROVER
    )
    assert waiting_on(two) == ("U03OLGA",)
    assert waiting_on(request(Status.APPROVED, (), U02OSCAR=MessageRole.APPROVER)) == ()


def test_an_approvals_channels_thread_is_reminded_at_either_stage():
    in_channel = request(Status.PENDING, (), C0APPROVALS=MessageRole.CHANNEL)
    assert waiting_on(in_channel) == ("C0APPROVALS",)
    owner_done = Review(Stage.OWNER, Decision.APPROVED, OSCAR, T0)
    admin_stage = request(Status.PENDING_ADMIN, (owner_done,), C0APPROVALS=MessageRole.CHANNEL)
    assert waiting_on(admin_stage) == ("C0APPROVALS",)


def test_escalation_skips_who_has_it_already_and_the_requester():
    pending = request(Status.PENDING, (), U02OSCAR=MessageRole.APPROVER)
    named = ["U02OSCAR", ALICE.slack_id, "U05ADA", "U05ADA"]
    assert escalation_targets(pending, named, allow_self=False) == ("U05ADA",)
    assert escalation_targets(pending, named, allow_self=True) == (ALICE.slack_id, "U05ADA")


def test_reminders_default_and_escalation_is_half_the_window():
    config = parse_config(FAKE_CONFIG)
    assert config.reminder_plan() == PLAN
    assert config.rules() == ()


@pytest.mark.parametrize(
    ("yaml", "problem"),
    [
        ("reminders: {first: 0s}", 'reminders.first: must be more than zero: "0s"'),
        (
            "reminders: {backoff: 0.5}",
            "reminders.backoff: Input should be greater than or equal to 1",
        ),
        (
            "reminders: {escalate_after: 24h}",
            "reminders.escalate_after: must be less than approval_timeout (1d), got 1d",
        ),
    ],
)
def test_reminders_that_cannot_work_are_refused_with_the_key(yaml: str, problem: str):
    with pytest.raises(ConfigError) as error:
        parse_config(FAKE_CONFIG + yaml + "\n")
    assert problem in error.value.problems


def test_a_rule_names_its_escalation_like_its_approvers():
    rule = f"""
access_rules:
  - name: r
    accounts: ["{SANDBOX}"]
    permission_sets: [ReadOnlyAccess]
    escalation: [group:Oncall, Bob@Example.com]
"""
    config = parse_config(FAKE_CONFIG + rule)
    assert config.rules()[0].applied().escalation == (
        Ref("group", "Oncall"),
        Ref("person", "bob@example.com"),
    )
    assert ("access_rules[0].escalation[1]", "bob@example.com") in config.people()
    plain = parse_config(
        FAKE_CONFIG + rule.replace("    escalation: [group:Oncall, Bob@Example.com]\n", "")
    )
    assert plain.rules()[0].applied().escalation == DEFAULT_ESCALATION
    with pytest.raises(ConfigError) as error:
        parse_config(FAKE_CONFIG + rule.replace("[group:Oncall, Bob@Example.com]", "[]"))
    assert any(p.startswith("access_rules[0].escalation") for p in error.value.problems)
