"""2. Overhead on the grant path.

App: from sending Oscar's Approve click (HTTP, through waitress) to the account
assignment being listed by moto. Direct: the same AWS work with boto3 against the same
moto server: ``CreateAccountAssignment``, ``DescribeAccountAssignmentCreationStatus``
while it is ``IN_PROGRESS`` (moto answers ``SUCCEEDED`` at once, so never), then
``ListAccountAssignments`` back to back until it is listed. Samples alternate (direct,
app) so both see the same load; each request has its own requester, so every grant
creates an assignment. Between samples the bot finishes its work (the DM shows the
grant) and the direct assignment is removed, and every sample of either side starts once
the bot has made no Slack call for :data:`QUIET` seconds (:func:`_settle`). Until
2026-11-29 the direct side's samples started right after an in-process grant, while the
bot's notices about it still reached the fake Slack in this process, and paid for them:
ratios from before that date are about 0.1x lower than this measurement gives on the
same code (1.26 to 1.42x against 1.40 to 1.49x in runs of the same day).

Both sides poll the same way: ``ListAccountAssignments`` starts once the assignment
work was answered to whoever did it. The direct side knows that in-process; for the
app, the bot process sends one UDP datagram to the parent when its
``IdentityCenter.assign`` returned (:func:`signal_assigned`: a wrapper installed for
the benchmark, after the creation and any status polls), and the parent, blocked on
that socket meanwhile, then polls exactly as the direct side does. The datagram's
trip only adds to the app's time.

The app's clock starts when the click's request is sent (``SlackUser.on_send``):
building the payload and signing it is Slack's work, not the bot's (until 2026-11-29 the
clock started before that, about 0.6 ms earlier, with ``urllib`` as the client). moto runs
in a process of its own (:class:`benchmarks.common.MotoProcess`), so the fake Slack
answering the bot's notices after a grant does not share a GIL with moto. The direct
client carries the same botocore hooks as the bot's (a :class:`~benchmarks.awshooks.Probe`
counting calls), so neither side's calls cost more for being watched.

The ratio's row gives a 95% interval from a paired bootstrap of the rounds
(:func:`benchmarks.common.paired_ratio_interval`): the spread another run of as many
samples could show on this machine. Runs on other days moved more than that (the
machine's speed changes), so compare ratios, not times, across days.

Two diagnostic rows (no goal) say where the rest goes. Each round also approves one
more request by calling ``Services.decide`` inside the bot process (no HTTP, waitress,
Bolt or listener pool; :func:`decide_in_process`), timed to the assignment listed the
same way: the difference from the click is the web stack's share. And the bot's
``store.get`` is timed back to back and after 0.1 s asleep (:func:`store_get_hot_and_idle`):
on this 2-core virtual machine a call after a pause, as every paced click is, takes
several times as long as the same call in a hot loop.

A last diagnostic round (no goal) adds :data:`AWS_LIKE_LATENCY` to every AWS call of
both sides (the bot's clients and the direct one) and measures the ratio again, with the
same pairing: what the bot's few milliseconds weigh once a call costs what it does
against AWS rather than against moto on the same machine.

Clicks are at least :data:`SPACING` apart (a tenth of a second, half the Identity
Center quota the bot's client-side limiter enforces): back to back they came faster
than 20 a second once the bot got quicker, and the limiter then made each grant wait
for the quota, which measures the benchmark's pace, not a grant. The row "rate limiter
waited" says whether the bot waited anyway.

Until 2026-11-28 the parent instead polled ``ListAccountAssignments`` back to back from
the moment the click was answered, while the bot's ``CreateAccountAssignment`` was in
flight. moto runs in the parent, on the same GIL as that poller, so the bot's call
queued behind a stream of list calls (traced in the bot: ``assign`` took 8 to 14 ms p50
with that polling, about 3 ms without it), a cost the direct side, which only polls
after its own call returned, never paid. App rows from before that date are not
comparable with later ones.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from benchmarks.ack import OSCAR
from benchmarks.common import (
    Options,
    Row,
    percentile,
    start_world,
    wait_until,
)
from benchmarks.host import BotHost

NAME = "grant"
GOAL = 1.3
#: seconds at least between two Approve clicks: the bot's own limiter keeps it under
#: Identity Center's 20 calls a second, and clicks faster than that would measure its
#: queue rather than a grant (the limiter's waits over the samples are reported)
SPACING = 0.1
#: seconds added to every AWS call on both sides in the latency diagnostic: an in-region
#: API round trip is of this order (Identity Center's own calls often take longer)
AWS_LIKE_LATENCY = 0.020


def add_latency(client: Any, seconds: float) -> None:
    """Make every HTTP attempt of ``client`` wait ``seconds`` before it is sent (a
    botocore ``before-send`` hook that sleeps and lets the request go on)."""

    def wait(**_: Any) -> None:
        time.sleep(seconds)

    client.meta.events.register("before-send", wait, unique_id=f"bench-latency-{id(client)}")


def add_bot_latency(ctx: Any, seconds: float) -> None:
    """In the bot process: :func:`add_latency` on its Identity Center clients."""
    for service in ("sso-admin", "identitystore"):
        add_latency(ctx.rt.aws._client(service), seconds)


def _poll_listed(world: Any, sso: Any, principal: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while principal not in world.assigned_principals(sso):
        if time.monotonic() > deadline:
            raise TimeoutError(f"assignment of {principal} never listed")


def _direct(world: Any, sso: Any, principal: str) -> tuple[float, float]:
    """(seconds to the assignment listed, seconds to the creation's final status)."""
    params = {
        "InstanceArn": world.aws.instance_arn,
        "TargetId": world.aws.accounts["Sandbox"],
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": world.aws.permission_sets["ReadOnlyAccess"],
        "PrincipalType": "USER",
        "PrincipalId": principal,
    }
    started = time.perf_counter()
    status = sso.create_account_assignment(**params)["AccountAssignmentCreationStatus"]
    while status["Status"] == "IN_PROGRESS":
        status = sso.describe_account_assignment_creation_status(
            InstanceArn=params["InstanceArn"],
            AccountAssignmentCreationRequestId=status["RequestId"],
        )["AccountAssignmentCreationStatus"]
    answered = time.perf_counter() - started
    _poll_listed(world, sso, principal)
    elapsed = time.perf_counter() - started
    sso.delete_account_assignment(**params)
    wait_until(lambda: principal not in world.assigned_principals(sso), 10, what="delete")
    return elapsed, answered


def signal_assigned(ctx: Any, port: int) -> None:
    """In the bot process: after each ``assign`` of its Identity Center adapter returns,
    send the principal id (UTF-8) in one UDP datagram to ``127.0.0.1:port``."""
    aws = ctx.rt.services.aws
    assign = aws.assign
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def assign_and_signal(assignment: Any) -> None:
        assign(assignment)
        out.sendto(str(assignment.principal_id).encode(), ("127.0.0.1", port))

    aws.assign = assign_and_signal


def decide_in_process(ctx: Any, request_id: int, approver: str) -> float:
    """In the bot process: Oscar's approval of ``request_id`` by calling
    ``Services.decide`` directly (no HTTP, no waitress, no Bolt, no listener pool), as the
    Approve listener would after its ack. Returns the wall time (``time.time()``) it was
    called at."""
    rt = ctx.rt
    person = rt.directory.person(approver)  # cached, as the listener's lookup would be
    started = time.time()
    rt.services.decide(request_id, person, True, rt.clock())
    return started


def store_get_hot_and_idle(ctx: Any, request_id: int, rounds: int = 30) -> tuple[float, float]:
    """In the bot process: seconds one ``store.get`` of ``request_id`` takes, p50, (hot:
    200 calls back to back; after idle: each after 0.1 s asleep, as a click comes). On a
    small virtual machine the second is several times the first (caches and CPU state
    are cold after the pause), and every step of a grant pays it."""
    get = ctx.rt.store.get
    hot = []
    for _ in range(200):
        started = time.perf_counter()
        get(request_id)
        hot.append(time.perf_counter() - started)
    idle = []
    for _ in range(rounds):
        time.sleep(SPACING)
        started = time.perf_counter()
        get(request_id)
        idle.append(time.perf_counter() - started)
    return percentile(hot, 50), percentile(idle, 50)


#: seconds without a Slack Web API call from the bot before a sample starts
QUIET = 0.03


def _settle(world: Any, timeout: float = 15.0) -> None:
    """Wait until the bot has made no Slack Web API call for :data:`QUIET` seconds. Its
    notices after a grant go to the fake Slack in this process, and a sample timed while
    they arrive pays for them: until 2026-11-29 the direct side's samples came right
    after a grant and did. Watched from the fake Slack, so the bot is not disturbed."""
    deadline = time.monotonic() + timeout
    while True:
        last = world.fake.last_call_at()
        idle = QUIET if last is None else time.time() - last
        if idle >= QUIET:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the bot never went quiet")
        time.sleep(QUIET - idle)


def limiter_waited(ctx: Any) -> float:
    """In the bot process: seconds its Identity Center rate limiter has made callers
    wait since start (0.0 without a limiter)."""
    limiter = getattr(ctx.rt.aws, "limiter", None)
    return float(getattr(limiter, "waited", 0.0))


def _drain(signals: socket.socket) -> None:
    signals.setblocking(False)
    try:
        while True:
            signals.recv(512)
    except BlockingIOError:
        pass
    finally:
        signals.setblocking(True)


def _wait_signal(signals: socket.socket, principal: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        signals.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            if signals.recv(512).decode() == principal:
                return
        except TimeoutError:
            raise TimeoutError(f"the bot never assigned {principal}") from None


def _in_process(
    host: BotHost,
    signals: socket.socket,
    world: Any,
    sso: Any,
    request_id: int,
    principal: str,
    after: float,
) -> float:
    """Seconds from the bot calling ``Services.decide`` on ``request_id`` in its own
    process (:func:`decide_in_process`) to the assignment listed, polled as for a click
    once the bot's datagram is in. Waits until :data:`SPACING` after ``after``
    (monotonic) first. Wall clocks of the two processes are compared: same machine."""
    _settle(world)
    _drain(signals)
    time.sleep(max(0.0, after + SPACING - time.monotonic()))
    started: list[float] = []
    call = threading.Thread(
        target=lambda: started.append(
            host.call(
                "benchmarks.grant_path:decide_in_process",
                request_id=request_id,
                approver=OSCAR,
            )
        )
    )
    call.start()
    _wait_signal(signals, principal)
    _poll_listed(world, sso, principal)
    listed = time.time()
    call.join()
    return listed - started[0]


def created_at(ctx: Any) -> dict[str, float]:
    """principal id -> wall time the bot's CreateAccountAssignment was answered."""
    return {key[0]: when for key, when in ctx.probe.created.items()}


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    """The grant benchmark (see the module's docstring): its rows."""
    from benchmarks.grant_rounds import measure, rows

    samples = 12 if opts.quick else 60
    slow_samples = 5 if opts.quick else 20
    world = start_world(requesters=2 * (samples + 1) + slow_samples, workdir=opts.workdir)
    try:
        got = measure(world, opts, samples)
    finally:
        world.stop()
    return rows(got)
