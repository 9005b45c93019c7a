"""Several approvals of one stage in the store (access rules' ``approvals``): each is
counted by compare-and-set, one per reviewer, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.store import SqlStore
from workflows.domain import Decision, NewRequest, Person, Review, Stage
from workflows.states import Status

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
ALICE = Person("U01ALICE", "alice@example.com", "Alice")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar")
OLGA = Person("U03OLGA", "olga@example.com", "Olga")


def _request(store: SqlStore) -> int:
    new = NewRequest(
        ALICE,
        "p-alice",
        "222222222222",
        "Production",
        "AdministratorAccess",
        "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef",
        timedelta(hours=2),
        "INC-42 database failover",
        T0,
        T0 + timedelta(hours=24),
        ("U02OSCAR", "U03OLGA"),
        rule_name="prod-admin",
        approvals_needed=2,
        ticket="INC-42",
    )
    return store.add_request(new).id


def _approve(store: SqlStore, request_id: int, who: Person, given: int) -> bool:
    review = Review(Stage.SINGLE, Decision.APPROVED, who, T0, None, f"p-{who.slack_id}")
    return store.add_approval(
        request_id,
        Status.PENDING,
        given,
        review,
        now=T0,
        actor=who.slack_id,
        action="approval_counted",
    )


def test_a_request_keeps_its_rule_ticket_and_approvals(store: SqlStore) -> None:
    request = store.get(_request(store))
    assert (request.rule_name, request.approvals_needed, request.ticket) == (
        "prod-admin",
        2,
        "INC-42",
    )
    assert request.approvals_given == 0
    (event,) = store.audit_events(request.id)
    assert event["detail"]["rule"] == "prod-admin" and event["detail"]["ticket"] == "INC-42"


def test_an_approval_is_counted_once_and_a_stale_count_loses(store: SqlStore) -> None:
    request_id = _request(store)
    assert _approve(store, request_id, OSCAR, 0)
    assert not _approve(store, request_id, OLGA, 0)  # read before Oscar's: must read again
    request = store.get(request_id)
    assert request.status == Status.PENDING and request.approvals_given == 1
    assert [r.reviewer.slack_id for r in request.approvals_at(Stage.SINGLE)] == ["U02OSCAR"]
    assert request.approvals_at(Stage.SINGLE)[0].principal_id == "p-U02OSCAR"
    assert [e["action"] for e in store.audit_events(request_id)] == [
        "requested",
        "approval_counted",
    ]


def test_the_same_reviewer_cannot_be_stored_twice_for_a_stage(store: SqlStore) -> None:
    request_id = _request(store)
    assert _approve(store, request_id, OSCAR, 0)
    with pytest.raises(IntegrityError):
        _approve(store, request_id, OSCAR, 1)
    assert store.get(request_id).approvals_given == 1  # the failed one wrote nothing


def test_no_approval_is_counted_once_the_request_left_pending(store: SqlStore) -> None:
    request_id = _request(store)
    assert store.transition(
        request_id,
        Status.PENDING,
        Status.REJECTED,
        now=T0,
        actor="U03OLGA",
        action="rejected",
        review=Review(Stage.SINGLE, Decision.REJECTED, OLGA, T0),
    )
    assert not _approve(store, request_id, OSCAR, 0)


def test_two_approvers_at_once_are_both_counted_exactly_once(store: SqlStore) -> None:
    request_id = _request(store)
    won: list[bool] = []
    barrier = threading.Barrier(2)

    def click(who: Person) -> None:
        barrier.wait()
        given = 0
        while True:  # what the service does: read again after losing
            if _approve(store, request_id, who, given):
                won.append(True)
                return
            given = store.get(request_id).approvals_given

    threads = [threading.Thread(target=click, args=(p,)) for p in (OSCAR, OLGA)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert won == [True, True]
    assert store.get(request_id).approvals_given == 2
