"""4b. Mass expiry with AWS throttled like IAM Identity Center.

1,000 sessions (distinct principals) end within one minute, evenly spread, made as in
:mod:`benchmarks.expiry_lag`. Once they are made, a :class:`~benchmarks.awshooks.Probe`
on the bot's sso-admin client emulates the published quota
(https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html): a 20 calls/s
token bucket (burst 20) shared by all sso-admin calls, and at most 10 outstanding
asynchronous assignment operations; a call over either is answered
``ThrottlingException`` by the hook. The runtime's scheduler does the revocations.

The quota-bound minimum is when the last revocation could land if every session cost
exactly one ``DeleteAccountAssignment`` (what moto needs: it finishes at once) sent at
its ``expires_at`` or as soon as the bucket allows.

A second, small run makes the assignment operations asynchronous like AWS's
(``IN_PROGRESS`` for ``op_latency`` seconds, polled by the bot with
``DescribeAccountAssignmentDeletionStatus``) to show what the bot's polling costs.
"""

from __future__ import annotations

import math
import time
from typing import Any

from benchmarks.common import Options, Row, percentile, start_world
from benchmarks.expiry_lag import lags, wait_all_ended
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
    return {
        "admitted": list(probe.admitted),
        "throttled": dict(probe.throttled),
        "deleted": {key[0]: when for key, when in probe.deleted.items()},
        "revoke_failed": sum(1 for e in events if e["action"] == "revoke_failed"),
        "rss_mb": rss_mb(),
        "peak_mb": peak_rss_mb(),
    }


def quota_bound(dues: list[float], rate: float = RATE, burst: float = BURST) -> float:
    """When the last of one-call-each revocations could land under a token bucket."""
    tokens, clock, last = burst, min(dues), min(dues)
    for due in sorted(dues):
        now = max(due, last)
        tokens = min(burst, tokens + (now - clock) * rate)
        clock = now
        if tokens < 1:
            wait = (1 - tokens) / rate
            now += wait
            tokens += wait * rate
            clock = now
        tokens -= 1
        last = now
    return last


def out_of_order(made: dict[str, Any], deleted: dict[str, float]) -> int:
    """Sessions whose revocation landed before that of a session due earlier."""
    landed = [
        deleted[s["principal"]]
        for s in sorted(made["sessions"], key=lambda s: s["expires"])
        if s["principal"] in deleted
    ]
    count, latest = 0, -math.inf
    for when in landed:
        if when < latest:
            count += 1
        latest = max(latest, when)
    return count


def _scenario(
    opts: Options, shared: dict[str, Any], n: int, window: float, op_latency: float, tag: str
) -> list[Row]:
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
    found, missing = lags(made, got["deleted"])
    landed = sorted(got["deleted"].values())
    admitted = got["admitted"]
    span = (admitted[-1] - admitted[0]) if len(admitted) > 1 else math.nan
    per_second: dict[int, int] = {}
    for t in admitted:
        per_second[int(t - admitted[0])] = per_second.get(int(t - admitted[0]), 0) + 1
    throttled = sum(got["throttled"].values())
    t0 = min(dues)
    if op_latency:
        bound = t0 + max(window, math.ceil(n / MAX_OUTSTANDING) * op_latency)
    else:
        bound = quota_bound(dues)
    last = landed[-1] if landed else math.nan
    rows = [
        Row(
            NAME,
            f"{label}: sso-admin calls/s sustained",
            len(admitted) / span if span else None,
            "/s",
            note=f"peak {max(per_second.values()) if per_second else 0} in 1 s; quota {RATE:g}/s",
        ),
        Row(
            NAME,
            f"{label}: calls throttled",
            throttled,
            "",
            note=", ".join(f"{k.split(':')[1]} {v}" for k, v in got["throttled"].items()),
        ),
        Row(
            NAME,
            f"{label}: revocations landed out of due order",
            out_of_order(made, got["deleted"]),
            "",
            "0",
            out_of_order(made, got["deleted"]) == 0 and not missing,
        ),
        Row(
            NAME,
            f"{label}: lag p50 / p99",
            f"{percentile(found, 50):.2f} / {percentile(found, 99):.2f}",
            "s",
            note=f"max {max(found) if found else math.nan:.2f} s",
        ),
        Row(
            NAME,
            f"{label}: last landed after first due",
            last - t0,
            "s",
            note=f"quota-bound minimum {bound - t0:.1f} s",
        ),
        Row(
            NAME,
            f"{label}: last landed / quota-bound minimum",
            (last - t0) / (bound - t0),
            "x",
            "close to 1",
            None,
        ),
        Row(
            NAME,
            f"{label}: not revoked in time / revoke_failed events / admin alerts",
            f"{missing + state['active'] * 0} / {got['revoke_failed']} / {alerts}",
            "",
            "0 / 0 / 0",
            missing == 0 and got["revoke_failed"] == 0 and alerts == 0,
        ),
    ]
    if made["late_grants"]:
        rows.append(
            Row(NAME, f"{label}: sessions granted after their end (setup)", made["late_grants"])
        )
    return rows


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    if opts.quick:
        rows = _scenario(opts, shared, 150, 5.0, 0.0, "sync")
        rows += _scenario(opts, shared, 8, 1.0, 1.0, "async")
    else:
        rows = _scenario(opts, shared, 1000, 60.0, 0.0, "sync")
        rows += _scenario(opts, shared, 30, 2.0, 1.0, "async")
    return rows
