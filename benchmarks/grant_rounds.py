"""The grant benchmark's measuring side (:mod:`benchmarks.grant_path` says what it
measures and why): Oscar's timed Approve clicks, the direct boto3 samples they are
paired with, the rounds over bare moto and with 20 ms per AWS call, (the rows made of
it all are :mod:`benchmarks.grant_rows`, the stand-in's rounds
:mod:`benchmarks.grant_standin`)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.ack import OSCAR, delivered_approvals
from benchmarks.awshooks import Probe
from benchmarks.common import (
    Options,
    World,
    shows_active,
    wait_until,
)
from benchmarks.grant_path import (
    AWS_LIKE_LATENCY,
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


@dataclass(frozen=True)
class Counts:
    """Counted rounds per setting (each also has one warm-up round, not counted)."""

    bare: int  # bare moto (each round: a click and an in-process decide)
    slow: int  # AWS_LIKE_LATENCY added to every AWS call: the goal's rounds
    standin: int  # the stand-in, operations of STANDIN_OP_SECONDS

    @property
    def requesters(self) -> int:
        """Requesters the world needs: one per grant, and one per direct stand-in round."""
        return 2 * (self.bare + 1) + (self.slow + 1) + 2 * (self.standin + 1)


@dataclass
class Paired:
    """Seconds per round, app and direct: the i-th of each were measured together."""

    app: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    app_assigned: list[float] = field(default_factory=list)  # to the bot's datagram
    direct_answered: list[float] = field(default_factory=list)  # to the creation final
    app_to_write: list[float] = field(default_factory=list)  # to the bot's create sent

    def add(self, click: tuple[float, ...], direct: tuple[float, float]) -> None:
        """One round: a click's :meth:`_Clicker.click` tuple, a direct :func:`_direct`'s."""
        self.app.append(click[2])
        self.app_assigned.append(click[1])
        self.direct.append(direct[0])
        self.direct_answered.append(direct[1])

    def added(self) -> list[float]:
        """Seconds the app took more than the direct script, per round."""
        return [a - d for a, d in zip(self.app, self.direct, strict=True)]


@dataclass
class Samples:
    """The three settings' rounds, and the bare rounds' diagnostics."""

    bare: Paired = field(default_factory=Paired)
    slow: Paired = field(default_factory=Paired)
    standin: Paired = field(default_factory=Paired)
    to_create: list[float] = field(default_factory=list)  # bare: click -> create answered
    in_process: list[float] = field(default_factory=list)  # Services.decide in the bot
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


def write_delay(host: BotHost, click: tuple[float, ...], principal: str) -> list[float]:
    """``[seconds from the click sent to the bot's CreateAccountAssignment sent]``, or
    ``[]`` when it made none (asked after the round, untimed)."""
    sent = host.call("benchmarks.grant_in_bot:create_sent_at", principal=principal)
    return [] if sent is None else [sent - click[3]]


def pair(
    clicker: _Clicker,
    k: int,
    request_id: int,
    principal: str,
    after: float,
    direct: Callable[[], tuple[float, float]],
) -> tuple[tuple[float, ...], tuple[float, float]]:
    """Round ``k``: one direct sample and one click (:meth:`_Clicker.click`), the direct
    one first when ``k`` is even, each once the bot is quiet. Returns (the click's
    tuple, the direct sample's)."""

    def direct_sample() -> tuple[float, float]:
        _settle(clicker.world)
        return direct()

    first = direct_sample() if k % 2 == 0 else None
    click = clicker.click(request_id, principal, after)
    return click, first if first is not None else direct_sample()


def measure(world: World, opts: Options, counts: Counts) -> Samples:
    """The bare moto rounds (plus one warm-up), the store timings, then the goal's
    rounds with :data:`AWS_LIKE_LATENCY` added to every AWS call of both sides."""
    principal_of = _principals(world)
    sso = world.sso()
    Probe().install(sso)  # the bot's clients carry one too
    signals = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    signals.bind(("127.0.0.1", 0))
    got = Samples()
    bare, slow = 2 * (counts.bare + 1), counts.slow + 1
    people = [(p.slack_id, p.email, p.name) for p in world.requesters[: bare + slow]]
    with BotHost(spec_for(world, NAME)) as host:
        host.call("benchmarks.grant_in_bot:signal_assigned", port=signals.getsockname()[1])
        request_ids = host.call(
            "benchmarks.host:submit_pending",
            people=people,
            count=len(people),
            account=world.aws.accounts["Sandbox"],
        )
        messages = delivered_approvals(world.fake, (OSCAR,), request_ids)[OSCAR]
        clicker = _Clicker(world, sso, signals, world.user(OSCAR, host.url), messages)
        jobs = [(r, principal_of[p[0]]) for r, p in zip(request_ids, people, strict=True)]
        clicked = _bare_rounds(host, clicker, jobs[:bare], got)
        got.hot, got.idle = host.call(
            "benchmarks.grant_in_bot:store_get_hot_and_idle",
            request_id=request_ids[0],
            rounds=10 if opts.quick else 30,
        )
        # the goal's rounds: both sides' AWS calls each AWS_LIKE_LATENCY slower
        host.call("benchmarks.grant_in_bot:add_bot_latency", seconds=AWS_LIKE_LATENCY)
        add_latency(sso, AWS_LIKE_LATENCY)
        bob = world.aws.users["bob@example.com"]
        for k, (request_id, principal) in enumerate(jobs[bare:]):
            click, direct = pair(
                clicker, k, request_id, principal, clicked, lambda: _direct(world, sso, bob)
            )
            clicked = click[0]
            if k > 0:
                got.slow.add(click, direct)
                got.slow.app_to_write += write_delay(host, click, principal)
        got.waited = host.call("benchmarks.grant_in_bot:limiter_waited") - got.waited
    signals.close()
    return got


def _bare_rounds(
    host: BotHost, clicker: _Clicker, jobs: list[tuple[int, str]], got: Samples
) -> float:
    """Each round (``jobs`` two by two: clicked, decided in the bot): a direct sample
    and a click (:func:`pair`), then a ``Services.decide`` in the bot; the first round
    warms every path up and is not counted. Into ``got``; ``got.waited`` is the
    limiter's total after the first round. Returns the monotonic time of the last."""
    world, sso = clicker.world, clicker.sso
    bob = world.aws.users["bob@example.com"]
    clicked = time.monotonic()
    for k in range(len(jobs) // 2):
        (request_id, principal), (inner_id, inner_principal) = jobs[2 * k : 2 * k + 2]
        if k == 1:
            got.waited = host.call("benchmarks.grant_in_bot:limiter_waited")
        click, direct = pair(
            clicker, k, request_id, principal, clicked, lambda: _direct(world, sso, bob)
        )
        clicked, sent = click[0], click[3]
        inner = _in_process(host, clicker.signals, world, sso, inner_id, inner_principal, clicked)
        clicked = time.monotonic()
        wait_until(
            lambda m=clicker.messages[inner_id]: shows_active(world.fake, m),
            15,
            what="the in-process grant's DM update",
        )
        if k == 0:
            continue
        got.bare.add(click, direct)
        got.bare.app_to_write += write_delay(host, click, principal)
        got.in_process.append(inner)
        created = host.call("benchmarks.grant_in_bot:created_at")
        if principal in created:
            got.to_create.append(created[principal] - sent)
    return clicked
