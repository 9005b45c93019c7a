"""4b. Mass expiry with AWS throttled like IAM Identity Center.

1,000 sessions (distinct principals) end within one minute, evenly spread, made as in
:mod:`benchmarks.expiry_lag`. Once they are made, a :class:`~benchmarks.awshooks.Probe`
on the bot's sso-admin client emulates the published quota
(https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html): a 20 calls/s
token bucket (burst 20) shared by all sso-admin calls, and at most 10 outstanding
asynchronous assignment operations; an attempt over either is answered
``ThrottlingException`` by the hook. The runtime's scheduler does the revocations.

Three runs (``--quick``: smaller): moto as it is (an assignment change finishes at once,
so a revocation is one ``DeleteAccountAssignment``), then with the operations made
asynchronous like AWS's (``IN_PROGRESS`` for ``op_latency`` = 1 s, polled by the bot
with ``ListAccountAssignmentDeletionStatus``, answered by the probe since moto lacks it,
or ``DescribeAccountAssignmentDeletionStatus``): 1,000 due in a minute, where the quota
binds, and 30 due in 2 s.

The quota-bound minimum (:func:`quota_bound`) is when the last revocation could land if
each one cost only its delete, sent at its ``expires_at`` or as soon as the 20/s bucket
and the 10 outstanding operations allow, and its slot were free again the moment AWS
finished it. With asynchronous operations the bot also needs status calls; it lists
every running operation in one ``ListAccountAssignmentDeletionStatus`` call
(:mod:`workflows.aws.operations`), so they are not counted per revocation (until 2026-11-28
the bound counted one ``Describe`` poll per revocation; for the runs here both ways give
the same bound, since the 10 slots bind at 10 revocations a second either way).

"In due order", with 10 revocations under way at once, is judged on when each
``DeleteAccountAssignment`` was *issued* (let through to moto): a revocation may be
overtaken by those started alongside it (fewer than 10 places), never by one due 10 or
more places later. Inversions of issue and of landing order are reported besides.
"""

from __future__ import annotations

import heapq
import math
import time
from typing import Any

from benchmarks.common import Options, Row, start_world
from benchmarks.expiry_lag import wait_all_ended
from benchmarks.host import BotHost, spec_for

NAME = "mass-expiry"
RATE = 20.0
BURST = 20.0
MAX_OUTSTANDING = 10


def start_throttle(ctx: Any, op_latency: float = 0.0) -> None:
    ctx.probe.rate, ctx.probe.burst = RATE, BURST
    ctx.probe.max_outstanding = MAX_OUTSTANDING
    ctx.probe.op_latency = op_latency
    ctx.probe.start_throttling()


def report(ctx: Any) -> dict[str, Any]:
    from benchmarks.common import peak_rss_mb, rss_mb

    probe = ctx.probe
    events = ctx.rt.store.audit_events()
    limiter = getattr(ctx.rt.services.aws, "limiter", None)
    issued = probe.issued.get("DeleteAccountAssignment", {})
    return {
        "admitted": list(probe.admitted),
        "throttled": dict(probe.throttled),
        "deleted": {key[0]: when for key, when in probe.deleted.items()},
        "issued": {key[0]: when for key, when in issued.items()},
        "limiter": (
            f"{limiter!r}, since start {limiter.acquired} calls, {limiter.waited:.1f} s waited"
            if limiter is not None
            else "none"
        ),
        "revoke_failed": sum(1 for e in events if e["action"] == "revoke_failed"),
        "rss_mb": rss_mb(),
        "peak_mb": peak_rss_mb(),
    }


def quota_bound(
    dues: list[float],
    op_latency: float = 0.0,
    calls_per_op: int = 1,
    rate: float = RATE,
    burst: float = BURST,
    max_outstanding: int = MAX_OUTSTANDING,
) -> float:
    """When the last revocation could land at best, under the token bucket (``rate``,
    ``burst``) and ``max_outstanding`` operations at once.

    Each revocation's delete is sent, in due order, at its due time or as soon as a
    token and a slot are free; it lands ``op_latency`` s later, when its
    ``calls_per_op - 1`` status polls are sent (one token each, the last one frees the
    slot). Calls take tokens in the order they are sent.
    """
    dues = sorted(dues)
    tokens, clock = burst, dues[0]

    def take(at: float) -> float:
        nonlocal tokens, clock
        at = max(at, clock)
        tokens = min(burst, tokens + (at - clock) * rate)
        clock = at
        if tokens < 1:
            wait = (1 - tokens) / rate
            at += wait
            tokens += wait * rate
            clock = at
        tokens -= 1
        return at

    polls_each = calls_per_op - 1
    freed: dict[int, float] = {}  # revocation -> when its slot was free again
    pending: list[tuple[float, int, int]] = []  # (ready, revocation, polls left)
    sent_last, landed = -math.inf, -math.inf
    k = 0
    while k < len(dues) or pending:
        ready = None
        if k < len(dues) and (k < max_outstanding or k - max_outstanding in freed):
            ready = max(dues[k], sent_last, freed.get(k - max_outstanding, -math.inf))
        if pending and (ready is None or pending[0][0] <= ready):
            at, j, left = heapq.heappop(pending)
            at = take(at)
            if left > 1:
                heapq.heappush(pending, (at, j, left - 1))
            else:
                freed[j] = at
            continue
        assert ready is not None
        sent_last = take(ready)
        landed = max(landed, sent_last + op_latency)
        if polls_each > 0:
            heapq.heappush(pending, (sent_last + op_latency, k, polls_each))
        else:
            freed[k] = sent_last + op_latency
        k += 1
    return landed


def order_stats(made: dict[str, Any], times: dict[str, float]) -> tuple[int, int]:
    """``(inversions, deepest)`` of the sessions' ``times`` (principal -> when) against
    their due order: how many sessions came before some session due earlier, and the
    most earlier-due sessions any one session came before."""
    ordered = [
        times[s["principal"]]
        for s in sorted(made["sessions"], key=lambda s: s["expires"])
        if s["principal"] in times
    ]
    inversions, deepest, latest = 0, 0, -math.inf
    for i, when in enumerate(ordered):
        if when < latest:
            inversions += 1
            deepest = max(deepest, sum(1 for earlier in ordered[:i] if earlier > when))
        latest = max(latest, when)
    return inversions, deepest


def out_of_order(made: dict[str, Any], deleted: dict[str, float]) -> int:
    """Sessions whose revocation landed before that of a session due earlier."""
    return order_stats(made, deleted)[0]


def _scenario(
    opts: Options, shared: dict[str, Any], n: int, window: float, op_latency: float, tag: str
) -> list[Row]:
    """``n`` sessions ending over ``window`` seconds, AWS's operations taking
    ``op_latency`` seconds (0: synchronous), against the throttled sso-admin: its rows.
    The synchronous run's memory goes into ``shared["memory"]``."""
    from benchmarks.mass_expiry_rows import Outcome, scenario_rows

    world = start_world(requesters=n, workdir=opts.workdir)
    label = f"{n} due in {window:g} s" + (f", ops {op_latency:g} s async" if op_latency else "")
    try:
        spec = spec_for(world, f"{NAME}-{tag}", scheduler=True, http=False)
        with BotHost(spec) as host:
            time.sleep(2)
            idle = host.call("benchmarks.host:rss")
            people = [(p.slack_id, p.email, p.name) for p in world.requesters]
            made = host.call(
                "benchmarks.expiry_lag:make_sessions",
                people=people,
                account=world.aws.accounts["Sandbox"],
                spacing=window / max(1, n - 1),
                overlap=False,
            )
            host.call("benchmarks.mass_expiry:start_throttle", op_latency=op_latency)
            opts.log(
                f"  {label}: made in {made['setup_s']:.0f} s, throttling on; first ends in "
                f"{made['t0'] - time.time():.1f} s"
            )
            dues = [s["expires"] for s in made["sessions"]]
            # each revocation costs at least one poll interval (1 s) when ops are async
            allowance = 240 if not op_latency else n * (op_latency + 2) + 60
            state = wait_all_ended(host, max(dues) + allowance, opts.log)
            got = host.call("benchmarks.mass_expiry:report")
            admins = world.fake.dm_messages("U05ADA")
            alerts = sum(":rotating_light:" in m.text for m in admins)
    finally:
        world.stop()
    if not op_latency:
        shared["memory"] = {
            "idle": idle,
            "after": {"rss_mb": got["rss_mb"], "peak_mb": got["peak_mb"]},
        }
        shared["memory_label"] = label
    return scenario_rows(Outcome(label, n, window, op_latency, made, got, state, alerts, dues))


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    if opts.quick:
        rows = _scenario(opts, shared, 150, 5.0, 0.0, "sync")
        rows += _scenario(opts, shared, 60, 3.0, 1.0, "async")
    else:
        rows = _scenario(opts, shared, 1000, 60.0, 0.0, "sync")
        rows += _scenario(opts, shared, 1000, 60.0, 1.0, "async")
        rows += _scenario(opts, shared, 30, 2.0, 1.0, "async-small")
    return rows
