"""Assignment operations polled together (workflows.aws.operations, IdentityCenter._wait).

moto finishes every assignment change at once and does not implement
``ListAccountAssignment{Creation,Deletion}Status``; :class:`AsyncAws` makes the changes
asynchronous like AWS's (``IN_PROGRESS`` for ``latency`` seconds, or ``FAILED`` for
chosen principals) and answers the list calls, with botocore event hooks on the
adapter's own client.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

from sim.aws_world import DemoWorld
from workflows.assignments import Assignment, AssignmentFailed
from workflows.aws import IdentityCenter
from workflows.aws.operations import ListUnavailable, OperationBoard

REGION = "us-east-1"
KINDS = {
    "CreateAccountAssignment": ("AccountAssignmentCreationStatus", "Creation"),
    "DeleteAccountAssignment": ("AccountAssignmentDeletionStatus", "Deletion"),
}


class _Http:
    status_code = 200


class AsyncAws:
    """Hooks on an sso-admin client: writes answer IN_PROGRESS for ``latency`` s
    (``FAILED`` for principals in ``failing``), Describe...Status follows, and
    List...Status is answered (unless ``listable`` is False: then moto's own answer,
    "not implemented", comes back)."""

    def __init__(self, client: Any, latency: float, listable: bool = True) -> None:
        self.latency = latency
        self.failing: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.issued: dict[str, float] = {}  # principal -> when its write was sent
        self._ops: dict[str, dict[str, Any]] = {}  # request id -> kind, until, failed
        self._lock = threading.Lock()
        events = client.meta.events
        events.register_first("before-parameter-build.sso-admin.*", self._count)
        for write in KINDS:
            events.register(f"after-call.sso-admin.{write}", self._wrote)
        for kind in ("Creation", "Deletion"):
            events.register(
                f"after-call.sso-admin.DescribeAccountAssignment{kind}Status", self._described
            )
            if listable:
                events.register_first(
                    f"before-call.sso-admin.ListAccountAssignment{kind}Status", self._list
                )

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1
            if model.name in KINDS:
                self.issued[params["PrincipalId"]] = time.monotonic()

    def _wrote(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        key, kind = KINDS[model.name]
        status = parsed[key]
        failed = status.get("PrincipalId") in self.failing
        with self._lock:
            self._ops[status["RequestId"]] = {
                "kind": kind,
                "until": time.monotonic() + self.latency,
                "failed": failed,
            }
        status["Status"] = "IN_PROGRESS"

    def _state(self, request_id: str) -> str | None:
        op = self._ops.get(request_id)
        if op is None:
            return None
        if op["until"] > time.monotonic():
            return "IN_PROGRESS"
        return "FAILED" if op["failed"] else "SUCCEEDED"

    def _described(self, parsed: dict[str, Any], **_: Any) -> None:
        for key in ("AccountAssignmentCreationStatus", "AccountAssignmentDeletionStatus"):
            status = parsed.get(key)
            if status is not None:
                with self._lock:
                    state = self._state(status["RequestId"])
                if state is not None:
                    status["Status"] = state
                    if state == "FAILED":
                        status["FailureReason"] = "Received a 404 status error: no role"

    def _list(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        kind = "Creation" if "Creation" in model.name else "Deletion"
        wanted = json.loads(params.get("body") or b"{}").get("Filter", {}).get("Status")
        with self._lock:
            rows = [
                {"RequestId": request_id, "Status": self._state(request_id)}
                for request_id, op in self._ops.items()
                if op["kind"] == kind
            ]
        rows = [row for row in rows if wanted in (None, row["Status"])]
        return _Http(), {f"AccountAssignments{kind}Status": rows}


def _assignments(world: DemoWorld, n: int) -> list[Assignment]:
    """``n`` assignments of ReadOnlyAccess to distinct principals, each in its own
    account (the adapter changes one account at a time; moto checks neither that the
    principal nor that the account exists)."""
    return [
        Assignment(
            f"{210000000000 + i}",
            world.permission_sets["ReadOnlyAccess"],
            f"90676a4c-e0b1-70cd-1234-{i:012d}",
        )
        for i in range(n)
    ]


def _together(fn: Any, items: list[Any]) -> tuple[dict[Any, float], dict[Any, BaseException]]:
    """Run ``fn(item)`` for every item at once; when each returned, and what raised."""
    returned: dict[Any, float] = {}
    raised: dict[Any, BaseException] = {}

    def one(item: Any) -> None:
        try:
            fn(item)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            raised[item] = exc
        returned[item] = time.monotonic()

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return returned, raised


def _listed(ic: IdentityCenter, world: DemoWorld, targets: list[Assignment]) -> set[str]:
    return {
        a.principal_id
        for target in targets
        for a in ic.account_assignments(target.account_id, target.permission_set_arn)
    }


def test_many_deletions_are_polled_together_and_free_their_slots_early(
    moto_world: DemoWorld,
) -> None:
    ic = IdentityCenter(region=REGION, max_outstanding=4, max_calls_per_second=None)
    targets = _assignments(moto_world, 8)
    for assignment in targets:
        ic.assign(assignment)
    aws = AsyncAws(ic._client("sso-admin"), latency=0.3)

    returned, raised = _together(ic.unassign, targets)

    assert raised == {}
    assert _listed(ic, moto_world, targets) & {a.principal_id for a in targets} == set()
    assert aws.calls["DeleteAccountAssignment"] == 8
    # one list call covers every operation under way; each is confirmed with one
    # Describe once it left the list, and the first, while it was alone, may have
    # polled with Describe (at 0, 0.25 and 0.5 s at most)
    assert aws.calls["ListAccountAssignmentDeletionStatus"] >= 1
    assert aws.calls["DescribeAccountAssignmentDeletionStatus"] <= 8 + 3
    # with 4 slots, the 5th to 8th deletions were sent as soon as earlier operations
    # left the running list, before their outcome was even confirmed
    issued = sorted(aws.issued.values())
    assert issued[4] < min(returned.values())


def test_a_failed_creation_among_many_raises_with_its_reason(moto_world: DemoWorld) -> None:
    ic = IdentityCenter(region=REGION, max_calls_per_second=None)
    targets = _assignments(moto_world, 5)
    aws = AsyncAws(ic._client("sso-admin"), latency=0.2)
    aws.failing.add(targets[2].principal_id)

    _, raised = _together(ic.assign, targets)

    assert list(raised) == [targets[2]]
    failure = raised[targets[2]]
    assert isinstance(failure, AssignmentFailed)
    assert "no role" in str(failure)
    assert aws.calls["ListAccountAssignmentCreationStatus"] >= 1
    # one Describe each settled them, and a first, lone one may have polled itself
    # (at most 3 times)
    assert aws.calls["DescribeAccountAssignmentCreationStatus"] <= 5 + 3


def test_without_the_list_call_each_operation_polls_alone(moto_world: DemoWorld) -> None:
    ic = IdentityCenter(region=REGION, max_calls_per_second=None)
    targets = _assignments(moto_world, 6)
    for assignment in targets:
        ic.assign(assignment)
    aws = AsyncAws(ic._client("sso-admin"), latency=0.2, listable=False)

    _, raised = _together(ic.unassign, targets)

    assert raised == {}
    assert _listed(ic, moto_world, targets) & {a.principal_id for a in targets} == set()
    assert ic._boards is not None and not ic._boards[False].available
    assert aws.calls["DescribeAccountAssignmentDeletionStatus"] >= 6


# --------------------------------------------------------------------------- the board alone


class FakeOps:
    """Request id -> seconds from now until it finishes; failed ids; lagging lists."""

    def __init__(self, finish: dict[str, float], failed: set[str] = frozenset()) -> None:
        start = time.monotonic()
        self.until = {rid: start + after for rid, after in finish.items()}
        self.failed = set(failed)
        self.hidden: set[str] = set()  # never shown by the running list
        self.verdicts: dict[str, str] = {}  # what Describe says, whatever the list says
        self.calls: Counter[str] = Counter()

    def running(self) -> set[str]:
        self.calls["list running"] += 1
        now = time.monotonic()
        return {r for r, t in self.until.items() if t > now and r not in self.hidden}

    def describe(self, request_id: str) -> dict[str, Any]:
        self.calls["describe"] += 1
        if request_id in self.verdicts:
            return {"RequestId": request_id, "Status": self.verdicts[request_id]}
        if self.until[request_id] > time.monotonic():
            return {"RequestId": request_id, "Status": "IN_PROGRESS"}
        if request_id in self.failed:
            return {"RequestId": request_id, "Status": "FAILED", "FailureReason": "nope"}
        return {"RequestId": request_id, "Status": "SUCCEEDED"}


def _board(ops: FakeOps, **kwargs: Any) -> OperationBoard:
    return OperationBoard(
        kind="deletion",
        list_running=ops.running,
        describe=ops.describe,
        min_interval=0.01,
        confirm_after=0.02,
        tick=0.005,
        **kwargs,
    )


def _wait_all(board: OperationBoard, ids: list[str], timeout: float = 10.0) -> dict[str, Any]:
    results: dict[str, Any] = {}
    released: Counter[str] = Counter()

    def one(rid: str) -> None:
        def release() -> None:
            released[rid] += 1

        results[rid] = board.wait(rid, release, timeout)

    threads = [threading.Thread(target=one, args=(rid,)) for rid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    results["released"] = released
    return results


def test_board_settles_every_operation_with_one_describe_each() -> None:
    ops = FakeOps({f"r{i}": 0.05 + 0.02 * i for i in range(10)}, failed={"r3"})
    board = _board(ops)
    got = _wait_all(board, [f"r{i}" for i in range(10)])
    assert {rid: got[rid]["Status"] for rid in ops.until} == {
        **{f"r{i}": "SUCCEEDED" for i in range(10)},
        "r3": "FAILED",
    }
    assert got["r3"]["FailureReason"] == "nope"  # read with Describe
    assert ops.calls["describe"] == 10  # dropping off the list is not success
    assert got["released"] == Counter({f"r{i}": 1 for i in range(10)})
    assert len(board) == 0


def test_a_describe_saying_failed_wins_over_the_list() -> None:
    # both leave the running list; Describe says "b" FAILED (no FAILED list asked)
    ops = FakeOps({"a": 0.03, "b": 0.03})
    ops.verdicts["b"] = "FAILED"
    got = _wait_all(_board(ops), ["a", "b"])
    assert got["a"]["Status"] == "SUCCEEDED"
    assert got["b"]["Status"] == "FAILED"


def test_an_operation_describe_still_calls_in_progress_goes_back_to_its_thread() -> None:
    ops = FakeOps({"a": 0.03})
    ops.verdicts["a"] = "IN_PROGRESS"  # the list lost it, AWS has not finished it
    got = _wait_all(_board(ops), ["a"])
    assert got["a"] is None  # its own thread keeps polling it with Describe


def test_board_hands_back_an_operation_the_list_never_shows() -> None:
    ops = FakeOps({"seen": 0.05, "unseen": 0.05})
    ops.hidden.add("unseen")
    got = _wait_all(_board(ops), ["seen", "unseen"])
    assert got["seen"]["Status"] == "SUCCEEDED"
    assert got["unseen"] is None  # its own thread polls it with Describe
    assert got["released"]["unseen"] == 0  # and its slot is still its own to give back


def test_board_turns_itself_off_when_the_list_is_unavailable() -> None:
    ops = FakeOps({"a": 0.05, "b": 0.05})

    def refused() -> set[str]:
        raise ListUnavailable("AccessDeniedException")

    board = OperationBoard(kind="deletion", list_running=refused, describe=ops.describe)
    got = _wait_all(board, ["a", "b"])
    assert got["a"] is None and got["b"] is None
    assert not board.available
    assert board.wait("c", lambda: None, 1.0) is None  # later waiters poll alone at once


def test_board_gives_up_after_the_timeout() -> None:
    ops = FakeOps({"slow": 60.0})
    got = _wait_all(_board(ops), ["slow"], timeout=0.1)
    assert got["slow"] == {"RequestId": "slow", "Status": "IN_PROGRESS"}


def test_board_hands_everyone_back_when_the_list_keeps_failing() -> None:
    ops = FakeOps({"a": 0.05, "b": 0.05})

    def broken() -> set[str]:
        raise RuntimeError("InternalServerException")

    board = OperationBoard(
        kind="deletion",
        list_running=broken,
        describe=ops.describe,
        min_interval=0.01,
        tick=0.005,
    )
    got = _wait_all(board, ["a", "b"])
    assert got["a"] is None and got["b"] is None  # each polls itself with Describe
    assert board.available  # a later batch tries the list again
