"""The grant benchmark's measuring side (:mod:`benchmarks.grant_path` says what it
measures and why): Oscar's timed Approve clicks, the direct boto3 rounds they are paired
with, the latency diagnostic, and the rows made of it all."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.ack import OSCAR, delivered_approvals
from benchmarks.awshooks import Probe
from benchmarks.common import (
    Options,
    Row,
    World,
    paired_ratio_interval,
    percentile,
    shows_active,
    wait_until,
)
from benchmarks.grant_path import (
    AWS_LIKE_LATENCY,
    GOAL,
    NAME,
    SPACING,
    _direct,
    _drain,
    _in_process,
    _poll_listed,
    _settle,
    _wait_signal,
    add_latency,
)
from benchmarks.host import BotHost, spec_for


@dataclass
class Samples:
    """Seconds per round (lists) and totals the rows are made of."""

    app: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    to_create: list[float] = field(default_factory=list)
    direct_done: list[float] = field(default_factory=list)  # direct: create answered
    signalled: list[float] = field(default_factory=list)  # app: the bot's assign returned
    in_process: list[float] = field(default_factory=list)  # Services.decide in the bot
    slow_app: list[float] = field(default_factory=list)
    slow_direct: list[float] = field(default_factory=list)
    waited: float = 0.0
    hot: float = 0.0
    idle: float = 0.0


@dataclass
class _Clicker:
    """Oscar clicking Approve on the DMs ``messages`` (request id -> message)."""

    world: World
    sso: Any
    signals: socket.socket
    oscar: Any
    messages: dict[int, Any]
    send_clock: list[float] = field(default_factory=lambda: [0.0, 0.0])

    def __post_init__(self) -> None:
        self.oscar.on_send = self._start_clock

    def _start_clock(self) -> None:
        self.send_clock[:] = [time.time(), time.perf_counter()]  # as the click is sent

    def click(self, request_id: int, principal: str, after: float) -> tuple[float, ...]:
        """Oscar's Approve of ``request_id``, at least :data:`SPACING` after
        ``after`` (monotonic), timed from its send: (monotonic time clicked,
        seconds to the bot's datagram, seconds to the assignment listed, wall
        time sent). Returns once the DM shows the grant."""
        from bot import ids as slack_ids

        world, send_clock, message = self.world, self.send_clock, self.messages[request_id]
        _settle(world)
        _drain(self.signals)
        time.sleep(max(0.0, after + SPACING - time.monotonic()))
        clicked = time.monotonic()
        response = self.oscar.click(message, slack_ids.ACTION_APPROVE)
        _wait_signal(self.signals, principal)
        assigned = time.perf_counter() - send_clock[1]
        _poll_listed(world, self.sso, principal)
        elapsed = time.perf_counter() - send_clock[1]
        assert response.status == 200, response.body
        wait_until(lambda: shows_active(world.fake, message), 15, what="the grant's DM update")
        return clicked, assigned, elapsed, send_clock[0]


def _principals(world: World) -> dict[str, str]:
    """Slack id -> Identity Center user id, for every requester."""
    import boto3

    ids = boto3.client("identitystore", region_name="us-east-1")
    return {
        p.slack_id: ids.get_user_id(
            IdentityStoreId=world.aws.identity_store_id,
            AlternateIdentifier={
                "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": p.email}
            },
        )["UserId"]
        for p in world.requesters
    }


def measure(world: World, opts: Options, samples: int) -> Samples:
    """``samples`` paired rounds (plus one warm-up), the store timings, then one slow
    round per requester left with :data:`AWS_LIKE_LATENCY` added to every AWS call."""
    principal_of = _principals(world)
    sso = world.sso()
    Probe().install(sso)  # the bot's clients carry one too
    signals = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    signals.bind(("127.0.0.1", 0))
    got = Samples()
    with BotHost(spec_for(world, NAME)) as host:
        host.call("benchmarks.grant_path:signal_assigned", port=signals.getsockname()[1])
        people = [(p.slack_id, p.email, p.name) for p in world.requesters]
        request_ids = host.call(
            "benchmarks.host:submit_pending",
            people=people,
            count=len(people),
            account=world.aws.accounts["Sandbox"],
        )
        messages = delivered_approvals(world.fake, (OSCAR,), request_ids)[OSCAR]
        clicker = _Clicker(world, sso, signals, world.user(OSCAR, host.url), messages)
        paired = 2 * (samples + 1)
        rounds = list(
            zip(
                request_ids[0:paired:2],
                [principal_of[p[0]] for p in people[0:paired:2]],
                request_ids[1:paired:2],
                [principal_of[p[0]] for p in people[1:paired:2]],
                strict=True,
            )
        )
        clicked = _paired_rounds(host, clicker, rounds, got)
        got.hot, got.idle = host.call(
            "benchmarks.grant_path:store_get_hot_and_idle",
            request_id=request_ids[0],
            rounds=10 if opts.quick else 30,
        )
        # the latency diagnostic: both sides' AWS calls each AWS_LIKE_LATENCY slower
        host.call("benchmarks.grant_path:add_bot_latency", seconds=AWS_LIKE_LATENCY)
        add_latency(sso, AWS_LIKE_LATENCY)
        bob = world.aws.users["bob@example.com"]
        for request_id, person in zip(request_ids[paired:], people[paired:], strict=True):
            _settle(world)
            got.slow_direct.append(_direct(world, sso, bob)[0])
            clicked, _, elapsed, _ = clicker.click(request_id, principal_of[person[0]], clicked)
            got.slow_app.append(elapsed)
    signals.close()
    return got


def _paired_rounds(
    host: BotHost, clicker: _Clicker, rounds: list[tuple[int, str, int, str]], got: Samples
) -> float:
    """Each round: a direct create (not in the first, warm-up round), a click, and a
    ``Services.decide`` in the bot; into ``got``. Returns the monotonic time of the last."""
    world, sso = clicker.world, clicker.sso
    bob = world.aws.users["bob@example.com"]
    waited = 0.0
    clicked = time.monotonic()
    for n, (request_id, principal, inner_id, inner_principal) in enumerate(rounds):
        if n > 0:  # the first round warms every path up
            _settle(world)
            listed, answered = _direct(world, sso, bob)
            got.direct.append(listed)
            got.direct_done.append(answered)
        if n == 1:
            waited = host.call("benchmarks.grant_path:limiter_waited")
        clicked, assigned, elapsed, sent = clicker.click(request_id, principal, clicked)
        inner = _in_process(host, clicker.signals, world, sso, inner_id, inner_principal, clicked)
        clicked = time.monotonic()
        wait_until(
            lambda m=clicker.messages[inner_id]: shows_active(world.fake, m),
            15,
            what="the in-process grant's DM update",
        )
        if n == 0:
            continue
        got.app.append(elapsed)
        got.in_process.append(inner)
        got.signalled.append(assigned)
        created = host.call("benchmarks.grant_path:created_at")
        if principal in created:
            got.to_create.append(created[principal] - sent)
    got.waited = host.call("benchmarks.grant_path:limiter_waited") - waited
    return clicked


def rows(got: Samples) -> list[Row]:
    """The grant benchmark's rows: the click's latency against direct boto3's, and the
    ratio between them that the goal is about; then the diagnostics."""
    app, direct = got.app, got.direct
    a50, d50 = percentile(app, 50), percentile(direct, 50)
    a95, d95 = percentile(app, 95), percentile(direct, 95)
    ratio = a50 / d50
    low, high = paired_ratio_interval(app, direct)
    return [
        Row(NAME, "app: click -> assignment listed, p50", a50 * 1000, "ms", note=f"n={len(app)}"),
        Row(NAME, "app: click -> assignment listed, p95", a95 * 1000, "ms"),
        Row(
            NAME,
            "app: click -> CreateAccountAssignment answered, p50",
            percentile(got.to_create, 50) * 1000,
            "ms",
        ),
        Row(
            NAME,
            "app: click -> the bot's assign returned (its datagram in), p50",
            percentile(got.signalled, 50) * 1000,
            "ms",
        ),
        Row(NAME, "direct boto3: create -> listed, p50", d50 * 1000, "ms", note=f"n={len(direct)}"),
        Row(
            NAME,
            "direct boto3: create -> creation answered, p50",
            percentile(got.direct_done, 50) * 1000,
            "ms",
        ),
        Row(NAME, "direct boto3: create -> listed, p95", d95 * 1000, "ms"),
        Row(
            NAME,
            "overhead ratio app/direct (p50)",
            ratio,
            "x",
            f"< {GOAL}",
            ratio < GOAL,
            note=f"95% interval {low:.2f}-{high:.2f}x, paired bootstrap of the {len(app)} rounds",
        ),
        Row(NAME, "overhead ratio app/direct (p95)", a95 / d95, "x"),
    ] + _diagnostics(got, d50)


def _diagnostics(got: Samples, d50: float) -> list[Row]:
    """The rows that explain the ratio: in-process decide, the store, the limiter, and
    the run with :data:`AWS_LIKE_LATENCY` added to every AWS call."""
    i50 = percentile(got.in_process, 50)
    slow_app, slow_direct, hot, idle = got.slow_app, got.slow_direct, got.hot, got.idle
    in_process, waited = got.in_process, got.waited
    return [
        Row(
            NAME,
            "diagnostic: Services.decide called in the bot (no HTTP, no Bolt) -> listed, p50",
            i50 * 1000,
            "ms",
            note=f"n={len(in_process)}",
        ),
        Row(NAME, "diagnostic: ratio in-process decide/direct (p50)", i50 / d50, "x"),
        Row(
            NAME,
            "diagnostic: the bot's store.get, p50 back to back / after 0.1 s idle",
            f"{hot * 1e6:.0f} / {idle * 1e6:.0f}",
            "us",
        ),
        Row(NAME, "app: bot's AWS rate limiter waited, over the samples", waited * 1000, "ms"),
        Row(
            NAME,
            f"diagnostic: {AWS_LIKE_LATENCY * 1000:.0f} ms added to every AWS call, both sides: "
            "app / direct p50",
            f"{percentile(slow_app, 50) * 1000:.1f} / {percentile(slow_direct, 50) * 1000:.1f}",
            "ms",
            note=f"n={len(slow_app)}",
        ),
        Row(
            NAME,
            f"diagnostic: ratio with {AWS_LIKE_LATENCY * 1000:.0f} ms per AWS call (p50)",
            percentile(slow_app, 50) / percentile(slow_direct, 50),
            "x",
        ),
    ]
