"""The mass-expiry benchmark's rows (:mod:`benchmarks.mass_expiry` says what it
measures): the share of the rate used, what AWS refused, the order revocations were
issued and landed in, their lag against the quota-bound minimum, and what was not
revoked in time."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from benchmarks.common import Row, percentile
from benchmarks.expiry_lag import lags
from benchmarks.mass_expiry import (
    MAX_OUTSTANDING,
    NAME,
    QUOTA_BURST,
    QUOTA_RATE,
    order_stats,
    quota_bound,
)


@dataclass
class Outcome:
    """One scenario's run: its ``label``, ``n`` sessions due over ``window`` seconds,
    AWS operations of ``op_latency`` seconds, what the bot made (``made``) and what the
    bot and the stand-in reported (``got``), the sessions' end ``state``, the admins'
    ``alerts`` (their texts), the ``dues`` (epoch seconds) and the assignments ``still`` in moto at
    the end."""

    label: str
    n: int
    window: float
    op_latency: float
    made: dict[str, Any]
    got: dict[str, Any]
    state: dict[str, Any]
    alerts: list[str]
    dues: list[float]
    still: int = 0

    @property
    def calls_per_op(self) -> int:
        """Calls a revocation costs at least: its delete, and with asynchronous
        operations the ``Describe...Status`` that confirms it."""
        return 2 if self.op_latency else 1

    def bound(self, rate: float, burst: float, confirmed: bool = True) -> float:
        """:func:`~benchmarks.mass_expiry.quota_bound` of this run at ``rate``/``burst``:
        the last confirmation (else landing), epoch seconds."""
        accounts = [s["account"] for s in self.made["sessions"]]  # as self.dues
        return quota_bound(
            self.dues,
            self.op_latency,
            self.calls_per_op,
            rate,
            burst,
            MAX_OUTSTANDING,
            accounts,
            confirmed=confirmed,
        )


def alarming(text: str) -> bool:
    """Whether an admin's DM is an alert (``:rotating_light:``, bot/render/alerts.py)
    other than a drift reconciliation report that found nothing (the reconciler's
    first run reports to the admins: :mod:`workflows.reconcile.telling`)."""
    if ":rotating_light:" not in text:
        return False
    if "Drift reconciliation" not in text:
        return True
    counts = re.findall(r"(\d+) (?:stray|reported|grant|orphan|error)", text.split("\n")[0])
    return any(c != "0" for c in counts)


def standin_record(standin: Any, since: int, op_seconds: float) -> dict[str, Any]:
    """What the stand-in saw from call ``since`` on: when each sso-admin call it let
    through arrived (``admitted``), its refusals by code, each principal's first
    accepted ``DeleteAccountAssignment`` (``issued``) and when that change was made
    (``deleted``), and the calls by operation."""
    import botocore.session

    sso = set(botocore.session.get_session().get_service_model("sso-admin").operation_names)
    calls = [c for c in standin.calls[since:] if c.operation in sso]
    refused: dict[str, int] = {}
    issued: dict[str, float] = {}
    per_operation: dict[str, int] = {}
    for c in calls:
        per_operation[c.operation] = per_operation.get(c.operation, 0) + 1
        if c.throttled or c.refused:
            code = "ThrottlingException" if c.throttled else str(c.refused)
            refused[code] = refused.get(code, 0) + 1
        elif c.operation == "DeleteAccountAssignment" and c.principal_id:
            issued.setdefault(c.principal_id, c.at)
    return {
        "admitted": [c.at for c in calls if not c.throttled],
        "refused": refused,
        "issued": issued,
        "deleted": {p: at + op_seconds for p, at in issued.items()},
        "per_operation": per_operation,
        # the bot's last confirmation of a removal (asynchronous changes)
        "confirmed": max(
            (
                c.at
                for c in calls
                if c.operation == "DescribeAccountAssignmentDeletionStatus"
                and not (c.throttled or c.refused)
            ),
            default=math.nan,
        ),
    }


def bound_terms(
    o: Outcome, rate: float, calls_per_op: int, max_outstanding: int = MAX_OUTSTANDING
) -> dict[str, float]:
    """The closed-form lower bounds :func:`quota_bound` is at least, in seconds after
    the first due, for the rows' notes: ``rate`` (all calls at ``rate``), ``account``
    (the busiest account's changes one after another), ``slots`` and ``due`` (the last
    due + op time). ``o`` is an :class:`Outcome`."""
    t0 = min(o.dues)
    chains: dict[str, float] = {}
    for s in sorted(o.made["sessions"], key=lambda s: s["expires"]):
        chains[s["account"]] = max(s["expires"], chains.get(s["account"], -math.inf))
        chains[s["account"]] += o.op_latency
    return {
        "rate": calls_per_op * o.n / rate,
        "account": max(chains.values()) - t0,
        "slots": o.n * o.op_latency / max_outstanding,
        "due": max(o.dues) + o.op_latency - t0,
    }


def order_within_accounts(made: dict[str, Any], times: dict[str, float]) -> tuple[int, int]:
    """:func:`order_stats` within each account: inversions summed, deepest of all."""
    inversions, deepest = 0, 0
    for account in {s["account"] for s in made["sessions"]}:
        mine = [s for s in made["sessions"] if s["account"] == account]
        found = order_stats({"sessions": mine}, times)
        inversions, deepest = inversions + found[0], max(deepest, found[1])
    return inversions, deepest


def scenario_rows(o: Outcome) -> list[Row]:
    """The scenario's rows: the rate's use and refusals, then the order, lag and misses."""
    label, got = o.label, o.got
    admitted = got["admitted"]
    span = (admitted[-1] - admitted[0]) if len(admitted) > 1 else math.nan
    per_second: dict[int, int] = {}
    for t in admitted:
        per_second[int(t - admitted[0])] = per_second.get(int(t - admitted[0]), 0) + 1
    refused = sum(got["refused"].values())
    terms = bound_terms(o, got["rate"], o.calls_per_op)
    # the bot's own rate is what binds when its term is the largest and beyond the dues
    rate_binds = terms["rate"] >= max(terms.values()) and terms["rate"] > terms["due"]
    sustained = len(admitted) / span if span else None
    calls = ", ".join(f"{k} {v}" for k, v in sorted(got["per_operation"].items()))
    return [
        Row(
            NAME,
            f"{label}: sso-admin calls/s sustained",
            sustained,
            "/s",
            note=f"peak {max(per_second.values()) if per_second else 0} in 1 s; AWS's quota "
            f"{QUOTA_RATE:g}/s; bot's limiter {got['limiter']}; calls: {calls}",
        ),
        Row(
            NAME,
            f"{label}: share of the bot's own rate used, first to last call",
            100 * sustained / got["rate"] if sustained else None,
            "%",
            ">= 90 %" if rate_binds else "",
            (sustained or 0) >= 0.9 * got["rate"] if rate_binds else None,
            note=f"{100 * (sustained or 0) / QUOTA_RATE:.0f} % of AWS's {QUOTA_RATE:g}/s"
            + ("" if rate_binds else "; the rate does not bind here"),
        ),
        Row(
            NAME,
            f"{label}: calls AWS refused (throttled, outstanding quota, conflict)",
            refused,
            "",
            "0",
            refused == 0,
            note=", ".join(f"{k} {v}" for k, v in sorted(got["refused"].items())),
        ),
    ] + _order_rows(o)


def _order_rows(o: Outcome) -> list[Row]:
    """Revocations issued in due order within each account, landed in due order; then
    :func:`_timing_rows`."""
    label, made, got = o.label, o.made, o.got
    found, missing = lags(made, got["deleted"])
    issued_inv, issued_deepest = order_within_accounts(made, got["issued"])
    across_inv, across_deepest = order_stats(made, got["issued"])
    landed_inv, landed_deepest = order_stats(made, got["deleted"])
    return [
        Row(
            NAME,
            f"{label}: revocations issued in due order within each account (deepest overtaking)",
            issued_deepest,
            "places",
            "<= 1",
            issued_deepest <= 1 and not missing and len(got["issued"]) == o.n,
            note=f"{issued_inv} of {len(got['issued'])} issued before one of its account due "
            f"earlier; across accounts {across_inv}, deepest {across_deepest} places (a "
            "revocation waits while its account has a change under way)",
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
    """The revocations' lag (``found``, seconds), the last one against the quota-bound
    minimum, and what was not revoked in time (``missing``)."""
    label, made, got, alerts = o.label, o.made, o.got, o.alerts
    landed = sorted(got["deleted"].values())
    t0 = min(o.dues)
    bound = o.bound(got["rate"], got["burst"]) - t0
    ideal_landing = o.bound(got["rate"], got["burst"], confirmed=False) - t0
    at_quota = o.bound(QUOTA_RATE, QUOTA_BURST) - t0
    terms = bound_terms(o, got["rate"], o.calls_per_op)
    busiest = max(
        sum(s["account"] == a for s in made["sessions"])
        for a in {s["account"] for s in made["sessions"]}
    )
    why = (
        f"quota-bound minimum {bound:.1f} s, at the bot's {got['rate']:g}/s: an ideal bot's "
        f"schedule, at least max(calls {o.calls_per_op} x {o.n} / {got['rate']:g}/s = "
        f"{terms['rate']:.1f}, busiest account {busiest} x {o.op_latency:g} s from its "
        f"first due = {terms['account']:.1f}, {o.n} x {o.op_latency:g} s / "
        f"{MAX_OUTSTANDING} slots = {terms['slots']:.1f}, last due + op = "
        f"{terms['due']:.1f}); at AWS's {QUOTA_RATE:g}/s it would be {at_quota:.1f} s"
    )
    last = landed[-1] - t0 if landed else math.nan
    # with synchronous changes the delete's answer confirms it
    done = got["confirmed"] - t0 if o.op_latency else last
    not_revoked = missing + o.still
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
            last,
            "s",
            note=f"AWS had finished the last removal; the ideal bot's last landing "
            f"{ideal_landing:.1f} s",
        ),
        Row(NAME, f"{label}: last confirmed by the bot after first due", done, "s", note=why),
        Row(
            NAME,
            f"{label}: last confirmed / quota-bound minimum",
            done / bound,
            "x",
            "<= 1.1",
            done / bound <= 1.1,
        ),
        Row(
            NAME,
            f"{label}: not revoked in time / revoke_failed events / admin alerts",
            f"{not_revoked} / {got['revoke_failed']} / {len(alerts)}",
            "",
            "0 / 0 / 0",
            not_revoked == 0 and got["revoke_failed"] == 0 and not alerts,
            note="; ".join(
                ([f"{o.still} still assigned in moto at the end"] if o.still else [])
                + [a.split("\n")[0][:160] for a in alerts[:2]]
            ),
        ),
    ]
    if made["late_grants"]:
        rows.append(
            Row(NAME, f"{label}: sessions granted after their end (setup)", made["late_grants"])
        )
    return rows
