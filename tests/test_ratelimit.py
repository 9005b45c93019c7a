"""Client-side pacing of Identity Center calls (workflows.aws.ratelimit), its wiring into the
AWS adapter and the config, the adapter's status polling and outstanding-operation cap,
``jitbot bench``, and the mass-expiry benchmark's arithmetic.

Time is faked wherever waits are checked: the bucket and the adapter take a clock and a
sleep, so tests move time instead of sleeping, and nothing here asserts on wall time.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws

from bot.cli import main as jitbot
from bot.runtime import make_identity_center
from sim.aws_world import DemoWorld, seed_demo_world
from workflows.aws import Assignment, AssignmentTimeout, IdentityCenter, ratelimit
from workflows.aws.ratelimit import TokenBucket, attach, identity_center_limiter
from workflows.config import ConfigError, parse_config

REGION = "us-east-1"
MINIMAL = 'accounts:\n  - id: "111111111111"\n'


class Clock:
    """Fake monotonic clock; ``sleep`` records the wait and (``advance``) moves time."""

    def __init__(self, advance: bool = True) -> None:
        self.now = 0.0
        self.advance = advance
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self.advance:
                self.now += seconds


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


@pytest.fixture
def world(aws_env: None) -> Any:
    with mock_aws():
        yield seed_demo_world(region=REGION)


# --------------------------------------------------------------------------- the bucket


def test_calls_are_spaced_to_the_rate_after_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(10, 2, clock=clock, sleep=clock.sleep)
    passed = []
    for _ in range(5):
        bucket.acquire()
        passed.append(round(clock.now, 9))
    assert passed == [0.0, 0.0, 0.1, 0.2, 0.3]  # two at once, then one per 1/rate s
    assert bucket.acquired == 5 and bucket.waited == pytest.approx(0.3)


def test_an_idle_bucket_refills_only_up_to_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(4, 3, clock=clock, sleep=clock.sleep)
    clock.now = 100.0
    assert bucket.available() == 3
    waits = [bucket.acquire() for _ in range(4)]
    assert waits == [0.0, 0.0, 0.0, 0.25]


def test_concurrent_callers_each_get_their_own_slot_in_call_order() -> None:
    clock = Clock(advance=False)  # nobody's sleep moves time: waits are reservations
    bucket = TokenBucket(20, 5, clock=clock, sleep=clock.sleep)
    threads = [
        threading.Thread(target=lambda: [bucket.acquire() for _ in range(20)]) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 100 calls at t=0: 5 from the burst, then one slot every 0.05 s, none shared
    assert sorted(round(w, 9) for w in clock.sleeps) == [round(k * 0.05, 9) for k in range(1, 96)]
    assert bucket.available() == pytest.approx(-95)  # the queue, in tokens


def test_bucket_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(5, 0.5)
    assert TokenBucket(7).burst == 7


def test_identity_center_limiter_defaults_to_the_quota() -> None:
    limiter = identity_center_limiter()
    assert limiter is not None
    # 15 of AWS's 20 calls/s, the rest left to the console and other tools
    assert limiter.rate == ratelimit.IDENTITY_CENTER_CALLS_PER_SECOND == 15
    assert limiter.burst == 7.5  # half a second's worth, see its docstring
    assert identity_center_limiter(0) is None
    assert identity_center_limiter(None) is None
    assert identity_center_limiter(1).burst == 1
    with pytest.raises(ValueError):
        identity_center_limiter(-1)


# --------------------------------------------------------------------------- the hook


def _recording_bucket(rate: float = 1.0, burst: float = 1.0) -> tuple[TokenBucket, Clock]:
    clock = Clock(advance=False)
    return TokenBucket(rate, burst, clock=clock, sleep=clock.sleep), clock


def test_hook_paces_every_call_of_a_real_client(world: DemoWorld) -> None:
    bucket, clock = _recording_bucket()
    sso = boto3.client("sso-admin", region_name=REGION)
    attach(sso, bucket)
    attach(sso, bucket)  # twice is once
    for _ in range(3):
        sso.list_instances()
    assert bucket.acquired == 3
    assert clock.sleeps == [1.0, 2.0]  # the 2nd and 3rd call waited for their token


def test_hook_takes_a_token_per_page(world: DemoWorld) -> None:
    bucket, _ = _recording_bucket(rate=100, burst=100)
    sso = boto3.client("sso-admin", region_name=REGION)
    attach(sso, bucket)
    pages = list(
        sso.get_paginator("list_permission_sets").paginate(
            InstanceArn=world.instance_arn, PaginationConfig={"PageSize": 1}
        )
    )
    assert len(pages) >= 2
    assert bucket.acquired == len(pages)


def test_hook_takes_a_token_per_botocore_retry(
    world: DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.retries.standard

    monkeypatch.setattr(
        botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0
    )
    bucket, _ = _recording_bucket(rate=100, burst=100)
    sso = boto3.client(
        "sso-admin",
        region_name=REGION,
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}),
    )
    attach(sso, bucket)
    answered: list[int] = []

    def throttle_first(request: Any, **_: Any) -> AWSResponse | None:
        answered.append(1)
        if len(answered) > 1:
            return None  # moto answers
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})

        class Raw:
            def stream(self, **_: Any):
                yield body.encode()

        return AWSResponse(request.url, 400, {}, Raw())

    sso.meta.events.register_first("before-send.sso-admin.ListInstances", throttle_first)
    result = sso.list_instances()
    assert result["ResponseMetadata"]["RetryAttempts"] == 1
    assert bucket.acquired == 2  # the first attempt and botocore's retry


def test_adapter_shares_one_limiter_between_sso_admin_and_identitystore(
    world: DemoWorld,
) -> None:
    bucket, _ = _recording_bucket(rate=1000, burst=1000)
    ic = IdentityCenter(region=REGION, limiter=bucket, sleep=lambda s: None)
    assert ic.instance_arn == world.instance_arn  # sso-admin ListInstances
    assert bucket.acquired == 1
    assert ic.find_user_id("alice@example.com") == world.users["alice@example.com"]
    assert bucket.acquired == 2  # identitystore GetUserId
    ic.account_names()  # organizations: a quota of its own, not paced
    assert bucket.acquired == 2


def test_adapter_limit_is_configurable_and_can_be_off() -> None:
    assert IdentityCenter(region=REGION).limiter.rate == 15
    assert IdentityCenter(region=REGION)._outstanding.size == 15  # AWS's 15 outstanding
    assert IdentityCenter(region=REGION, max_calls_per_second=5).limiter.rate == 5
    assert IdentityCenter(region=REGION, max_calls_per_second=0).limiter is None
    assert IdentityCenter(region=REGION, max_calls_per_second=None).limiter is None


# --------------------------------------------------------------------------- config


def test_config_limit_defaults_to_the_quota() -> None:
    config = parse_config(MINIMAL + "identity_center:\n  portal_url: https://x.example/start\n")
    assert config.identity_center is not None
    assert config.identity_center.max_calls_per_second == 15
    assert config.identity_center.max_outstanding_operations == 15
    assert parse_config(MINIMAL).identity_center is None
    assert make_identity_center(parse_config(MINIMAL)).limiter.rate == 15
    assert make_identity_center(parse_config(MINIMAL))._outstanding.size == 15


@pytest.mark.parametrize(
    "value, expected", [("12", 12.0), ("2.5", 2.5), ("0", None), ("null", None)]
)
def test_config_limit_values(value: str, expected: float | None) -> None:
    config = parse_config(MINIMAL + f"identity_center:\n  max_calls_per_second: {value}\n")
    assert config.identity_center is not None
    assert config.identity_center.max_calls_per_second == expected
    aws = make_identity_center(config)
    assert (aws.limiter.rate if aws.limiter else None) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("-1", "must be 0 (no limit) or more calls per second, got -1"),
        ("fast", "must be a number of calls per second (e.g. 20), or 0 for no limit, got text"),
        ("yes", "got true/false"),
        (".inf", "must be 0 (no limit) or more"),
    ],
)
def test_config_limit_is_validated(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + f"identity_center:\n  max_calls_per_second: {value}\n")
    (problem,) = caught.value.problems
    assert problem.startswith("identity_center.max_calls_per_second: ")
    assert message in problem


# --------------------------------------------------------------------------- polling


def _as_in_progress(client: Any, operation: str, key: str) -> None:
    """Make moto's answer to the write say IN_PROGRESS, like AWS's (moto says SUCCEEDED)."""

    def rewrite(parsed: dict[str, Any], **_: Any) -> None:
        parsed[key]["Status"] = "IN_PROGRESS"

    client.meta.events.register(f"after-call.sso-admin.{operation}", rewrite)


def _count(client: Any, operation: str) -> list[str]:
    calls: list[str] = []
    client.meta.events.register(
        f"before-call.sso-admin.{operation}", lambda **_: calls.append(operation)
    )
    return calls


def test_wait_polls_at_once_when_the_operation_is_already_done(world: DemoWorld) -> None:
    clock = Clock()
    # a limiter with room for four calls in a row (ListInstances, a write, a poll, a
    # write) at more than half its burst: the quota is idle
    ic = IdentityCenter(region=REGION, sleep=clock.sleep, clock=clock, max_calls_per_second=20)
    sso = ic._client("sso-admin")
    _as_in_progress(sso, "CreateAccountAssignment", "AccountAssignmentCreationStatus")
    _as_in_progress(sso, "DeleteAccountAssignment", "AccountAssignmentDeletionStatus")
    creations = _count(sso, "DescribeAccountAssignmentCreationStatus")
    deletions = _count(sso, "DescribeAccountAssignmentDeletionStatus")
    a = Assignment(
        world.accounts["Sandbox"],
        world.permission_sets["ReadOnlyAccess"],
        world.users["alice@example.com"],
    )
    ic.assign(a)
    assert creations == ["DescribeAccountAssignmentCreationStatus"]  # one poll: SUCCEEDED
    ic.unassign(a)
    assert deletions == ["DescribeAccountAssignmentDeletionStatus"]
    assert clock.sleeps == []  # neither waited before its first poll


INSTANCE = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
PS = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef"
ACCOUNT = "111122223333"
USER = "90676a4c-e0b1-70cd-1234-0123456789ab"
REQ = "0d6e3b8a-8c4e-4a3e-9a59-3f7b5e0c1a2b"
A = Assignment(ACCOUNT, PS, USER)


def _stubbed(limiter: TokenBucket | None, clock: Clock, **kwargs: Any) -> tuple[Any, Stubber]:
    session = boto3.session.Session(
        aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION
    )
    client = session.client("sso-admin", config=botocore.config.Config(retries={"max_attempts": 1}))
    ic = IdentityCenter(
        instance_arn=INSTANCE,
        identity_store_id="d-1234567890",
        clients={"sso-admin": client},
        sleep=clock.sleep,
        clock=clock,
        limiter=limiter,
        **kwargs,
    )
    return ic, Stubber(client)


def _status(state: str) -> dict[str, Any]:
    return {"Status": state, "RequestId": REQ}


def _expect_create_then(stub: Stubber, *states: str) -> None:
    stub.add_response(
        "create_account_assignment", {"AccountAssignmentCreationStatus": _status("IN_PROGRESS")}
    )
    for state in states:
        stub.add_response(
            "describe_account_assignment_creation_status",
            {"AccountAssignmentCreationStatus": _status(state)},
            {"InstanceArn": INSTANCE, "AccountAssignmentCreationRequestId": REQ},
        )


def test_wait_backs_off_to_one_second_when_the_quota_is_idle() -> None:
    clock = Clock()
    ic, stub = _stubbed(TokenBucket(20, 10, clock=clock, sleep=clock.sleep), clock)
    with stub:
        _expect_create_then(stub, *["IN_PROGRESS"] * 5, "SUCCEEDED")
        ic.assign(A)
        stub.assert_no_pending_responses()
    # polls at 0, 0.25, 0.5, 1, 2, 3 s after the write
    assert clock.sleeps == [0.25, 0.25, 0.5, 1.0, 1.0]


def test_wait_skips_the_early_polls_while_the_quota_is_busy() -> None:
    clock = Clock()
    busy = TokenBucket(20, 10, clock=clock, sleep=lambda s: None)
    for _ in range(40):  # 30 calls queued beyond the bucket: a mass expiry under way
        busy.acquire()
    ic, stub = _stubbed(busy, clock)
    with stub:
        _expect_create_then(stub, "IN_PROGRESS", "SUCCEEDED")
        ic.assign(A)
        stub.assert_no_pending_responses()
    # no poll before 1 s: the first is at 1 s, the next a second later
    assert clock.sleeps == [0.25, 0.25, 0.5, 1.0]


def test_wait_skips_the_early_polls_while_most_slots_are_taken() -> None:
    clock = Clock()
    ic, stub = _stubbed(TokenBucket(20, 10, clock=clock, sleep=clock.sleep), clock)
    ic._in_flight = 7  # seven other changes under way; this one makes eight of fifteen
    with stub:
        _expect_create_then(stub, "SUCCEEDED")
        ic.assign(A)
        stub.assert_no_pending_responses()
    assert clock.sleeps == [0.25, 0.25, 0.5]  # the one poll, at 1 s
    assert ic._in_flight == 7


def test_wait_without_a_limiter_polls_early() -> None:
    clock = Clock()
    ic, stub = _stubbed(None, clock, max_calls_per_second=None)
    with stub:
        _expect_create_then(stub, "IN_PROGRESS", "SUCCEEDED")
        ic.assign(A)
    assert clock.sleeps == [0.25]


def test_wait_keeps_its_timeout() -> None:
    clock = Clock()
    ic, stub = _stubbed(None, clock, max_calls_per_second=None, poll_timeout=2.5)
    with stub:
        _expect_create_then(stub, *["IN_PROGRESS"] * 6)  # at 0, .25, .5, 1, 2, 2.5 s
        with pytest.raises(AssignmentTimeout):
            ic.assign(A)
        stub.assert_no_pending_responses()
    assert clock.now == 2.5


# --------------------------------------------------------------------------- outstanding cap


def test_assignment_changes_wait_for_one_of_the_outstanding_slots() -> None:
    ic = IdentityCenter(region=REGION, max_outstanding=2)
    release = threading.Event()
    lock = threading.Condition()
    state = {"active": 0, "most": 0, "done": 0}

    def write() -> None:
        with lock:
            state["active"] += 1
            state["most"] = max(state["most"], state["active"])
            lock.notify_all()
        release.wait(30)
        with lock:
            state["active"] -= 1
            state["done"] += 1

    def change_now(assignment: Assignment, *, create: bool, hold: Any) -> None:
        hold.attempt(write)  # a write AWS accepted holds its slot until the end

    ic._change_now = change_now  # type: ignore[method-assign]
    # five accounts: changes to one account would also wait for each other's turn
    threads = [
        threading.Thread(target=ic.unassign, args=(Assignment(f"11112222333{i}", PS, USER),))
        for i in range(5)
    ]
    for thread in threads:
        thread.start()
    with lock:
        assert lock.wait_for(lambda: state["active"] == 2, timeout=30)
    release.set()
    for thread in threads:
        thread.join(30)
    assert state == {"active": 0, "most": 2, "done": 5}
    with pytest.raises(ValueError):
        IdentityCenter(region=REGION, max_outstanding=0)
    assert IdentityCenter(region=REGION, max_outstanding=None)._outstanding is None


# --------------------------------------------------------------------------- jitbot bench


def test_bench_help_shows_the_benchmark_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        jitbot(["bench", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: jitbot bench" in out
    for flag in ("--quick", "--only", "--output", "mass-expiry"):
        assert flag in out


def test_bench_passes_its_flags_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli

    seen: list[tuple[list[str], str]] = []

    def fake_main(argv: list[str], prog: str) -> int:
        seen.append((argv, prog))
        return 0

    monkeypatch.setattr(bot.cli, "_benchmarks_main", lambda: fake_main)
    assert jitbot(["bench", "--quick", "--only", "mass-expiry"]) == 0
    assert seen == [(["--quick", "--only", "mass-expiry"], "jitbot bench")]


def test_bench_outside_a_source_checkout_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.cli

    monkeypatch.setattr(bot.cli, "_benchmarks_main", lambda: None)
    assert jitbot(["bench", "--quick"]) == 2
    assert "source checkout" in capsys.readouterr().err


def test_other_commands_still_refuse_unknown_flags() -> None:
    with pytest.raises(SystemExit) as done:
        jitbot(["db", "upgrade", "--quick"])
    assert done.value.code == 2


# --------------------------------------------------------------------------- benchmark math


def test_quota_bound_of_the_mass_expiry() -> None:
    from benchmarks.mass_expiry import quota_bound

    dues = [i * 60 / 999 for i in range(1000)]
    assert quota_bound(dues) == pytest.approx(60.0)  # one call each: the due times bind
    # a delete and a Describe each, 1 s operations, 15 at once: the 20 calls/s bind (10 a second)
    assert quota_bound(dues, 1.0, 2) == pytest.approx(99.5, abs=0.2)
    # all in one account: one change at a time, 1 s each
    assert quota_bound(dues, 1.0, 2, accounts=["a"] * 1000) == pytest.approx(1000.0, abs=0.2)
    burst = [0.0] * 40
    assert quota_bound(burst) == pytest.approx(1.0)  # 20 from the burst, 20 at 20/s


def test_order_stats_tell_overtaking_depth() -> None:
    from benchmarks.mass_expiry import order_stats

    made = {"sessions": [{"principal": p, "expires": i} for i, p in enumerate("abcde")]}
    assert order_stats(made, {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}) == (0, 0)
    # e went first, ahead of all four due before it; c overtook b
    assert order_stats(made, {"a": 2, "b": 4, "c": 3, "d": 5, "e": 1}) == (2, 4)


def test_slots_go_to_the_waiters_in_the_order_they_asked() -> None:
    slots = ratelimit.Slots(1)
    slots.acquire()
    order: list[int] = []

    def take(n: int) -> None:
        slots.acquire()
        order.append(n)
        slots.release()

    threads = []
    for n in range(5):
        thread = threading.Thread(target=take, args=(n,))
        thread.start()
        threads.append(thread)
        while len(slots._waiters) < n + 1:  # queued before the next one asks
            threading.Event().wait(0.001)
    # a newcomer arriving as the slot is given back does not jump the queue
    slots.release()
    slots.acquire()
    order.append(99)
    slots.release()
    for thread in threads:
        thread.join(10)
    assert order == [0, 1, 2, 3, 4, 99]
    with pytest.raises(ValueError):
        slots.release()
    with pytest.raises(ValueError):
        ratelimit.Slots(0)


# --------------------------------------------------------------------------- sharing the quota


def test_a_bucket_can_change_its_rate_without_losing_or_minting_tokens() -> None:
    clock = Clock()
    bucket = TokenBucket(20, 10, clock=clock, sleep=clock.sleep)
    assert bucket.acquire() == 0.0  # 9 left
    bucket.set_rate(10, 5)  # fuller than the new burst: cut down to it
    assert bucket.available() == 5
    for _ in range(5):
        bucket.acquire()
    assert bucket.acquire() == pytest.approx(0.1), "one token per 1/10 s now"
    with pytest.raises(ValueError, match="rate"):
        bucket.set_rate(0)
    with pytest.raises(ValueError, match="burst"):
        bucket.set_rate(5, 0.5)


def test_slots_grow_to_let_waiters_in_and_shrink_as_holders_leave() -> None:
    slots = ratelimit.Slots(2)
    slots.acquire()
    slots.acquire()
    waiter = threading.Thread(target=slots.acquire)
    waiter.start()
    while not slots._waiters:
        threading.Event().wait(0.001)
    slots.resize(3)  # the waiter gets the new slot at once
    waiter.join(10)
    assert not waiter.is_alive()
    slots.resize(1)  # three held, one allowed: the next two releases retire slots
    late = threading.Thread(target=slots.acquire)
    late.start()
    while not slots._waiters:
        threading.Event().wait(0.001)
    slots.release()
    slots.release()
    assert late.is_alive(), "still two too many were held"
    slots.release()  # now none held: the one slot goes to the waiter
    late.join(10)
    assert not late.is_alive()
    slots.release()
    with pytest.raises(ValueError):
        slots.release()
    with pytest.raises(ValueError):
        slots.resize(0)


def test_adapter_takes_its_share_of_the_quota_per_live_replica() -> None:
    ic = IdentityCenter(region=REGION)
    assert (ic.limiter.rate, ic.limiter.burst, ic._outstanding.size) == (15, 7.5, 15)
    ic.share_quota(2)
    assert (ic.limiter.rate, ic.limiter.burst, ic._outstanding.size) == (7.5, 3.75, 7)
    ic.share_quota(3)
    assert (ic.limiter.rate, ic._outstanding.size) == (5, 5)
    ic.share_quota(40)  # more replicas than slots: each keeps one, and one call's burst
    assert (ic.limiter.burst, ic._outstanding.size) == (1, 1)
    ic.share_quota(1)
    assert (ic.limiter.rate, ic.limiter.burst, ic._outstanding.size) == (15, 7.5, 15)
    with pytest.raises(ValueError):
        ic.share_quota(0)
    unlimited = IdentityCenter(region=REGION, max_calls_per_second=None, max_outstanding=None)
    unlimited.share_quota(2)
    assert unlimited.limiter is None and unlimited._outstanding is None


# --------------------------------------------------------------------------- busy AWS config


def test_config_busy_aws_keys_default_and_reach_the_adapter() -> None:
    config = parse_config(MINIMAL + "identity_center:\n  portal_url: https://x.example/start\n")
    ic = config.identity_center
    assert ic is not None
    assert (ic.max_outstanding_operations, ic.conflict_retry_seconds) == (15, 120.0)
    assert ic.pending_grant_timeout == timedelta(hours=1)
    tuned = parse_config(
        MINIMAL
        + "identity_center:\n  max_outstanding_operations: 4\n  conflict_retry_seconds: 90\n"
    )
    aws = make_identity_center(tuned)
    assert (aws._outstanding.size, aws.conflict_retry_seconds) == (4, 90.0)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("max_outstanding_operations: 16", "identity_center.max_outstanding_operations: "),
        ("max_outstanding_operations: 0", "identity_center.max_outstanding_operations: "),
        ("conflict_retry_seconds: -5", "identity_center.conflict_retry_seconds: "),
        ("conflict_retry_seconds: .inf", "identity_center.conflict_retry_seconds: "),
        ("pending_grant_timeout: 1m", "identity_center.pending_grant_timeout: must be between"),
    ],
)
def test_config_busy_aws_keys_are_validated(line: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + f"identity_center:\n  {line}\n")
    (found,) = caught.value.problems
    assert found.startswith(problem)
