"""The lifecycle function and the split services over hand-written fakes: every status
change goes through the transition table, and a table without an entry stops the
service that needs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import fake_world, transitions_restored
from workflows import lifecycle
from workflows.assignments import AwsError
from workflows.domain import Person
from workflows.errors import AlreadyDecided, WorkflowError
from workflows.states import Event, Status, TransitionNotAllowed

ALICE = Person("U01ALICE", "alice@example.com", "Alice Requester")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
ADA = Person("U05ADA", "ada@example.com", "Ada Admin")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- apply


def test_apply_moves_the_request_to_the_tables_target_and_audits_it():
    world = fake_world()
    request = world.submit(ALICE, T0)
    won = lifecycle.apply(
        world.store, request, Event.REJECT, now=T0, actor=OSCAR.email, action="rejected"
    )
    assert won
    stored = world.store.get(request.id)
    assert stored is not None and stored.status is Status.REJECTED
    assert world.store.audit_events(request.id)[-1]["detail"] == {
        "from": "pending",
        "to": "rejected",
    }


def test_apply_loses_when_the_status_changed_since_it_was_read():
    world = fake_world()
    read = world.submit(ALICE, T0)
    assert lifecycle.apply(world.store, read, Event.CANCEL, now=T0, actor="a", action="x")
    assert not lifecycle.apply(world.store, read, Event.TIME_OUT, now=T0, actor="b", action="y")
    assert world.store.actions(read.id) == ["requested", "x"]


def test_apply_refuses_an_event_the_table_does_not_allow_and_writes_nothing():
    world = fake_world()
    request = world.submit(ALICE, T0)
    with pytest.raises(TransitionNotAllowed, match="^Can't revoke a request that is Pending$"):
        lifecycle.apply(world.store, request, Event.REVOKE, now=T0, actor="a", action="x")
    assert world.store.actions(request.id) == ["requested"]


def test_submit_stores_the_first_status_of_the_table():
    world = fake_world()
    assert world.submit(ALICE, T0).status is Status.PENDING
    assert lifecycle.first_status(Event.SUBMIT_CUSTOM) is Status.PENDING_OWNER


def test_only_a_submit_starts_a_request():
    with pytest.raises(TransitionNotAllowed):
        lifecycle.first_status(Event.APPROVE)


# --------------------------------------------------------------------------- the services


def test_a_final_approval_grants_at_once_through_the_fakes():
    world = fake_world()
    request = world.submit(ALICE, T0)
    granted = world.services.decide(request.id, OSCAR, True, T0)
    assert granted.status is Status.ACTIVE
    assert [a.principal_id for a in world.aws.assigned] == ["u-alice"]
    # the approval deadline, the session's end, and its expiry warning (15 minutes before)
    assert world.wakes == [
        T0 + timedelta(hours=24),
        T0 + timedelta(hours=1),
        T0 + timedelta(minutes=45),
    ]
    assert world.store.actions(request.id) == ["requested", "approved", "granted"]


def test_a_grant_aws_refuses_makes_the_request_failed():
    world = fake_world()
    world.aws.fail_assign = AwsError("AccessDenied")
    request = world.submit(ALICE, T0)
    assert world.services.decide(request.id, OSCAR, True, T0).status is Status.FAILED


def test_the_sweep_expires_a_session_past_its_end_and_times_out_a_stale_request():
    world = fake_world()
    active = world.services.decide(world.submit(ALICE, T0).id, ADA, True, T0)
    stale = world.submit(ALICE, T0 + timedelta(minutes=5))
    world.services.sweep(T0 + timedelta(days=2))
    assert world.store.get(active.id).status is Status.EXPIRED  # type: ignore[union-attr]
    assert world.store.get(stale.id).status is Status.TIMED_OUT  # type: ignore[union-attr]
    assert world.aws.unassigned == world.aws.assigned


def test_a_second_decision_is_told_who_decided_first():
    world = fake_world()
    request = world.submit(ALICE, T0)
    world.services.decide(request.id, OSCAR, False, T0)
    with pytest.raises(AlreadyDecided, match="already rejected by Oscar Owner"):
        world.services.decide(request.id, ADA, True, T0)


def test_a_failed_release_keeps_the_session_active_and_says_so():
    world = fake_world()
    request = world.services.decide(world.submit(ALICE, T0).id, OSCAR, True, T0)
    world.aws.fail_unassign = AwsError("Throttled")
    with pytest.raises(WorkflowError, match="AWS did not remove the access yet"):
        world.services.release(request.id, ALICE, T0 + timedelta(minutes=1))
    assert world.store.get(request.id).status is Status.ACTIVE  # type: ignore[union-attr]
    assert world.store.actions(request.id)[-1] == "revoke_failed"


# --------------------------------------------------------------------------- the table binds


@pytest.fixture
def table():
    """The transition table, restored after a test takes entries out."""
    with transitions_restored() as transitions:
        yield transitions


@pytest.mark.parametrize(
    ("entry", "act"),
    [
        ((None, Event.SUBMIT), lambda w, r: w.submit(ALICE, T0)),
        ((Status.PENDING, Event.REJECT), lambda w, r: w.services.decide(r.id, OSCAR, False, T0)),
        ((Status.PENDING, Event.APPROVE), lambda w, r: w.services.decide(r.id, OSCAR, True, T0)),
        ((Status.PENDING, Event.CANCEL), lambda w, r: w.services.cancel(r.id, ALICE, T0)),
    ],
    ids=["submit", "reject", "approve", "cancel"],
)
def test_a_service_cannot_change_a_status_the_table_does_not_allow(table, entry, act):
    world = fake_world()
    request = world.submit(ALICE, T0)
    del table[entry]
    with pytest.raises(TransitionNotAllowed):
        act(world, request)
    assert world.store.get(request.id).status is Status.PENDING  # type: ignore[union-attr]


def test_a_time_out_the_table_does_not_allow_leaves_the_request_pending(table):
    world = fake_world()
    request = world.submit(ALICE, T0)
    del table[(Status.PENDING, Event.TIME_OUT)]
    with pytest.raises(TransitionNotAllowed):
        world.services.time_out(request.id, T0 + timedelta(days=2))
    assert world.store.get(request.id).status is Status.PENDING  # type: ignore[union-attr]


def test_the_table_decides_where_an_approval_leads(table):
    """Point the approval of a standard request somewhere else: the service follows."""
    world = fake_world()
    request = world.submit(ALICE, T0)
    table[(Status.PENDING, Event.APPROVE)] = Status.REJECTED
    assert world.services.decide(request.id, OSCAR, True, T0).status is Status.REJECTED
    assert world.aws.assigned == []


def test_an_expiry_the_table_does_not_allow_is_refused_before_the_access_goes(table):
    world = fake_world()
    request = world.services.decide(world.submit(ALICE, T0).id, OSCAR, True, T0)
    del table[(Status.ACTIVE, Event.EXPIRE)]
    with pytest.raises(TransitionNotAllowed, match="^Can't expire a request that is Active$"):
        world.services.end_session(request.id, T0 + timedelta(hours=2))
    assert world.aws.unassigned == []
