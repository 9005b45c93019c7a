"""The AWS adapter as AWS behaves when it is busy: ``ConflictException`` while another
change to the account is under way, ``ServiceQuotaExceededException`` when the
outstanding operations are taken, creations that outlast the adapter's wait.

:class:`BusyAws` puts botocore event hooks on the adapter's own sso-admin client (moto
behind): writes answer ``IN_PROGRESS`` and finish ``latency`` seconds later (on the
test's clock) or when the test says, Describe...Status follows, and a write to an
account with an operation under way is answered ``ConflictException``, as AWS answers
it (IAM Identity Center quotas page: one change per account at a time). Time is a fake
clock the adapter's ``sleep`` advances, except where threads must really overlap.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sim.aws_world import DemoWorld
from storage.store import SqlStore
from tests.conftest import REGION, world_config
from tests.test_aws import Clock
from tests.test_services import ALICE, OSCAR, T0, RecordingNotifier
from workflows.assignments import Assignment, AwsError
from workflows.aws import IdentityCenter
from workflows.catalog import build_catalog
from workflows.domain import NoticeKind
from workflows.outbox import OutboxDispatcher
from workflows.services import Hooks, Services
from workflows.states import Status
from workflows.validation import RequestForm

WRITES = {
    "CreateAccountAssignment": ("AccountAssignmentCreationStatus", True),
    "DeleteAccountAssignment": ("AccountAssignmentDeletionStatus", False),
}
CONFLICT = "An operation on this account is in progress. Retry after it completes."


@dataclass
class _Http:
    status_code: int = 200


class BusyAws:
    """Hooks on an sso-admin client making moto's assignment writes behave like AWS's.

    ``latency``: seconds of ``clock`` an operation stays IN_PROGRESS (None: a creation
    until :meth:`finish`, a deletion not at all). ``errors``: codes answered to the next writes, in order.
    ``conflict_until``: writes before this ``clock`` time answer ConflictException
    (someone else's change). ``account_conflicts``: a write to an account with an
    operation IN_PROGRESS answers ConflictException.
    """

    def __init__(
        self, client: Any, clock: Callable[[], float], latency: float | None = 0.0
    ) -> None:
        self.clock = clock
        self.latency = latency
        self.errors: list[str] = []
        self.conflict_until = -1.0
        self.account_conflicts = True
        self.answered: Counter[str] = Counter()  # error codes answered
        self.writes: list[tuple[str, str]] = []  # (operation, account) let through
        self.most_accounts_busy = 0  # accounts with an operation IN_PROGRESS at once
        self.ops: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        events = client.meta.events
        for write in WRITES:
            events.register_first(f"before-call.sso-admin.{write}", self._refuse)
            events.register(f"after-call.sso-admin.{write}", self._wrote)
        for kind in ("Creation", "Deletion"):
            events.register(
                f"after-call.sso-admin.DescribeAccountAssignment{kind}Status", self._described
            )

    def finish(self, request_id: str, state: str, reason: str | None = None) -> None:
        with self._lock:
            self.ops[request_id]["final"] = (state, reason)

    def _state(self, op: dict[str, Any]) -> tuple[str, str | None]:
        if op["final"] is not None:
            return op["final"]
        if op["until"] is not None and self.clock() >= op["until"]:
            return ("SUCCEEDED", None)
        return ("IN_PROGRESS", None)

    def _busy(self) -> set[str]:
        return {o["account"] for o in self.ops.values() if self._state(o)[0] == "IN_PROGRESS"}

    def _refuse(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        account = _field(params, "TargetId")
        with self._lock:
            code = self.errors.pop(0) if self.errors else None
            if code is None and self.clock() < self.conflict_until:
                code = "ConflictException"
            if code is None and self.account_conflicts and account in self._busy():
                code = "ConflictException"
            if code is None:
                self.writes.append((model.name, account))
                return None
            self.answered[code] += 1
        error = {"Code": code, "Message": CONFLICT if code == "ConflictException" else code}
        return _Http(400), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    def _wrote(self, model: Any, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        key, create = WRITES[model.name]
        status = parsed[key]
        latency = self.latency if create or self.latency is not None else 0.0
        with self._lock:
            self.ops[status["RequestId"]] = {
                "account": status["TargetId"],
                "until": None if latency is None else self.clock() + latency,
                "final": None,
            }
            status["Status"] = self._state(self.ops[status["RequestId"]])[0]
            self.most_accounts_busy = max(self.most_accounts_busy, len(self._busy()))

    def _described(self, parsed: dict[str, Any], **_: Any) -> None:
        for key in ("AccountAssignmentCreationStatus", "AccountAssignmentDeletionStatus"):
            status = parsed.get(key)
            with self._lock:
                op = self.ops.get(status["RequestId"]) if status else None
                if op is not None:
                    status["Status"], reason = self._state(op)
                    if reason:
                        status["FailureReason"] = reason


def _field(params: dict[str, Any], name: str) -> str:
    """A field of the JSON body of a request about to be sent (``before-call``)."""
    return str(json.loads(params["body"]).get(name, ""))


def _adapter(clock: Clock | None = None, **kwargs: Any) -> IdentityCenter:
    timing: dict[str, Any] = {} if clock is None else {"sleep": clock.sleep, "clock": clock}
    return IdentityCenter(region=REGION, max_calls_per_second=None, **timing, **kwargs)


def _alice_in(world: DemoWorld, account: str = "Sandbox") -> Assignment:
    return Assignment(
        world.accounts[account],
        world.permission_sets["ReadOnlyAccess"],
        world.users["alice@example.com"],
    )


# --------------------------------------------------------------------------- conflicts


def test_a_conflict_for_100_seconds_is_waited_out(moto_world: DemoWorld) -> None:
    clock = Clock()
    ic = _adapter(clock)
    aws = BusyAws(ic._client("sso-admin"), clock)
    aws.conflict_until = 100.0  # someone else's change to Sandbox takes 100 s

    ic.assign(_alice_in(moto_world))

    assert ic.has_assignment(_alice_in(moto_world))
    assert aws.answered["ConflictException"] >= 6  # far more than the old 5 attempts
    assert 100.0 <= clock.now < 120.0
    assert max(clock.sleeps) <= 20.0  # backoff capped at backoff_cap


def test_a_conflict_beyond_the_retry_time_fails_saying_why(moto_world: DemoWorld) -> None:
    clock = Clock()
    ic = _adapter(clock)
    aws = BusyAws(ic._client("sso-admin"), clock)
    aws.conflict_until = float("inf")

    with pytest.raises(AwsError) as failed:
        ic.assign(_alice_in(moto_world))

    message = str(failed.value)
    assert failed.value.code == "ConflictException"
    assert message.startswith("sso-admin CreateAccountAssignment: ConflictException")
    assert f"account {moto_world.accounts['Sandbox']} was still in progress" in message
    assert "after 120 s of retries" in message
    assert clock.now == 120.0  # the retries end at conflict_retry_seconds, no later
    assert not ic.has_assignment(_alice_in(moto_world))


def test_the_conflict_retry_time_is_configurable(moto_world: DemoWorld) -> None:
    clock = Clock()
    ic = _adapter(clock, conflict_retry_seconds=30.0)
    aws = BusyAws(ic._client("sso-admin"), clock)
    aws.conflict_until = float("inf")
    with pytest.raises(AwsError, match="after 30 s of retries"):
        ic.assign(_alice_in(moto_world))
    with pytest.raises(ValueError):
        _adapter(conflict_retry_seconds=-1)


def test_service_quota_exceeded_on_a_write_is_retried_later(moto_world: DemoWorld) -> None:
    clock = Clock()
    ic = _adapter(clock)
    aws = BusyAws(ic._client("sso-admin"), clock)
    aws.errors = ["ServiceQuotaExceededException"] * 3

    ic.assign(_alice_in(moto_world))

    assert aws.answered["ServiceQuotaExceededException"] == 3
    assert ic.has_assignment(_alice_in(moto_world))
    assert len(clock.sleeps) == 3 and clock.sleeps[1] > clock.sleeps[0] / 2  # backing off


def test_throttling_keeps_its_count_of_attempts(moto_world: DemoWorld) -> None:
    clock = Clock()
    ic = _adapter(clock, write_attempts=3)
    aws = BusyAws(ic._client("sso-admin"), clock)
    aws.errors = ["ThrottlingException"] * 3
    with pytest.raises(AwsError, match="ThrottlingException"):
        ic.assign(_alice_in(moto_world))
    assert aws.answered["ThrottlingException"] == 3


# --------------------------------------------------------------------------- one per account


def _run_together(fn: Callable[[Assignment], None], items: list[Assignment]) -> list[Any]:
    raised: list[Any] = []

    def one(item: Assignment) -> None:
        try:
            fn(item)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            raised.append(exc)

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return raised


def _people(world: DemoWorld, account: str, n: int, first: int = 0) -> list[Assignment]:
    return [
        Assignment(
            world.accounts[account],
            world.permission_sets["ReadOnlyAccess"],
            f"90676a4c-e0b1-70cd-4321-{first + i:012d}",
        )
        for i in range(n)
    ]


def test_grants_for_one_account_queue_while_two_accounts_run_in_parallel(
    moto_world: DemoWorld,
) -> None:
    ic = _adapter()  # real time: the threads must really overlap
    aws = BusyAws(ic._client("sso-admin"), time.monotonic, latency=0.3)
    targets = _people(moto_world, "Sandbox", 2) + _people(moto_world, "Production", 2, 10)

    raised = _run_together(ic.assign, targets)

    assert raised == []
    assert all(ic.has_assignment(a) for a in targets)
    # nobody collided with a change of its own account, so none was answered Conflict
    assert aws.answered["ConflictException"] == 0
    assert len(aws.writes) == 4
    assert aws.most_accounts_busy == 2  # Sandbox and Production at the same time


def test_a_write_queued_behind_its_account_holds_no_outstanding_slot(
    moto_world: DemoWorld,
) -> None:
    ic = _adapter(max_outstanding=2)
    aws = BusyAws(ic._client("sso-admin"), time.monotonic, latency=None)
    first, second = _people(moto_world, "Sandbox", 2)
    (other,) = _people(moto_world, "Production", 1, 10)
    sandbox = moto_world.accounts["Sandbox"]
    threads = [threading.Thread(target=ic.assign, args=(first,))]
    threads[0].start()
    _until(lambda: len(aws.ops) == 1)  # the first Sandbox grant is under way in AWS
    threads.append(threading.Thread(target=ic.assign, args=(second,)))
    threads[1].start()
    _until(lambda: ic._turns.queued(sandbox) == 2)  # the second waits for Sandbox's turn
    threads.append(threading.Thread(target=ic.assign, args=(other,)))
    threads[2].start()
    # Production gets the second slot while Sandbox's second grant waits its turn
    _until(lambda: len(aws.ops) == 2)
    assert {op["account"] for op in aws.ops.values()} == {sandbox, other.account_id}
    for request_id in list(aws.ops):
        aws.finish(request_id, "SUCCEEDED")
    _until(lambda: len(aws.ops) == 3)
    aws.finish(next(r for r in aws.ops if aws.ops[r]["final"] is None), "SUCCEEDED")
    for thread in threads:
        thread.join(30)
    assert aws.answered["ConflictException"] == 0
    assert ic._turns.queued(sandbox) == 0 and len(ic._turns) == 0


def _until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# --------------------------------------------------------------------------- pending grants


@dataclass
class Pending:
    services: Services
    store: SqlStore
    notifier: RecordingNotifier
    ic: IdentityCenter
    aws: BusyAws
    world: DemoWorld

    def approved(self):
        form = RequestForm(
            self.world.accounts["Sandbox"], "ReadOnlyAccess", "1h", "Investigating OPS-1 deploys"
        )
        request = self.services.submit_request(ALICE, form, T0)
        return self.services.decide(request.id, OSCAR, True, T0)

    def assigned(self) -> bool:
        return self.ic.has_assignment(_alice_in(self.world))

    def actions(self, request_id: int) -> list[str]:
        return [e["action"] for e in self.store.audit_events(request_id)]


@pytest.fixture
def pending(moto_world: DemoWorld, store: SqlStore) -> Pending:
    """Services on moto whose creations stay IN_PROGRESS until the test finishes them;
    the adapter waits 10 s of its fake clock for each."""
    clock = Clock()
    ic = _adapter(clock, poll_interval=1.0, poll_timeout=10.0)
    aws = BusyAws(ic._client("sso-admin"), clock, latency=None)
    config = world_config(moto_world)
    catalog = build_catalog(config, ic.permission_set_arns(), ic.account_names())
    notifier = RecordingNotifier()
    outbox = OutboxDispatcher(
        store, notifier, admins=lambda: ["U05ADA"], holder="test", clock=lambda: datetime.now(UTC)
    )
    services = Services(config, catalog, store, ic, hooks=Hooks(kick=outbox.deliver_all))
    return Pending(services, store, notifier, ic, aws, moto_world)


def _operation(p: Pending) -> str:
    (request_id,) = [r for r, op in p.aws.ops.items() if op["final"] is None]
    return request_id


def test_a_creation_aws_has_not_finished_stays_approved_then_goes_active(p: Pending) -> None:
    request = p.approved()
    operation = _operation(p)

    assert request.status == Status.APPROVED  # not Failed, nothing undone
    assert request.grant_operation == operation
    assert p.assigned()
    pending_events = [e for e in p.store.audit_events(request.id) if e["action"] == "grant_pending"]
    assert [e["detail"]["aws_request_id"] for e in pending_events] == [operation]
    assert NoticeKind.GRANT_FAILED not in p.notifier.kinds(request.id)
    assert p.notifier.kinds(request.id)[-1] == NoticeKind.GRANT_PENDING  # told it's under way

    p.services.sweep(T0 + timedelta(minutes=1))  # AWS still working: nothing changes
    assert p.store.get(request.id).status == Status.APPROVED
    assert p.notifier.kinds(request.id).count(NoticeKind.GRANT_PENDING) == 1  # told once
    p.aws.finish(operation, "SUCCEEDED")
    p.services.sweep(T0 + timedelta(minutes=2))

    active = p.store.get(request.id)
    assert active.status == Status.ACTIVE
    assert active.session.granted_at == T0 + timedelta(minutes=2)
    assert p.notifier.kinds(request.id)[-1] == NoticeKind.GRANTED
    assert NoticeKind.GRANT_FAILED not in p.notifier.kinds(request.id)
    assert p.actions(request.id)[-2:] == ["grant_pending", "granted"]


def test_a_pending_creation_aws_fails_makes_the_request_failed_and_told(p: Pending) -> None:
    request = p.approved()
    p.aws.finish(_operation(p), "FAILED", "Received a 404 status error: no role")
    p.services.sweep(T0 + timedelta(minutes=1))

    failed = p.store.get(request.id)
    assert failed.status == Status.FAILED
    (notice,) = [d for r, k, d in p.notifier.notices if k == NoticeKind.GRANT_FAILED]
    assert "no role" in notice
    assert p.actions(request.id)[-2:] == ["grant_pending", "grant_failed"]


def test_a_pending_creation_is_given_up_and_undone_after_the_cap(p: Pending) -> None:
    request = p.approved()
    p.aws.account_conflicts = False  # let the undo through while the creation runs
    p.services.sweep(T0 + timedelta(minutes=59))
    assert p.store.get(request.id).status == Status.APPROVED

    p.services.sweep(T0 + timedelta(minutes=61))

    assert p.store.get(request.id).status == Status.FAILED
    assert not p.assigned()  # what AWS may still have done is removed
    (notice,) = [d for r, k, d in p.notifier.notices if k == NoticeKind.GRANT_FAILED]
    assert "had not finished" in notice and "61 minutes" in notice


def test_the_pending_cap_comes_from_the_config(moto_world: DemoWorld, store: SqlStore) -> None:
    config = world_config(moto_world, "identity_center:\n  pending_grant_timeout: 2h\n")
    services = Services(config, build_catalog(config, {}, {}), store, _adapter())
    assert services.granting.pending_timeout == timedelta(hours=2)


@pytest.fixture
def p(pending: Pending) -> Pending:
    return pending
