"""Part of 1. Ack latency: the request form's submission, and what two steps before the
ack cost inside the bot.

A submission is acked after the form is validated and the requester's limits are
checked (``Services.check_limits``: two ``COUNT`` queries of the requester's requests,
in :func:`bot.listeners.views.register`), so the form can say "too many requests"
inline. Every signed request (but options requests) is also remembered before Bolt sees
it (``SqlStore.remember_delivery``: a ``DELETE`` of expired digests and an ``INSERT``,
one write transaction, :mod:`storage.deliveries`), so a replay is dropped. Both are on
the path of every ack they concern; the diagnostic rows time each alone, in the bot's
process, on its database, back to back.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

from benchmarks.common import Row, Sample, summary_ms

NAME = "ack"


def submit_form(fake: Any, user: Any, account_query: str, i: int) -> Sample:
    """``/jit <account>`` (the account preselected), wait for the modal, then submit it
    with ReadOnlyAccess for 1h; the sample is the submission's ack, ``ok`` when the
    form closed (an empty answer, not inline errors)."""
    from bot import ids

    before_id = fake.latest_view_id(user.user_id)
    opened = user.slash("/jit", account_query)
    view_id = fake.wait_for_modal(user.user_id, before_id, 10) if opened.status == 200 else None
    if view_id is None:
        return Sample(opened.elapsed, None, False)
    view = fake.view(view_id)
    response = user.submit(
        view,
        {
            ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: f"Benchmarking the form's ack: OPS-{i:05d}",
        },
    )
    closed = response.status == 200 and response.body == ""  # else: inline errors
    return Sample(response.elapsed, None, closed)


def time_parts(ctx: Any, slack_ids: list[str], rounds: int) -> dict[str, list[float]]:
    """In the bot's process: ``rounds`` calls of ``check_limits`` (each of ``slack_ids``
    in turn) and of ``remember_delivery`` (a new digest each), in seconds each."""
    rt = ctx.rt
    limits: list[float] = []
    replay: list[float] = []
    for i in range(rounds):
        now = rt.clock()
        started = time.perf_counter()
        rt.services.check_limits(slack_ids[i % len(slack_ids)], now)
        limits.append(time.perf_counter() - started)
        digest = hashlib.sha256(f"ack-bench-{time.time_ns()}-{i}".encode()).hexdigest()
        started = time.perf_counter()
        rt.store.remember_delivery(digest, now, now + timedelta(minutes=6))
        replay.append(time.perf_counter() - started)
    return {"check_limits": limits, "remember_delivery": replay}


def part_rows(parts: dict[str, list[float]]) -> list[Row]:
    """The diagnostic rows of :func:`time_parts`' timings."""
    rows = []
    for name, label in (
        ("check_limits", "diagnostic: the pre-ack limit query (Services.check_limits)"),
        ("remember_delivery", "diagnostic: the replay INSERT (store.remember_delivery)"),
    ):
        ms = summary_ms(parts[name])
        rows.append(
            Row(
                NAME,
                f"{label}, in the bot, p50 / p99",
                f"{ms['p50']:.2f} / {ms['p99']:.2f}",
                "ms",
                note=f"n={len(parts[name])}",
            )
        )
    return rows
