"""The grant benchmark's rounds through the Identity Center stand-in
(:mod:`benchmarks.grant_path` says what they measure and why): a second bot process
whose AWS is :class:`sim.aws_standin.AwsStandin`, with assignment changes
``IN_PROGRESS`` for :data:`~benchmarks.grant_path.STANDIN_OP_SECONDS`, against a boto3
script polling every :data:`~benchmarks.grant_path.DIRECT_POLL_INTERVAL` seconds."""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

from benchmarks.ack import OSCAR, delivered_approvals
from benchmarks.awshooks import Probe
from benchmarks.common import REGION, World
from benchmarks.grant_path import (
    AWS_LIKE_LATENCY,
    DIRECT_POLL_INTERVAL,
    NAME,
    STANDIN_OP_SECONDS,
    _direct,
    add_latency,
)
from benchmarks.grant_rounds import Counts, Samples, _Clicker, _principals, pair, write_delay
from benchmarks.host import BotHost, spec_for
from benchmarks.world import SpawnedServer


def _serve_standin(conn: Any, target: str, op_seconds: float) -> None:
    """In the stand-in's process: serve in front of ``target``, send the URL, wait."""
    from sim.aws_standin import AwsStandin

    standin = AwsStandin(target, op_seconds=op_seconds)
    conn.send(standin.url)
    with contextlib.suppress(EOFError):
        conn.recv()  # anything, or the pipe closing, stops it
    standin.stop()


class StandinProcess(SpawnedServer):
    """:class:`sim.aws_standin.AwsStandin` in front of moto at ``target``, in a process
    of its own (spawned), so its threads share no GIL with the fake Slack or the direct
    script. ``url`` is its endpoint; :meth:`stop` ends it."""

    def __init__(self, target: str, op_seconds: float, timeout: float = 60.0) -> None:
        super().__init__(_serve_standin, (target, op_seconds), "the stand-in", timeout)
        self.url = self.address


def _bot_behind(world: World, url: str) -> BotHost:
    """A bot process (SQLite of its own) whose ``AWS_ENDPOINT_URL`` is ``url``."""
    os.environ["AWS_ENDPOINT_URL"] = url  # the spawned child reads it as it starts
    try:
        return BotHost(spec_for(world, f"{NAME}-standin"))
    finally:
        os.environ["AWS_ENDPOINT_URL"] = world.endpoint


def measure_standin(world: World, counts: Counts, got: Samples) -> None:
    """``counts.standin`` rounds (plus one warm-up) through the stand-in, both sides'
    calls :data:`AWS_LIKE_LATENCY` slower, into ``got.standin``. Uses the world's last
    requesters: the app's, then one per direct round (no removal between rounds)."""
    import boto3

    rounds = counts.standin + 1
    app_people = world.requesters[-2 * rounds : -rounds]
    direct_people = world.requesters[-rounds:]
    principal_of = _principals(world)
    standin = StandinProcess(world.endpoint, STANDIN_OP_SECONDS)
    signals = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    signals.bind(("127.0.0.1", 0))
    try:
        sso = boto3.client("sso-admin", region_name=REGION, endpoint_url=standin.url)
        Probe().install(sso)
        add_latency(sso, AWS_LIKE_LATENCY)
        with _bot_behind(world, standin.url) as host:
            host.call("benchmarks.grant_in_bot:signal_assigned", port=signals.getsockname()[1])
            host.call("benchmarks.grant_in_bot:add_bot_latency", seconds=AWS_LIKE_LATENCY)
            request_ids = host.call(
                "benchmarks.host:submit_pending",
                people=[(p.slack_id, p.email, p.name) for p in app_people],
                count=rounds,
                account=world.aws.accounts["Sandbox"],
            )
            messages = delivered_approvals(world.fake, (OSCAR,), request_ids)[OSCAR]
            clicker = _Clicker(world, sso, signals, world.user(OSCAR, host.url), messages)
            clicked = 0.0
            for k, (request_id, person, other) in enumerate(
                zip(request_ids, app_people, direct_people, strict=True)
            ):
                principal = principal_of[other.slack_id]
                click, direct = pair(
                    clicker,
                    k,
                    request_id,
                    principal_of[person.slack_id],
                    clicked,
                    lambda p=principal: _direct(
                        world, sso, p, poll_every=DIRECT_POLL_INTERVAL, remove=False
                    ),
                )
                clicked = click[0]
                if k > 0:
                    got.standin.add(click, direct)
                    got.standin.app_to_write += write_delay(
                        host, click, principal_of[person.slack_id]
                    )
    finally:
        signals.close()
        standin.stop()
