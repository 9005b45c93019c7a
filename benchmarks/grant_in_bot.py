"""The grant benchmark's functions that run in the bot's process
(``BotHost.call("benchmarks.grant_in_bot:…")``): latency on its AWS clients, a signal
after each assign, a decision called directly, the store's read timed, the limiter's
wait, and when its AWS calls were sent and answered (:mod:`benchmarks.grant_path` says
why)."""

from __future__ import annotations

import socket
import time
from typing import Any

from benchmarks.common import percentile
from benchmarks.grant_path import SPACING, add_latency


def add_bot_latency(ctx: Any, seconds: float) -> None:
    """In the bot process: :func:`add_latency` on its Identity Center clients."""
    for service in ("sso-admin", "identitystore"):
        add_latency(ctx.rt.aws._client(service), seconds)


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


def limiter_waited(ctx: Any) -> float:
    """In the bot process: seconds its Identity Center rate limiter has made callers
    wait since start (0.0 without a limiter)."""
    limiter = getattr(ctx.rt.aws, "limiter", None)
    return float(getattr(limiter, "waited", 0.0))


def created_at(ctx: Any) -> dict[str, float]:
    """principal id -> wall time the bot's CreateAccountAssignment was answered."""
    return {key[0]: when for key, when in ctx.probe.created.items()}


def create_sent_at(ctx: Any, principal: str) -> float | None:
    """Wall time the bot's ``CreateAccountAssignment`` for ``principal`` was let through
    its limiter (the probe's ``before-send``, before any latency added after it); None
    if it made none."""
    for key, when in ctx.probe.issued.get("CreateAccountAssignment", {}).items():
        if key[0] == principal:
            return when
    return None
