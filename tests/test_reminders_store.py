"""Reminders and escalation on the SQL store (SQLite, and PostgreSQL where configured):
two services on one database sweeping at the same moment send each reminder and each
escalation once; a bot back after being down sends one reminder for the rounds it
missed; a multi-approval rule reminds only those who have not approved; nothing after
a decision or the approval window. Time is moved: each sweep is given its moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from storage.db import make_engine
from storage.store import SqlStore
from tests.fakes import DEMO_IDS, FAKE_CONFIG, READ_ONLY_ARN, SANDBOX, FakeGranter
from workflows.catalog import build_catalog
from workflows.config import parse_config
from workflows.domain import MessageRef, MessageRole, NoticeKind, OutgoingKind, Person
from workflows.rulebook import RuleBook
from workflows.services import Services
from workflows.states import Status
from workflows.validation import RequestForm

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ALICE = Person(DEMO_IDS["alice@example.com"], "alice@example.com", "Alice Archer")
OSCAR = Person(DEMO_IDS["oscar@example.com"], "oscar@example.com", "Oscar Owner")
OLGA = Person(DEMO_IDS["olga@example.com"], "olga@example.com", "Olga Owner")
ADA, SAM = DEMO_IDS["ada@example.com"], DEMO_IDS["sam@example.com"]
TWO_APPROVALS = f"""
access_rules:
  - name: two
    accounts: ["{SANDBOX}"]
    permission_sets: [ReadOnlyAccess]
    approvers: [oscar@example.com, olga@example.com]
    approvals: 2
"""


def services_on(store: SqlStore, extra: str = "") -> Services:
    config = parse_config(FAKE_CONFIG + extra)
    catalog = build_catalog(config, {"ReadOnlyAccess": READ_ONLY_ARN}, {SANDBOX: "Sandbox"})
    aws = FakeGranter(users={"alice@example.com": "u-alice"})
    return Services(config, catalog, store, aws, rulebook=RuleBook(config.rules()))


def submitted(services: Services, store: SqlStore) -> int:
    """A request of Alice's, with the thread roots the outbox would have posted."""
    form = RequestForm(SANDBOX, "ReadOnlyAccess", "1h", "Investigating OPS-1")
    request = services.submit_request(ALICE, form, T0)
    refs = [MessageRef("D-alice", "1.0", MessageRole.REQUESTER, ALICE.slack_id)]
    refs += [
        MessageRef(f"D-{i}", f"2.{n}", MessageRole.APPROVER, i)
        for n, i in enumerate(request.approvers)
    ]
    store.add_messages(request.id, refs)
    return request.id


def second_replica(store: SqlStore) -> SqlStore:
    """Another store on the same database, as a second replica has."""
    return SqlStore(make_engine(store.engine.url.render_as_string(hide_password=False)))


def actions(store: SqlStore, request_id: int, action: str) -> list[dict]:
    return [e for e in store.audit_events(request_id) if e["action"] == action]


def reminders(store: SqlStore, request_id: int) -> list[tuple[str, ...]]:
    """To whom each reminder in the outbox goes."""
    found = []
    for entry in store.outbox_entries(request_id):
        if entry.kind == OutgoingKind.ANNOUNCE and entry.item.notice.kind == NoticeKind.REMINDER:
            found.append(entry.item.notice.to)
    return found


def approval_dms(store: SqlStore, request_id: int) -> list[str]:
    return [
        e.item.payload["user"]
        for e in store.outbox_entries(request_id)
        if e.kind == OutgoingKind.APPROVAL
    ]


def at_once(*sweeps) -> None:
    barrier = threading.Barrier(len(sweeps))
    errors: list[BaseException] = []

    def run(sweep) -> None:
        barrier.wait()
        try:
            sweep()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in sweeps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def test_two_replicas_sweeping_at_once_remind_and_escalate_once(store: SqlStore) -> None:
    other = second_replica(store)
    one, two = services_on(store), services_on(other)
    ids = [submitted(one, store) for _ in range(3)]
    for when in (timedelta(minutes=30), timedelta(minutes=31), timedelta(minutes=90)):
        at_once(lambda w=when: one.sweep(T0 + w), lambda w=when: two.sweep(T0 + w))
    for request_id in ids:
        assert reminders(store, request_id) == [(OSCAR.slack_id,), (OSCAR.slack_id,)]
        assert [e["detail"]["round"] for e in actions(store, request_id, "reminded")] == [1, 2]
    at_once(
        lambda: one.sweep(T0 + timedelta(hours=12)), lambda: two.sweep(T0 + timedelta(hours=12))
    )
    for request_id in ids:
        assert approval_dms(store, request_id) == [OSCAR.slack_id, SAM, ADA]
        assert len(actions(store, request_id, "escalated")) == 1
        assert store.reminder_state(request_id).escalated_at == T0 + timedelta(hours=12)


def test_a_bot_back_after_missing_rounds_sends_one_reminder(store: SqlStore) -> None:
    services = services_on(store)
    request_id = submitted(services, store)
    services.sweep(T0 + timedelta(hours=5))  # 30 m, 90 m and 210 m passed while down
    services.sweep(T0 + timedelta(hours=5, minutes=1))
    assert reminders(store, request_id) == [(OSCAR.slack_id,)]
    assert actions(store, request_id, "reminded")[0]["detail"]["round"] == 3
    services.sweep(T0 + timedelta(minutes=450))  # the next is 240 m after the 210 m one
    assert len(reminders(store, request_id)) == 2


def test_only_approvers_who_have_not_approved_are_reminded(store: SqlStore) -> None:
    services = services_on(store, TWO_APPROVALS)
    request_id = submitted(services, store)
    services.decide(request_id, OSCAR, True, T0 + timedelta(minutes=5))
    assert store.get(request_id).approvals_given == 1
    services.sweep(T0 + timedelta(minutes=30))
    assert reminders(store, request_id) == [(OLGA.slack_id,)]


def test_nothing_is_sent_after_a_decision_or_the_approval_window(store: SqlStore) -> None:
    services = services_on(store)
    decided, waiting = submitted(services, store), submitted(services, store)
    services.decide(decided, OSCAR, False, T0 + timedelta(minutes=10), "not now")
    services.sweep(T0 + timedelta(hours=23))
    assert reminders(store, decided) == [] and approval_dms(store, decided) == [OSCAR.slack_id]
    assert len(actions(store, waiting, "escalated")) == 1
    before = len(reminders(store, waiting))
    services.sweep(T0 + timedelta(hours=30))  # past approval_timeout (24h): timed out
    assert store.get(waiting).status == Status.TIMED_OUT
    assert len(reminders(store, waiting)) == before


def test_a_nudge_counts_once_per_interval(store: SqlStore) -> None:
    services = services_on(store, "reminders: {first: 10m}\n")
    request_id = submitted(services, store)
    assert services.nudge(request_id, ALICE, T0 + timedelta(minutes=1)) == 1
    try:
        services.nudge(request_id, ALICE, T0 + timedelta(minutes=5))
    except Exception as exc:  # noqa: BLE001 - the words are the point
        assert str(exc).endswith("You can nudge again in 6 minutes.")
    else:
        raise AssertionError("a second nudge within reminders.first was counted")
    assert services.nudge(request_id, ALICE, T0 + timedelta(minutes=11)) == 1
    assert len(actions(store, request_id, "nudged")) == 2


def test_the_sweep_asks_once_to_wake_at_the_next_reminder_and_the_escalation(
    store: SqlStore,
) -> None:
    wakes: list[datetime] = []
    services = services_on(store)
    services.hooks.wake_at = wakes.append
    request_id = submitted(services, store)
    wakes.clear()  # submit's own (the approval deadline)
    services.sweep(T0 + timedelta(minutes=1))
    services.sweep(T0 + timedelta(minutes=2))
    assert sorted(wakes) == [T0 + timedelta(minutes=30), T0 + timedelta(hours=12)]
    services.sweep(T0 + timedelta(minutes=30))  # the reminder; it asks for the next
    assert wakes[2:] == [T0 + timedelta(minutes=90)]
    assert len(reminders(store, request_id)) == 1


def test_the_escalation_people_may_decide_only_once_it_is_escalated(store: SqlStore) -> None:
    rule = f"""
access_rules:
  - name: r
    accounts: ["{SANDBOX}"]
    permission_sets: [ReadOnlyAccess]
    approvers: [oscar@example.com]
    escalation: [bob@example.com]
"""
    services = services_on(store, rule)
    request_id = submitted(services, store)
    bob = Person(DEMO_IDS["bob@example.com"], "bob@example.com", "Bob Builder")
    decides = services.authority.decider(bob)
    assert not decides(store.get(request_id))
    services.sweep(T0 + timedelta(hours=12))
    assert approval_dms(store, request_id) == [OSCAR.slack_id, bob.slack_id]
    assert decides(store.get(request_id))
    approved = services.decide(request_id, bob, True, T0 + timedelta(hours=13))
    assert approved.decision is not None and approved.decision.reviewer.slack_id == bob.slack_id
