"""4b. Mass expiry against AWS with IAM Identity Center's quotas.

1,000 sessions (distinct principals) end within one minute, evenly spread, spread over
80 member accounts of moto's organization (:func:`session_accounts`: four busy ones,
a shared sandbox, dev, staging and data account say, hold four times the sessions of
each of the other 76, as in an organization where most people work in a few shared
accounts; the accounts drawn at random, seeded, so a busy account's sessions come in
clumps). The sessions are made as in :mod:`benchmarks.expiry_lag`; the runtime's
scheduler does the revocations. The bot runs on its defaults (15 calls/s client-side,
burst 7.5, 15 outstanding operations, :mod:`workflows.config.defaults`).

AWS is moto behind the Identity Center stand-in (:class:`sim.aws_standin.AwsStandin`,
in the load generator's process). Once the sessions are made, the stand-in emulates the
published quota (https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html):
a token bucket of 20 calls/s (burst 20) over all sso-admin calls ("20 TPS",
collective), ``ServiceQuotaExceededException`` past 15 outstanding asynchronous
assignment operations, and ``ConflictException`` for a change to an account and
permission set while one is in progress ("IAM roles ... updated at a time: 1"). It
records every call, so "issued" is when it accepted a ``DeleteAccountAssignment`` and
"landed" is that plus ``op_seconds`` (when the change was made in moto).

Three runs (``--quick``: smaller): moto's own synchronous changes (``op_seconds`` 0: a
revocation is one ``DeleteAccountAssignment``), then changes ``IN_PROGRESS`` for 1 s
as in AWS, polled by the bot: 1,000 due in a minute, where the quota binds, and 30 due
in 2 s.

The quota-bound minimum (:func:`quota_bound`) is when an ideal bot with no overhead of
its own would have confirmed the last revocation: each revocation sent at its due time or as soon as a token of
the bot's rate, one of the 15 slots and its account are free (the earliest due of those
that may go first), its status call(s) sent the moment AWS finished it, and its slot
and account free again with its last one. A revocation costs ``calls_per_op`` calls:
its delete, and with asynchronous operations the one ``Describe...Status`` that
confirms it (:mod:`workflows.aws.operations`; the shared ``List...Status`` calls are not
counted). So the bound is at least each of: all calls at the rate (calls / rate), the
busiest account's revocations one after another (its sessions x op time, from its first
due), the slots (sessions x op time / 15) and the last due + op time; the rows name them.
The goal compares the bot's last confirmation (its last ``Describe...DeletionStatus``;
with synchronous changes the delete's answer) with it: that ideal bot's last *landing*
is not a lower bound for the bot's, since a bot may send its last deletes before the
confirmations of earlier ones (the 30 due in 2 s beat it by 13 %). When AWS had
finished the last one ("last landed") is shown besides.
"""

from __future__ import annotations

import heapq
import math
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import Options, Row, start_world
from benchmarks.expiry_lag import wait_all_ended
from benchmarks.host import BotHost, spec_for
from benchmarks.world import add_member_accounts, config_text

NAME = "mass-expiry"
#: IAM Identity Center's quotas (limits page above): 20 calls/s collective (AWS
#: publishes no burst: a second's worth), 15 outstanding asynchronous write calls
QUOTA_RATE = 20.0
QUOTA_BURST = 20.0
MAX_OUTSTANDING = 15
#: member accounts the sessions are spread over, how many of them are busy, and how
#: many times the sessions of another account each busy one holds
ACCOUNTS, BUSY_ACCOUNTS, BUSY_WEIGHT = 80, 4, 4


def session_accounts(n: int, accounts: int, seed: int = 17) -> list[int]:
    """For each of ``n`` sessions in due order, the index of its account in
    ``range(accounts)``: the first :data:`BUSY_ACCOUNTS` weighted :data:`BUSY_WEIGHT`,
    the others 1, drawn with a seeded random generator."""
    weights = [BUSY_WEIGHT if i < BUSY_ACCOUNTS else 1 for i in range(accounts)]
    return random.Random(seed).choices(range(accounts), weights, k=n)


def make_spread_sessions(
    ctx: Any, people: list[tuple[str, str, str]], accounts: list[str], spacing: float
) -> dict[str, Any]:
    """One session per person (ReadOnlyAccess on ``accounts[i]`` for ``people[i]``),
    ending ``spacing`` s apart once all are granted, as
    :func:`benchmarks.expiry_lag.make_sessions` with ``overlap=False``; each session
    also says its ``account``."""
    from benchmarks.expiry_lag import _grant_all  # the same grants, per account here
    from benchmarks.host import submit_pending

    began = time.perf_counter()
    ids = [submit_pending(ctx, [p], 1, a)[0] for p, a in zip(people, accounts, strict=True)]
    per_request = (time.perf_counter() - began) / max(1, len(people))
    # a grant (decide) costs about twice a submission: the first end after all are granted
    lead = len(people) * per_request * 3 + 3.0
    t0 = datetime.now(UTC) + timedelta(seconds=lead)
    sessions, late = _grant_all(ctx.rt, ids, t0, spacing)
    for session, account in zip(sessions, accounts, strict=True):
        session["account"] = account
    return {
        "t0": t0.timestamp(),
        "sessions": sessions,
        "late_grants": late,
        "setup_s": time.perf_counter() - began,
    }


def report(ctx: Any) -> dict[str, Any]:
    """In the bot: its limiter, its revoke_failed events and its memory."""
    from benchmarks.common import peak_rss_mb, rss_mb

    events = ctx.rt.store.audit_events()
    limiter = getattr(ctx.rt.services.aws, "limiter", None)
    return {
        "limiter": (
            f"{limiter!r}, since start {limiter.acquired} calls, {limiter.waited:.1f} s waited"
            if limiter is not None
            else "none"
        ),
        "rate": limiter.rate if limiter is not None else math.inf,
        "burst": limiter.burst if limiter is not None else math.inf,
        "revoke_failed": sum(1 for e in events if e["action"] == "revoke_failed"),
        "rss_mb": rss_mb(),
        "peak_mb": peak_rss_mb(),
    }


def quota_bound(
    dues: list[float],
    op_latency: float = 0.0,
    calls_per_op: int = 1,
    rate: float = QUOTA_RATE,
    burst: float = QUOTA_BURST,
    max_outstanding: int = MAX_OUTSTANDING,
    accounts: list[Any] | None = None,
    confirmed: bool = False,
) -> float:
    """When the last revocation could land at best (``confirmed``: be confirmed, its last
    status call sent; with ``calls_per_op`` 1, when it landed) (epoch seconds, as ``dues``), under
    a token bucket (``rate``, ``burst``), ``max_outstanding`` operations at once and,
    given ``accounts`` (each revocation's, as ``dues``), one change per account at once.

    An event simulation of the ideal bot: the earliest-due revocation whose account and
    a slot are free is sent at its due time or as soon as a token is; it lands
    ``op_latency`` s later, when its ``calls_per_op - 1`` status calls are sent (one
    token each, the last frees its slot and account). Calls take tokens in time order.
    """
    n = len(dues)
    order = sorted(range(n), key=lambda i: dues[i])
    due = [dues[i] for i in order]
    account = [accounts[i] if accounts else i for i in order]
    tokens, clock = burst, due[0]

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

    free, busy, unsent = max_outstanding, set(), list(range(n))
    events: list[tuple[float, int, int]] = []  # (when, revocation, status calls left)
    now, landed, confirmed_at = due[0], -math.inf, -math.inf
    while unsent or events:
        pick = None
        if free > 0:
            pick = next((j for j in unsent if account[j] not in busy), None)
        ready = max(due[pick], now) if pick is not None else math.inf
        if events and events[0][0] <= ready:
            at, j, left = heapq.heappop(events)
            now = take(at) if left else at
            if left > 1:
                heapq.heappush(events, (now, j, left - 1))
            else:
                free += 1
                busy.discard(account[j])
                confirmed_at = max(confirmed_at, now)
            continue
        assert pick is not None
        now = take(ready)
        landed = max(landed, now + op_latency)
        unsent.remove(pick)
        free -= 1
        busy.add(account[pick])
        heapq.heappush(events, (now + op_latency, pick, calls_per_op - 1))
    return confirmed_at if confirmed else landed


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


def _scenario(
    opts: Options,
    shared: dict[str, Any],
    n: int,
    window: float,
    op_latency: float,
    tag: str,
    accounts: int = ACCOUNTS,
) -> list[Row]:
    """``n`` sessions over ``accounts`` accounts ending over ``window`` seconds, AWS's
    operations taking ``op_latency`` seconds (0: synchronous), against the stand-in with
    the quota: its rows. The synchronous run's memory goes into ``shared["memory"]``."""
    from benchmarks.mass_expiry_rows import Outcome, alarming, scenario_rows, standin_record
    from sim.aws_standin import AwsStandin

    world = start_world(requesters=n, workdir=opts.workdir)
    members = add_member_accounts([f"Member{i:02d}" for i in range(accounts)])
    ids = list(members.values())
    per_session = [ids[i] for i in session_accounts(n, accounts)]
    standin = AwsStandin(world.endpoint)
    label = f"{n} due in {window:g} s" + (f", ops {op_latency:g} s async" if op_latency else "")
    try:
        spec = spec_for(
            world,
            f"{NAME}-{tag}",
            scheduler=True,
            http=False,
            config_text=config_text(world, member_accounts=members),
        )
        os.environ["AWS_ENDPOINT_URL"] = standin.url  # the bot's AWS (inherited)
        try:
            host = BotHost(spec)
        finally:
            os.environ["AWS_ENDPOINT_URL"] = world.endpoint
        with host:
            time.sleep(2)
            idle = host.call("benchmarks.host:rss")
            people = [(p.slack_id, p.email, p.name) for p in world.requesters]
            made = host.call(
                "benchmarks.mass_expiry:make_spread_sessions",
                people=people,
                accounts=per_session,
                spacing=window / max(1, n - 1),
            )
            since = len(standin.calls)
            standin.op_seconds = op_latency
            standin.throttle(QUOTA_RATE, QUOTA_BURST)
            standin.limit_outstanding(MAX_OUTSTANDING)
            opts.log(
                f"  {label}: made in {made['setup_s']:.0f} s, quota on; first ends in "
                f"{made['t0'] - time.time():.1f} s"
            )
            dues = [s["expires"] for s in made["sessions"]]
            # each revocation in an account waits for the one before it
            allowance = 240 if not op_latency else n * (op_latency + 2) + 60
            state = wait_all_ended(host, max(dues) + allowance, opts.log)
            time.sleep(op_latency + 0.5)  # the last changes made in moto
            got = host.call("benchmarks.mass_expiry:report")
            got.update(standin_record(standin, since, op_latency))
            sso = world.sso()  # moto itself: what is still assigned
            still = sum(len(world.assigned_principals(sso, a)) for a in ids)
            admins = world.fake.dm_messages("U05ADA")
            alerts = [m.text for m in admins if alarming(m.text)]
    finally:
        standin.stop()
        world.stop()
    if not op_latency:
        shared["memory"] = {
            "idle": idle,
            "after": {"rss_mb": got["rss_mb"], "peak_mb": got["peak_mb"]},
        }
        shared["memory_label"] = label
    outcome = Outcome(label, n, window, op_latency, made, got, state, alerts, dues, still)
    return scenario_rows(outcome)


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    if opts.quick:
        rows = _scenario(opts, shared, 150, 5.0, 0.0, "sync")
        rows += _scenario(opts, shared, 60, 3.0, 1.0, "async")
    else:
        rows = _scenario(opts, shared, 1000, 60.0, 0.0, "sync")
        rows += _scenario(opts, shared, 1000, 60.0, 1.0, "async")
        rows += _scenario(opts, shared, 30, 2.0, 1.0, "async-small")
    return rows
