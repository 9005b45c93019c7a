"""The outbox and the leases, on SQLite and PostgreSQL: a Slack failure delays a notice
and never loses or repeats it; two replicas never deliver one notice or change one
account assignment at the same time, and a dead replica's work is taken over.

Slack is a scripted notifier here (what it was asked to send, and when it fails); the
same paths over HTTP against the fake Slack are in tests/test_outbox_http.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from sim.aws_world import DemoWorld
from storage.store import SqlStore
from tests.conftest import REGION
from tests.test_services import ALICE, BOB, OLGA, OSCAR, T0, Harness, make_harness
from workflows.domain import (
    AccessRequest,
    MessageRef,
    MessageRole,
    Notice,
    NoticeKind,
    Outgoing,
    Person,
)
from workflows.errors import AlreadyDecided
from workflows.outbox import DeliveryDeferred, DeliveryRefused, OutboxDispatcher
from workflows.states import Status


class Clock:
    """A clock the test moves (UTC)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ScriptedSlack:
    """Records every message it is asked to send; ``failures`` are raised first, one per
    call, by the target they are keyed on (a thread ``channel/ts`` or an admin user id)."""

    sent: list[tuple[int | None, str]] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    roots: int = 0

    def _maybe_fail(self, target: str) -> None:
        queue = self.failures.get(target)
        if queue:
            raise queue.pop(0)

    def post_request_thread(self, request: AccessRequest) -> MessageRef:
        self._maybe_fail("thread")
        self.roots += 1
        self.sent.append((request.id, "root:requester"))
        return MessageRef(
            "D1", f"{self.roots}.0", MessageRole.REQUESTER, request.requester.slack_id
        )

    def post_approval_request(
        self, request: AccessRequest, user: str, role: MessageRole = MessageRole.APPROVER
    ) -> MessageRef | None:
        self._maybe_fail(user)
        if user.startswith("ghost"):
            return None
        self.roots += 1
        self.sent.append((request.id, f"root:{user}"))
        return MessageRef("D" + user, f"{self.roots}.0", role, user)

    def refresh(self, request: AccessRequest) -> None:
        self._maybe_fail("refresh")
        self.sent.append((request.id, f"refresh:{request.status.value}"))

    def reply(self, request: AccessRequest, ref: MessageRef, notice: Notice) -> None:
        self._maybe_fail(f"{ref.channel}/{ref.ts}")
        self.sent.append((request.id, f"reply:{ref.channel}:{notice.kind.value}"))

    def alert_admin(self, user: str, text: str, confirm: dict | None = None) -> None:
        self._maybe_fail(user)
        self.sent.append((None, f"alert:{user}:{text}"))

    def replies(self, request_id: int, kind: NoticeKind) -> list[str]:
        return [
            m
            for rid, m in self.sent
            if rid == request_id and m.startswith("reply:") and m.endswith(kind.value)
        ]


@dataclass
class Replica:
    """The outbox side of one replica: its dispatcher on the shared store."""

    dispatcher: OutboxDispatcher
    slack: ScriptedSlack


def replica(store: SqlStore, name: str, clock: Clock, slack: ScriptedSlack | None = None):
    slack = slack or ScriptedSlack()
    dispatcher = OutboxDispatcher(
        store, slack, admins=lambda: ["U05ADA", "U04SAM"], holder=name, clock=clock
    )
    return Replica(dispatcher, slack)


@pytest.fixture
def h(moto_world: DemoWorld, store: SqlStore) -> Harness:
    """Services whose notices stay in the outbox until the test delivers them."""
    harness = make_harness(moto_world, store)
    harness.services.kick = lambda: None
    return harness


def test_a_notice_deferred_by_slack_is_retried_and_sent_once_per_thread(h: Harness):
    clock = Clock(datetime.now(UTC))
    slack = ScriptedSlack()
    r = replica(h.store, "a", clock, slack)
    request = h.submit()
    r.dispatcher.deliver_all()  # the three roots
    roots = h.store.get(request.id).messages
    assert len(roots) == 3
    h.services.decide(request.id, OSCAR, False, T0, comment="not today")
    # Slack takes the first reply, then answers 429 on the second thread
    second = f"{roots[1].channel}/{roots[1].ts}"
    slack.failures[second] = [DeliveryDeferred("rate limited", retry_after=7)]
    outcome = r.dispatcher.deliver_due()  # the refresh
    outcome = r.dispatcher.deliver_due()  # the reply: one thread done, then 429
    assert outcome.pause == 7 and outcome.deferred == 1, slack.sent
    assert len(slack.replies(request.id, NoticeKind.REJECTED)) == 1, (slack.sent, roots)

    r.dispatcher.deliver_all()
    assert len(slack.replies(request.id, NoticeKind.REJECTED)) == 1, "not before Retry-After"
    clock.advance(7)
    r.dispatcher.deliver_all()
    replies = slack.replies(request.id, NoticeKind.REJECTED)
    assert sorted(replies) == sorted(f"reply:{ref.channel}:rejected" for ref in roots), (
        "each thread exactly once"
    )


def test_a_slack_outage_never_loses_a_notice_and_backs_off(h: Harness):
    clock = Clock(datetime.now(UTC))
    slack = ScriptedSlack()
    r = replica(h.store, "a", clock, slack)
    slack.failures["thread"] = [DeliveryDeferred("HTTP 503") for _ in range(6)]
    request = h.submit()
    waits = []
    for _ in range(6):
        outcome = r.dispatcher.deliver_due()
        assert outcome.delivered == 0 and outcome.pause is not None
        waits.append(outcome.pause)
        clock.advance(outcome.pause)
    assert waits[-1] > waits[0], f"backs off: {waits}"
    assert max(waits) <= 30
    r.dispatcher.deliver_all()
    assert [m for rid, m in slack.sent if rid == request.id][:1] == ["root:requester"]
    assert len(h.store.get(request.id).messages) == 3, "every root arrived, once"


def test_a_requests_notices_go_in_order_and_a_stuck_one_holds_back_only_its_own(h: Harness):
    clock = Clock(datetime.now(UTC))
    slack = ScriptedSlack()
    r = replica(h.store, "a", clock, slack)
    first = h.submit()
    second = h.submit(OSCAR, account="Production")
    slack.failures["thread"] = [DeliveryDeferred("HTTP 500")]  # the first's root fails
    r.dispatcher.deliver_all()
    assert all(rid == second.id for rid, _ in slack.sent), "the first waits, the second goes"
    clock.advance(30)
    r.dispatcher.deliver_all()
    order = [m for rid, m in slack.sent if rid == first.id]
    assert order[0] == "root:requester", "no approver DM before the requester's root"


def test_a_refused_target_is_skipped_and_the_rest_delivered(h: Harness):
    clock = Clock(datetime.now(UTC))
    slack = ScriptedSlack()
    r = replica(h.store, "a", clock, slack)
    h.services.tell(None, [Outgoing.alert("revoke failed")], T0)
    slack.failures["U05ADA"] = [DeliveryRefused("channel_not_found")]
    r.dispatcher.deliver_all()
    assert [m for _, m in slack.sent] == ["alert:U04SAM:revoke failed"]
    assert h.store.outbox_entries()[-1].state == "sent"


def test_a_bug_in_one_notice_gives_up_after_a_few_attempts(h: Harness):
    clock = Clock(datetime.now(UTC))
    slack = ScriptedSlack()
    r = replica(h.store, "a", clock, slack)
    r.dispatcher.max_attempts = 3
    h.services.tell(None, [Outgoing.alert("x")], T0)
    slack.failures["U05ADA"] = [RuntimeError("bug") for _ in range(3)]
    for _ in range(3):
        r.dispatcher.deliver_due()
        clock.advance(60)
    entry = h.store.outbox_entries()[-1]
    assert entry.state == "dead" and "bug" in (entry.last_error or "")


def test_when_no_approver_is_in_slack_the_requester_and_admins_are_told(h: Harness):
    clock = Clock(datetime.now(UTC))
    slack = ScriptedSlack()
    r = replica(h.store, "a", clock, slack)
    slack.post_approval_request = lambda request, user, role=MessageRole.APPROVER: None  # type: ignore[method-assign]
    request = h.submit()
    r.dispatcher.deliver_all()
    assert slack.replies(request.id, NoticeKind.APPROVERS_UNREACHABLE)
    alerts = [m for _, m in slack.sent if m.startswith("alert:")]
    assert len(alerts) == 2 and "U02OSCAR, U03OLGA" in alerts[0]
    assert "approvers_unreachable" in [e["action"] for e in h.store.audit_events(request.id)]


def test_two_replicas_never_deliver_the_same_notice(h: Harness):
    clock = Clock(datetime.now(UTC))
    slack = ScriptedSlack()
    a, b = replica(h.store, "a", clock, slack), replica(h.store, "b", clock, slack)
    requests = [h.submit() for _ in range(5)]  # limits.pending_per_requester
    barrier = threading.Barrier(2)

    def drain(r: Replica) -> None:
        barrier.wait()
        r.dispatcher.deliver_all()

    threads = [threading.Thread(target=drain, args=(r,)) for r in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a.dispatcher.deliver_all()
    for request in requests:
        roots = [m for rid, m in slack.sent if rid == request.id]
        assert sorted(roots) == sorted(["root:requester", "root:U02OSCAR", "root:U03OLGA"]), roots


def test_a_dead_replicas_claim_is_taken_over_when_its_lease_ends(h: Harness):
    clock = Clock(datetime.now(UTC))
    slack = ScriptedSlack()
    a, b = replica(h.store, "a", clock, slack), replica(h.store, "b", clock, slack)
    request = h.submit()
    claimed = h.store.claim_outbox("a", clock(), clock() + a.dispatcher.lease, 8)
    assert [c.request_id for c in claimed] == [request.id]  # then "a" dies
    assert b.dispatcher.deliver_all() == 0, "b leaves a live claim alone"
    clock.advance(a.dispatcher.lease.total_seconds() + 1)
    b.dispatcher.deliver_all()
    assert len(h.store.get(request.id).messages) == 3


# -- leases on account assignments ------------------------------------------------------


def test_a_replica_leaves_an_assignment_leased_by_another_alone(h: Harness):
    request = h.submit()
    active = h.services.decide(request.id, OSCAR, True, T0)
    assert active.status == Status.ACTIVE
    key = "assignment:" + "/".join(
        (active.principal_id, active.account_id, active.permission_set_arn)
    )
    now = datetime.now(UTC)
    assert h.store.claim_lease(key, "other-replica", now, now + timedelta(seconds=15))

    ends = active.session.expires_at
    assert h.services.end_session(request.id, ends).status == Status.ACTIVE
    assert h.assigned(active), "the other replica is working on it"

    h.services.lease_clock = lambda: now + timedelta(seconds=16)  # its lease ran out
    assert h.services.end_session(request.id, ends).status == Status.EXPIRED
    assert not h.assigned(active)


def _lease_key(request: AccessRequest) -> str:
    return "assignment:" + "/".join(
        (request.principal_id, request.account_id, request.permission_set_arn)
    )


def test_an_approval_takes_the_assignment_lease_with_the_decision_and_gives_it_back(
    h: Harness,
):
    request = h.submit()
    key = _lease_key(request)
    seen: list[bool] = []
    assign = h.aws.assign

    def assign_and_look(assignment):  # while AWS is called, the lease is this replica's
        now = datetime.now(UTC)
        seen.append(not h.store.claim_lease(key, "other-replica", now, now))
        assign(assignment)

    h.aws.assign = assign_and_look
    assert h.services.decide(request.id, OSCAR, True, T0).status == Status.ACTIVE
    assert seen == [True]
    now = datetime.now(UTC)
    assert h.store.claim_lease(key, "other-replica", now, now), "released after the grant"


def test_an_approval_of_an_assignment_leased_by_another_replica_is_recorded_not_granted(
    h: Harness,
):
    request = h.submit()
    key = _lease_key(request)
    now = datetime.now(UTC)
    assert h.store.claim_lease(key, "other-replica", now, now + timedelta(seconds=15))

    approved = h.services.decide(request.id, OSCAR, True, T0)
    assert approved.status == Status.APPROVED, "the decision is durable all the same"
    assert approved.decision is not None and approved.decision.reviewer == OSCAR
    assert h.aws.assign_calls == 0 and not h.assigned(approved)
    with pytest.raises(AlreadyDecided):
        h.services.decide(request.id, OLGA, True, T0)

    h.services.lease_clock = lambda: now + timedelta(seconds=16)  # its lease ran out
    h.services.sweep(T0 + timedelta(seconds=30))
    assert h.store.get(request.id).status == Status.ACTIVE
    assert h.aws.assign_calls == 1 and h.assigned(approved)


def test_a_lost_decision_takes_no_lease(h: Harness):
    request = h.submit()
    later = T0 + timedelta(seconds=1)
    now = datetime.now(UTC)
    outcome = h.store.transition_leasing(
        request.id,
        Status.APPROVED,  # it is Pending: the compare-and-set fails
        Status.ACTIVE,
        lease_key="k",
        holder="a",
        lease_now=now,
        lease_until=now + timedelta(seconds=15),
        grants_of=request,
        now=later,
        actor="x",
        action="y",
    )
    assert (outcome.won, outcome.leased, outcome.others) == (False, False, None)
    assert h.store.claim_lease("k", "b", now, now), "no lease was written"
    assert h.store.get(request.id).status == Status.PENDING


def test_each_committed_status_change_logs_its_audit_event_once(
    h: Harness, caplog: pytest.LogCaptureFixture
):
    import json

    request = h.submit()
    with caplog.at_level("INFO", logger="jitbot.audit"):
        h.services.decide(request.id, OSCAR, True, T0)
        with pytest.raises(AlreadyDecided):  # lost: nothing written, nothing logged
            h.services.decide(request.id, OLGA, True, T0)
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "jitbot.audit"]
    stored = [e for e in h.store.audit_between() if e["request_id"] == request.id]
    assert [e["action"] for e in logged] == ["approved", "granted"]
    assert logged == stored[1:], "the same events as stored (after 'requested'), ids too"


def test_leases_are_compare_and_set(store: SqlStore):
    now = datetime.now(UTC)
    later = now + timedelta(seconds=15)
    assert store.claim_lease("k", "a", now, later)
    assert not store.claim_lease("k", "b", now, later)
    assert store.claim_lease("k", "a", now, later), "the holder may extend it"
    assert store.renew_leases("a", later + timedelta(seconds=15)) == 1
    assert not store.claim_lease("k", "b", later + timedelta(seconds=1), later)
    assert store.claim_lease("k", "b", later + timedelta(seconds=16), later + timedelta(60))
    store.release_lease("k", "a")  # not a's any more: nothing happens
    assert not store.claim_lease("k", "a", later + timedelta(seconds=16), later)


def test_two_replicas_sweeping_the_same_due_sessions_end_each_once(
    moto_world: DemoWorld, store: SqlStore
):
    a = make_harness(moto_world, store)
    b = make_harness(moto_world, store)
    b.services.holder = "replica-b"
    a.services.holder = "replica-a"
    olga = Person("U03OLGA", "olga@example.com", "Olga Owner")
    active = []
    grants = [
        (who, account, permission_set)
        for who in (ALICE, BOB)
        for account, permission_set in (
            ("Sandbox", "ReadOnlyAccess"),
            ("Sandbox", "AdministratorAccess"),
            ("Production", "ReadOnlyAccess"),
        )
    ]
    for who, account, permission_set in grants:
        request = a.submit(who, account=account, permission_set=permission_set)
        approver = OSCAR if account == "Sandbox" else olga
        active.append(a.services.decide(request.id, approver, True, T0))
    assert all(r.status == Status.ACTIVE for r in active)
    ends = max(r.session.expires_at for r in active)
    a.notifier.notices.clear()
    b.notifier.notices.clear()

    removals = []
    for h in (a, b):
        real = h.aws.unassign

        def counted(assignment, real=real):  # type: ignore[no-untyped-def]
            removals.append(assignment)
            real(assignment)

        h.aws.unassign = counted  # type: ignore[method-assign]
    barrier = threading.Barrier(2)

    def sweep(h: Harness) -> None:
        barrier.wait()
        h.services.sweep(ends)

    threads = [threading.Thread(target=sweep, args=(h,)) for h in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a.services.sweep(ends)  # whatever was left to the other replica is done by now
    b.services.sweep(ends)
    for request in active:
        done = store.get(request.id)
        assert done.status == Status.EXPIRED, done
        events = [e["action"] for e in store.audit_events(request.id)]
        assert events.count("expired") == 1
        told = [k for rid, k, _ in [*a.notifier.notices, *b.notifier.notices] if rid == request.id]
        assert told == [NoticeKind.EXPIRED], told
    assert len(removals) == len(active) == len(set(removals)), "each removed once"
    client = boto3.client("sso-admin", region_name=REGION)
    assert not client.list_account_assignments(
        InstanceArn=moto_world.instance_arn,
        AccountId=moto_world.accounts["Sandbox"],
        PermissionSetArn=moto_world.permission_sets["ReadOnlyAccess"],
    )["AccountAssignments"]


def test_replicas_share_the_identity_center_quota_while_their_heartbeats_run(store: SqlStore):
    from bot.outbox_worker import Heartbeat
    from workflows.aws import IdentityCenter

    now = [datetime.now(UTC)]
    lease = timedelta(seconds=15)
    a_aws, b_aws = IdentityCenter(region=REGION), IdentityCenter(region=REGION)
    a = Heartbeat(store, "replica-a", lease, lambda: now[0], on_replicas=a_aws.share_quota)
    b = Heartbeat(store, "replica-b", lease, lambda: now[0], on_replicas=b_aws.share_quota)

    def quota(aws: IdentityCenter) -> tuple[float, int]:
        return aws.limiter.rate, aws._outstanding.size

    a.beat()
    assert quota(a_aws) == (15, 15), "alone: the whole quota"
    b.beat()
    assert quota(b_aws) == (7.5, 7), "a replica starting counts the live ones at once"
    a.beat()
    assert quota(a_aws) == (7.5, 7), "the others count it at their next beat"
    b.stop()
    a.beat()
    assert quota(a_aws) == (15, 15), "a clean stop gives the share back"
    b.beat()
    a.beat()
    assert quota(a_aws) == (7.5, 7)
    now[0] += lease + timedelta(seconds=1)  # b dies without a word: its lease runs out
    a.beat()
    assert quota(a_aws) == (15, 15)
    assert store.live_replicas(now[0]) == 1
