"""The lifecycle services on a real SQLite store and moto; Slack replaced by a recording
notifier (the Slack adapter itself is exercised end to end in test_e2e.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from sim.aws_world import DemoWorld
from storage.store import SqlStore
from tests.conftest import REGION, world_config
from tests.fakes import transitions_restored
from workflows.assignments import Assignment, AssignmentFailed, AwsError, OperationStatus
from workflows.aws import IdentityCenter
from workflows.catalog import build_catalog
from workflows.domain import (
    AccessRequest,
    MessageRef,
    MessageRole,
    Notice,
    NoticeKind,
    OutgoingKind,
    Person,
)
from workflows.errors import (
    AlreadyDecided,
    InvalidRequest,
    NoIdentityCenterUser,
    NotAuthorized,
    UnknownRequest,
    WorkflowError,
)
from workflows.outbox import OutboxDispatcher
from workflows.services import Hooks, Services
from workflows.states import Event, Status, TransitionNotAllowed
from workflows.validation import RequestForm

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ALICE = Person("U01ALICE", "alice@example.com", "Alice Archer")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
OLGA = Person("U03OLGA", "olga@example.com", "Olga Owner")
BOB = Person("U06BOB", "bob@example.com", "Bob Builder")
NOBODY = Person("U09NOONE", "nobody@example.com", "No Body")


@dataclass
class RecordingNotifier:
    """Records what would be said in Slack, per request."""

    posted: list[tuple[int, str]] = field(default_factory=list)
    notices: list[tuple[int, NoticeKind, str | None]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    refreshed: list[tuple[int, Status]] = field(default_factory=list)

    def post_request_thread(self, request: AccessRequest) -> MessageRef:
        self.posted.append((request.id, request.requester.email))
        return MessageRef(
            "D" + request.requester.slack_id,
            f"{len(self.posted)}.0",
            MessageRole.REQUESTER,
            request.requester.slack_id,
        )

    def post_approval_request(
        self, request: AccessRequest, user: str, role: MessageRole = MessageRole.APPROVER
    ) -> MessageRef:
        self.posted.append((request.id, user))
        return MessageRef("D" + user, f"{len(self.posted)}.0", role, user)

    def refresh(self, request: AccessRequest) -> None:
        self.refreshed.append((request.id, request.status))

    def reply(self, request: AccessRequest, ref: MessageRef, notice: Notice) -> None:
        if ref.role == MessageRole.REQUESTER:  # one record per notice, not per thread
            self.notices.append((request.id, notice.kind, notice.detail))

    def alert_admin(self, user: str, text: str, confirm: dict | None = None) -> None:
        if not self.alerts or self.alerts[-1] != text:  # one record per alert
            self.alerts.append(text)

    def kinds(self, request_id: int) -> list[NoticeKind]:
        return [k for rid, k, _ in self.notices if rid == request_id]


class FlakyGranter:
    """Moto behind, with failures switched on by the test (moto never fails)."""

    def __init__(self, real: IdentityCenter) -> None:
        self.real = real
        self.fail_assign: AwsError | None = None
        self.fail_unassign: AwsError | None = None
        self.assign_calls = 0
        #: what DescribeAccountAssignmentCreationStatus says of a pending grant
        self.creation_state = "IN_PROGRESS"

    def find_user_id(self, email: str) -> str | None:
        return self.real.find_user_id(email)

    def assign(self, assignment: Assignment) -> None:
        self.assign_calls += 1
        if self.fail_assign:
            raise self.fail_assign
        self.real.assign(assignment)

    def unassign(self, assignment: Assignment) -> None:
        if self.fail_unassign:
            raise self.fail_unassign
        self.real.unassign(assignment)

    def assignment_creation_status(self, request_id: str) -> OperationStatus:
        return OperationStatus(request_id, self.creation_state)

    def create_custom_permission_set(self, **kwargs) -> str:
        return self.real.create_custom_permission_set(**kwargs)

    def delete_custom_permission_set(self, arn: str, **kwargs) -> None:
        self.real.delete_custom_permission_set(arn, **kwargs)


@dataclass
class Harness:
    services: Services
    store: SqlStore
    notifier: RecordingNotifier
    aws: FlakyGranter
    world: DemoWorld

    def submit(
        self,
        who: Person = ALICE,
        *,
        account: str = "Sandbox",
        permission_set: str = "ReadOnlyAccess",
        duration: str = "1h",
        now: datetime = T0,
    ) -> AccessRequest:
        form = RequestForm(
            self.world.accounts[account],
            permission_set,
            duration,
            "Investigating failed deploys in OPS-1",
        )
        return self.services.submit_request(who, form, now)

    def assigned(self, request: AccessRequest) -> bool:
        return self.aws.real.has_assignment(
            Assignment(request.account_id, request.permission_set_arn, request.principal_id)
        )


def make_harness(world: DemoWorld, store: SqlStore, extra_config: str = "") -> Harness:
    config = world_config(world, extra_config)
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    catalog = build_catalog(config, ic.permission_set_arns(), ic.account_names())
    notifier = RecordingNotifier()
    aws = FlakyGranter(ic)
    # the outbox delivered at once, in the caller's thread
    outbox = OutboxDispatcher(
        store, notifier, admins=lambda: ["U05ADA"], holder="test", clock=lambda: datetime.now(UTC)
    )
    services = Services(config, catalog, store, aws, hooks=Hooks(kick=outbox.deliver_all))
    return Harness(services, store, notifier, aws, world)


@pytest.fixture
def h(moto_world: DemoWorld, store: SqlStore) -> Harness:
    return make_harness(moto_world, store)


def test_submit_stores_a_pending_request_and_dms_the_requester_and_each_owner(h: Harness):
    request = h.submit()
    assert request.status == Status.PENDING
    assert request.approval_deadline == T0 + timedelta(hours=24)
    assert [email for rid, email in h.notifier.posted] == [
        "alice@example.com",
        "U02OSCAR",
        "U03OLGA",
    ]
    assert len(h.store.get(request.id).messages) == 3
    assert [e["action"] for e in h.store.audit_events(request.id)] == ["requested"]


def test_invalid_form_stores_nothing(h: Harness):
    with pytest.raises(InvalidRequest) as caught:
        h.services.submit_request(
            ALICE, RequestForm(h.world.accounts["Sandbox"], "ReadOnlyAccess", "1h", "too short"), T0
        )
    assert set(caught.value.errors) == {"justification"}
    assert h.store.requests_of(ALICE.slack_id) == []


def test_requester_without_identity_center_user_gets_no_request(h: Harness):
    with pytest.raises(NoIdentityCenterUser, match="nobody@example.com"):
        h.submit(NOBODY)
    assert h.store.requests_of(NOBODY.slack_id) == []
    assert h.notifier.posted == []


def test_account_without_owner_goes_to_admins_and_requester_is_told(
    moto_world: DemoWorld, store: SqlStore
):
    h = make_harness(moto_world, store)
    # Olga owns Production alone; when she asks for it, nobody else owns it
    request = h.submit(OLGA, account="Production")
    assert set(request.approvers) == {"U05ADA", "U04SAM"}
    assert NoticeKind.SENT_TO_ADMINS in h.notifier.kinds(request.id)


def test_owner_approval_creates_the_assignment_and_makes_the_request_active(h: Harness):
    request = h.submit()
    now = T0 + timedelta(minutes=5)
    active = h.services.decide(request.id, OSCAR, True, now)
    assert active.status == Status.ACTIVE
    assert active.session.granted_at == now
    assert active.session.expires_at == now + timedelta(hours=1)
    assert h.assigned(active)
    assert h.notifier.kinds(request.id) == [NoticeKind.APPROVED, NoticeKind.GRANTED]
    assert [e["action"] for e in h.store.audit_events(request.id)] == [
        "requested",
        "approved",
        "granted",
    ]


def test_outsider_cannot_approve_and_nothing_changes(h: Harness):
    """Bob may not see the request: he is told what an unknown id gets, nothing more."""
    request = h.submit()
    with pytest.raises(UnknownRequest) as refused:
        h.services.decide(request.id, BOB, True, T0)
    with pytest.raises(UnknownRequest) as unknown:
        h.services.decide(request.id + 1, BOB, True, T0)
    assert str(refused.value) == f"There is no request #{request.id} that you can see."
    assert str(unknown.value) == f"There is no request #{request.id + 1} that you can see."
    assert h.store.get(request.id).status == Status.PENDING
    assert not h.assigned(request)


def test_requester_cannot_approve_own_request_even_as_owner(h: Harness):
    request = h.submit(OSCAR)
    with pytest.raises(NotAuthorized, match="your own request"):
        h.services.decide(request.id, OSCAR, True, T0)


def test_first_decision_wins_and_the_second_is_told_who_decided(h: Harness):
    request = h.submit()
    h.services.decide(request.id, OSCAR, True, T0)
    with pytest.raises(AlreadyDecided, match="already approved by Oscar Owner"):
        h.services.decide(request.id, OLGA, False, T0)
    assert h.aws.assign_calls == 1
    assert h.store.get(request.id).status == Status.ACTIVE


def test_reject_keeps_the_comment_and_grants_nothing(h: Harness):
    request = h.submit()
    rejected = h.services.decide(request.id, OLGA, False, T0, comment="Use staging")
    assert rejected.status == Status.REJECTED
    assert rejected.decision.comment == "Use staging"
    assert not h.assigned(request)
    assert h.notifier.kinds(request.id) == [NoticeKind.REJECTED]


def test_sweep_at_expiry_removes_the_assignment_and_marks_it_expired(h: Harness):
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    h.services.sweep(T0 + timedelta(minutes=59))
    assert h.store.get(request.id).status == Status.ACTIVE
    h.services.sweep(T0 + timedelta(hours=1))
    expired = h.store.get(request.id)
    assert expired.status == Status.EXPIRED
    assert expired.session.ended_at == T0 + timedelta(hours=1)
    assert not h.assigned(request)
    assert h.notifier.kinds(request.id)[-1] == NoticeKind.EXPIRED


def test_overlapping_grant_keeps_the_assignment_until_the_last_one_ends(h: Harness):
    first = h.services.decide(h.submit(duration="1h").id, OSCAR, True, T0)
    second = h.services.decide(h.submit(duration="4h").id, OSCAR, True, T0)
    h.services.sweep(T0 + timedelta(hours=1))
    assert h.store.get(first.id).status == Status.EXPIRED
    assert h.assigned(second), "the longer grant still needs the assignment"
    h.services.sweep(T0 + timedelta(hours=4))
    assert h.store.get(second.id).status == Status.EXPIRED
    assert not h.assigned(second)


def test_failed_grant_marks_the_request_failed_and_tells_why(h: Harness):
    h.aws.fail_assign = AssignmentFailed(
        "CreateAccountAssignment FAILED", reason="Role quota exceeded"
    )
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    assert request.status == Status.FAILED
    assert not h.assigned(request)
    kind, detail = [(k, d) for rid, k, d in h.notifier.notices if rid == request.id][-1]
    assert kind == NoticeKind.GRANT_FAILED and "FAILED" in detail


def test_failed_revoke_keeps_the_session_active_alerts_admins_and_is_retried(h: Harness):
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    h.aws.fail_unassign = AwsError("DeleteAccountAssignment: ThrottlingException")
    h.services.sweep(T0 + timedelta(hours=1))
    assert h.store.get(request.id).status == Status.ACTIVE
    assert h.assigned(request)
    assert h.notifier.alerts and f"#{request.id}" in h.notifier.alerts[0]
    h.aws.fail_unassign = None
    h.services.sweep(T0 + timedelta(hours=1, seconds=5))
    assert h.store.get(request.id).status == Status.EXPIRED
    assert not h.assigned(request)


def test_a_revoke_that_keeps_failing_alerts_the_admins_once_across_restarts(
    h: Harness, moto_world: DemoWorld, store: SqlStore
):
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    h.aws.fail_unassign = AwsError("DeleteAccountAssignment: ThrottlingException")
    h.services.sweep(T0 + timedelta(hours=1))
    h.services.sweep(T0 + timedelta(hours=1, seconds=5))
    restarted = make_harness(moto_world, store)  # the bot restarted, or another replica
    restarted.aws.fail_unassign = h.aws.fail_unassign
    restarted.services.sweep(T0 + timedelta(hours=1, seconds=10))
    actions = [e["action"] for e in store.audit_events(request.id)]
    assert actions.count("revoke_failed") == 3, "every failure is audited"
    alerts = [e for e in store.outbox_entries(request.id) if e.kind == OutgoingKind.ALERT]
    assert len(alerts) == 1, "the admins were told once"
    assert store.get(request.id).status == Status.ACTIVE


def test_pending_request_past_the_approval_window_expires(h: Harness):
    request = h.submit()
    h.services.sweep(T0 + timedelta(hours=23, minutes=59))
    assert h.store.get(request.id).status == Status.PENDING
    h.services.sweep(T0 + timedelta(hours=24))
    timed_out = h.store.get(request.id)
    assert timed_out.status == Status.TIMED_OUT and timed_out.status_label == "Expired"
    kinds = h.notifier.kinds(request.id)  # escalated and reminded at 23h59 first
    assert kinds[-1] == NoticeKind.TIMED_OUT and NoticeKind.TIMED_OUT not in kinds[:-1]
    with pytest.raises(AlreadyDecided):
        h.services.decide(request.id, OSCAR, True, T0 + timedelta(hours=25))


def test_restart_grants_an_approved_request_left_half_done_exactly_once(
    moto_world: DemoWorld, store: SqlStore
):
    h = make_harness(moto_world, store)
    request = h.submit()
    # the bot died between the approval's commit and the grant
    assert store.transition(
        request.id, Status.PENDING, Status.APPROVED, now=T0, actor=OSCAR.email, action="approved"
    )
    restarted = make_harness(moto_world, store)
    restarted.services.sweep(T0 + timedelta(seconds=30))
    restarted.services.sweep(T0 + timedelta(seconds=35))
    assert store.get(request.id).status == Status.ACTIVE
    assert restarted.aws.assign_calls == 1
    assert restarted.notifier.kinds(request.id) == [NoticeKind.GRANTED]


def test_restart_after_sessions_fell_due_revokes_them_at_once(
    moto_world: DemoWorld, store: SqlStore
):
    h = make_harness(moto_world, store)
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    restarted = make_harness(moto_world, store)
    restarted.services.sweep(T0 + timedelta(hours=3))  # bot was down when it fell due
    assert store.get(request.id).status == Status.EXPIRED
    assert not h.assigned(request)


def test_audit_events_are_append_only(h: Harness):
    h.submit()
    with pytest.raises(Exception, match="append-only"), h.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
    with pytest.raises(Exception, match="append-only"), h.store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'x'"))


def test_request_no_approver_could_be_reached_for_is_told_to_requester_and_admins(h: Harness):
    h.notifier.post_approval_request = lambda request, user, role=None: None  # nobody is in Slack
    request = h.submit()
    assert NoticeKind.APPROVERS_UNREACHABLE in h.notifier.kinds(request.id)
    assert h.notifier.alerts and "U02OSCAR" in h.notifier.alerts[0]
    assert "approvers_unreachable" in [e["action"] for e in h.store.audit_events(request.id)]


def test_owner_revokes_with_a_reason_and_the_access_ends_at_once(h: Harness):
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    revoked = h.services.revoke(request.id, OLGA, T0 + timedelta(minutes=10), "Incident over")
    assert revoked.status == Status.REVOKED
    assert revoked.session.ended_at == T0 + timedelta(minutes=10)
    assert revoked.session.end_reason == "revoked by Olga Owner: Incident over"
    assert not h.assigned(request)
    notice = [(k, d) for rid, k, d in h.notifier.notices if rid == request.id][-1]
    assert notice == (NoticeKind.REVOKED, "Incident over")
    assert h.store.audit_events(request.id)[-1]["action"] == "revoked"


def test_only_owners_and_admins_revoke(h: Harness):
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    sam = Person("U04SAM", "sam@example.com", "Sam SsoAdmin")
    with pytest.raises(UnknownRequest, match="no request #"):
        h.services.revoke(request.id, BOB, T0)  # may not even see it
    for viewer in (ALICE, sam):  # may see it, may not revoke it
        with pytest.raises(NotAuthorized, match="can't revoke"):
            h.services.revoke(request.id, viewer, T0)
    assert h.assigned(request)
    ada = Person("U05ADA", "ada@example.com", "Ada Admin")
    assert h.services.revoke(request.id, ada, T0).status == Status.REVOKED


def test_requester_releases_their_own_session_early(h: Harness):
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    with pytest.raises(NotAuthorized):
        h.services.release(request.id, OSCAR, T0)
    released = h.services.release(request.id, ALICE, T0 + timedelta(minutes=1))
    assert released.status == Status.REVOKED
    assert released.session.end_reason == "released by the requester"
    assert not h.assigned(request)
    with pytest.raises(AlreadyDecided, match="not active"):
        h.services.release(request.id, ALICE, T0 + timedelta(minutes=2))


def test_requester_cancels_a_pending_request_and_it_can_no_longer_be_approved(h: Harness):
    request = h.submit()
    with pytest.raises(NotAuthorized):
        h.services.cancel(request.id, OSCAR, T0)
    assert h.services.cancel(request.id, ALICE, T0).status == Status.CANCELLED
    with pytest.raises(AlreadyDecided):
        h.services.decide(request.id, OSCAR, True, T0)
    assert not h.assigned(request)


def test_a_revoke_aws_refuses_leaves_the_session_active_and_says_so(h: Harness):
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    h.aws.fail_unassign = AwsError("DeleteAccountAssignment: ThrottlingException")
    with pytest.raises(WorkflowError, match="did not remove the access yet"):
        h.services.revoke(request.id, OSCAR, T0)
    assert h.store.get(request.id).status == Status.ACTIVE
    assert h.notifier.alerts


def test_an_unconfirmed_grant_is_undone_so_no_access_outlives_the_failed_request(h: Harness):
    from workflows.assignments import AssignmentTimeout

    real_assign = h.aws.real.assign

    def assign_then_time_out(assignment: Assignment) -> None:
        real_assign(assignment)  # AWS did it, but never said SUCCEEDED in time
        raise AssignmentTimeout("CreateAccountAssignment still IN_PROGRESS after 300 s")

    h.aws.real.assign = assign_then_time_out
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    assert request.status == Status.FAILED  # no request id to follow: undone at once
    assert not h.assigned(request)


def test_a_grant_aws_has_not_finished_is_followed_until_it_succeeds(h: Harness):
    from workflows.assignments import AssignmentTimeout

    real_assign = h.aws.real.assign

    def assign_then_time_out(assignment: Assignment) -> None:
        real_assign(assignment)
        raise AssignmentTimeout("still IN_PROGRESS after 300 s", request_id="r-1")

    h.aws.real.assign = assign_then_time_out
    request = h.services.decide(h.submit().id, OSCAR, True, T0)
    assert request.status == Status.APPROVED and request.grant_operation == "r-1"
    assert h.assigned(request)  # nothing undone while AWS may still finish
    assert NoticeKind.GRANT_FAILED not in h.notifier.kinds(request.id)
    h.services.sweep(T0 + timedelta(minutes=5))
    assert h.store.get(request.id).status == Status.APPROVED
    h.aws.creation_state = "SUCCEEDED"
    h.services.sweep(T0 + timedelta(minutes=6))
    assert h.store.get(request.id).status == Status.ACTIVE
    assert h.notifier.kinds(request.id)[-1] == NoticeKind.GRANTED
    assert h.aws.assign_calls == 1  # followed with Describe, never written again


def test_sessions_due_together_are_removed_concurrently(h: Harness):
    import threading

    requests = [
        h.services.decide(h.submit(account=a).id, OLGA, True, T0) for a in ("Sandbox", "Production")
    ]
    both_inside = threading.Barrier(2, timeout=5)
    real_unassign = h.aws.real.unassign

    def unassign_together(assignment: Assignment) -> None:
        both_inside.wait()  # only passes if the two removals run at the same time
        real_unassign(assignment)

    h.aws.real.unassign = unassign_together
    h.services.sweep(T0 + timedelta(hours=1))
    for request in requests:
        assert h.store.get(request.id).status == Status.EXPIRED
        assert not h.assigned(request)


# --------------------------------------------------------------------------- the table binds


@pytest.fixture
def table():
    """The transition table, restored after a test takes an entry out."""
    with transitions_restored() as transitions:
        yield transitions


def test_a_cancel_the_table_does_not_allow_is_refused_in_words_and_changes_nothing(
    h: Harness, table
):
    request = h.submit()
    del table[(Status.PENDING, Event.CANCEL)]
    with pytest.raises(TransitionNotAllowed) as refused:
        h.services.cancel(request.id, ALICE, T0)
    # a WorkflowError: the listeners tell the person its sentence
    assert isinstance(refused.value, WorkflowError)
    assert str(refused.value) == "Can't cancel a request that is Pending"
    assert h.store.get(request.id).status == Status.PENDING


def test_an_approval_the_table_does_not_allow_grants_nothing(h: Harness, table):
    request = h.submit()
    del table[(Status.PENDING, Event.APPROVE)]
    with pytest.raises(TransitionNotAllowed, match="^Can't approve a request that is Pending$"):
        h.services.decide(request.id, OSCAR, True, T0)
    assert h.store.get(request.id).status == Status.PENDING
    assert h.aws.assign_calls == 0


def test_submissions_beyond_the_per_minute_limit_are_refused_until_a_minute_passed(
    moto_world: DemoWorld, store: SqlStore
) -> None:
    h = make_harness(moto_world, store, "limits: {requests_per_minute: 2}")
    first = h.submit()
    h.services.cancel(first.id, ALICE, T0)
    h.submit(now=T0 + timedelta(seconds=30))
    with pytest.raises(InvalidRequest) as refused:
        h.submit(now=T0 + timedelta(seconds=59))
    assert refused.value.errors == {
        "account": "You sent 2 requests in the last minute (at most 2). Try again in a minute."
    }
    assert len(store.with_status(Status.PENDING)) == 1
    # a minute after the first, one slot is free again
    h.submit(now=T0 + timedelta(seconds=61))
    assert len(store.with_status(Status.PENDING)) == 2
