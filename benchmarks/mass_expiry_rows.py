"""The mass-expiry benchmark's rows (:mod:`benchmarks.mass_expiry` says what it
measures): the share of Identity Center's quota used, throttling, the order revocations
were issued and landed in, their lag, and what was not revoked in time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from benchmarks.common import Row, percentile
from benchmarks.expiry_lag import lags
from benchmarks.mass_expiry import MAX_OUTSTANDING, NAME, RATE, order_stats, quota_bound


@dataclass
class Outcome:
    """One scenario's run: its ``label``, ``n`` sessions due over ``window`` seconds,
    AWS operations of ``op_latency`` seconds, what the bot made (``made``) and reported
    (``got``), the sessions' end ``state``, the admins' ``alerts`` and the ``dues``
    (epoch seconds)."""

    label: str
    n: int
    window: float
    op_latency: float
    made: dict[str, Any]
    got: dict[str, Any]
    state: dict[str, Any]
    alerts: int
    dues: list[float]


def scenario_rows(o: Outcome) -> list[Row]:
    """The scenario's rows: the quota's use, then the order, lag and misses."""
    label, n, window, op_latency, got = o.label, o.n, o.window, o.op_latency, o.got
    admitted = got["admitted"]
    span = (admitted[-1] - admitted[0]) if len(admitted) > 1 else math.nan
    per_second: dict[int, int] = {}
    for t in admitted:
        per_second[int(t - admitted[0])] = per_second.get(int(t - admitted[0]), 0) + 1
    throttled = sum(got["throttled"].values())
    quota_binds = n / window > RATE or (
        op_latency > 0 and n * op_latency / window > MAX_OUTSTANDING
    )
    sustained = len(admitted) / span if span else None
    return [
        Row(
            NAME,
            f"{label}: sso-admin calls/s sustained",
            sustained,
            "/s",
            note=f"peak {max(per_second.values()) if per_second else 0} in 1 s; quota {RATE:g}/s; "
            f"bot's limiter {got['limiter']}",
        ),
        Row(
            NAME,
            f"{label}: share of the quota used, first to last call",
            100 * sustained / RATE if sustained else None,
            "%",
            ">= 90 %" if quota_binds else "",
            (sustained or 0) >= 0.9 * RATE if quota_binds else None,
            note="" if quota_binds else "demand below the quota",
        ),
        Row(
            NAME,
            f"{label}: calls throttled (HTTP attempts)",
            throttled,
            "",
            "0",
            throttled == 0,
            note=", ".join(f"{k.split(':')[1]} {v}" for k, v in got["throttled"].items()),
        ),
    ] + _order_rows(o)


def _order_rows(o: Outcome) -> list[Row]:
    """Revocations issued and landed in due order; then :func:`_timing_rows`."""
    label, made, got = o.label, o.made, o.got
    found, missing = lags(made, got["deleted"])
    issued_inv, issued_deepest = order_stats(made, got["issued"])
    landed_inv, landed_deepest = order_stats(made, got["deleted"])
    return [
        Row(
            NAME,
            f"{label}: revocations issued in due order (deepest overtaking)",
            issued_deepest,
            "places",
            f"< {MAX_OUTSTANDING}",
            issued_deepest < MAX_OUTSTANDING and not missing and len(got["issued"]) == o.n,
            note=f"{issued_inv} of {len(got['issued'])} issued before one due earlier; "
            f"{MAX_OUTSTANDING} are under way at once",
        ),
        Row(
            NAME,
            f"{label}: revocations landed out of due order",
            landed_inv,
            "",
            note=f"deepest {landed_deepest} places",
        ),
    ] + _timing_rows(o, found, missing)


def _timing_rows(o: Outcome, found: list[float], missing: int) -> list[Row]:
    """The revocations' lag (``found``, seconds), the last one against the quota's
    bound, and what was not revoked in time (``missing``)."""
    label, made, got, state, alerts = o.label, o.made, o.got, o.state, o.alerts
    landed = sorted(got["deleted"].values())
    t0 = min(o.dues)
    # a revocation is a delete and a share of the status lists: the strictest bound
    # counts the delete only, so with asynchronous operations the 10 slots bind
    bound = quota_bound(o.dues, o.op_latency, 1)
    last = landed[-1] if landed else math.nan
    rows = [
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
            "<= 1.1",
            (last - t0) / (bound - t0) <= 1.1,
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
