"""5. App Home publish time and view size.

In the bot process: rows are bulk-inserted with SQLAlchemy (``insert(RequestRow)``, and
``SessionRow`` for the active and ended ones) for three requesters with 10, 1,000 and
10,000 past requests over 502 configured accounts (Sandbox, Production and 500 more
owned by Ada, the admin). ``rt.homes.publish(user_id)`` is timed (wall clock: the
queries, the rendering and ``views.publish`` to the fake Slack), then Ada's home, which
covers every account and every request.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from benchmarks.common import POSTGRES_URL, Options, Row, config_text, percentile, start_world
from benchmarks.expiry_lag import postgres_available
from benchmarks.host import BotHost, spec_for

if TYPE_CHECKING:
    from workflows.states import Status

NAME = "home"
GOAL_MS = 150.0
SIZES = (10, 1_000, 10_000)
ADA = "U05ADA"


def _request_rows(
    person: tuple[str, str, str],
    size: int,
    accounts: list[str],
    arn: str,
    now: datetime,
    cycle: list[Status],
) -> list[dict[str, Any]]:
    """``size`` request rows for ``person`` (Slack id, email, name), their statuses
    taken in turn from ``cycle``, one every 10 minutes back from ``now``."""
    slack_id, email, name = person
    rows = [
        {
            "requester_slack_id": slack_id,
            "requester_email": email,
            "requester_name": name,
            "principal_id": f"p-{slack_id}",
            "account_id": accounts[i % len(accounts)],
            "account_name": f"Account {i % len(accounts)}",
            "permission_set_name": "ReadOnlyAccess",
            "permission_set_arn": arn,
            "duration_seconds": 3600,
            "justification": "Investigating failed deploys in OPS-1234 " + "x" * 60,
            "status": cycle[i % len(cycle)].value,
            "requested_at": now - timedelta(minutes=10 * i + 5),
            "approval_deadline": now + timedelta(hours=12),
            "approvers": ["oscar@example.com"],
            "reviews": [],
            "messages": [],
        }
        for i in range(size)
    ]
    for row in rows:  # relationships are not columns
        del row["reviews"], row["messages"]
    return rows


def fill(ctx: Any, people: list[tuple[str, str, str]], sizes: list[int]) -> int:
    """Bulk-insert ``sizes[i]`` requests for ``people[i]``; returns the rows inserted."""
    from sqlalchemy import insert, select

    from storage.models import RequestRow, SessionRow
    from workflows.states import Status

    rt = ctx.rt
    accounts = [a.id for a in rt.config.accounts]
    arn = next(iter(rt.catalog.accounts)).permission_sets.get("ReadOnlyAccess", "arn:ps")
    now = datetime.now(UTC)
    cycle = [Status.EXPIRED] * 90 + [Status.REJECTED] * 6 + [Status.ACTIVE, Status.PENDING]
    cycle += [Status.CANCELLED, Status.REVOKED]
    total = 0
    for (slack_id, email, name), size in zip(people, sizes, strict=True):
        rows = _request_rows((slack_id, email, name), size, accounts, arn, now, cycle)
        with rt.store._session() as s, s.begin():
            s.execute(insert(RequestRow), rows)
            found = s.execute(
                select(RequestRow.id, RequestRow.status, RequestRow.requested_at).where(
                    RequestRow.requester_slack_id == slack_id,
                    RequestRow.status.in_(
                        [Status.ACTIVE.value, Status.EXPIRED.value, Status.REVOKED.value]
                    ),
                )
            ).all()
            sessions = [
                {
                    "request_id": rid,
                    "granted_at": at,
                    "expires_at": (now + timedelta(minutes=30))
                    if status == Status.ACTIVE.value
                    else at + timedelta(hours=1),
                    "ended_at": None if status == Status.ACTIVE.value else at + timedelta(hours=1),
                    "end_reason": None if status == Status.ACTIVE.value else "expired",
                }
                for rid, status, at in found
            ]
            if sessions:
                s.execute(insert(SessionRow), sessions)
        total += size
    return total


def measure(ctx: Any, user_id: str, reps: int) -> dict[str, Any]:
    """Publish ``user_id``'s home ``reps`` times (after one warm-up); size of the view."""
    from bot.render.app_home import home_view
    from workflows.app_home import HomeState, build_home

    homes = ctx.rt.homes
    homes.publish(user_id)
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        homes.publish(user_id)
        times.append(time.perf_counter() - started)
    directory = ctx.rt.directory
    view = home_view(
        build_home(
            ctx.rt.store,
            ctx.rt.config,
            ctx.rt.catalog,
            directory.person(user_id),
            HomeState(),
            ctx.rt.clock(),
            name_of=directory.name_for,
        )
    )
    return {"times": times, "bytes": len(json.dumps(view)), "blocks": len(view["blocks"])}


def _on(opts: Options, db: str, url: str | None) -> list[Row]:
    reps = 5 if opts.quick else 25
    world = start_world(requesters=len(SIZES), workdir=opts.workdir)
    rows: list[Row] = []
    try:
        kwargs: dict[str, Any] = {
            "http": False,
            "config_text": config_text(world, extra_accounts=500),
        }
        if url:
            kwargs.update(database_url=url, drop_tables=True)
        with BotHost(spec_for(world, f"{NAME}-{db}", **kwargs)) as host:
            people = [(p.slack_id, p.email, p.name) for p in world.requesters]
            started = time.perf_counter()
            total = host.call("benchmarks.home:fill", people=people, sizes=list(SIZES))
            opts.log(f"  {db}: {total:,} rows inserted in {time.perf_counter() - started:.1f} s")
            who = [
                (p[0], f"requester with {n:,} requests") for p, n in zip(people, SIZES, strict=True)
            ]
            who.append((ADA, f"admin, 502 accounts, {total:,} requests"))
            for user_id, label in who:
                got = host.call("benchmarks.home:measure", user_id=user_id, reps=reps)
                p50 = percentile(got["times"], 50) * 1000
                p95 = percentile(got["times"], 95) * 1000
                goal = "10,000" in label or "admin" in label
                rows.append(
                    Row(
                        NAME,
                        f"{db}, {label}: publish p50",
                        p50,
                        "ms",
                        f"< {GOAL_MS:.0f} ms" if goal else "",
                        (p50 < GOAL_MS) if goal else None,
                        f"p95 {p95:.0f} ms, n={reps}",
                    )
                )
                rows.append(
                    Row(
                        NAME,
                        f"{db}, {label}: view size",
                        f"{got['bytes'] / 1024:.1f} KiB, {got['blocks']} blocks",
                    )
                )
    finally:
        world.stop()
    return rows


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    rows = _on(opts, "sqlite", None)
    if not opts.quick:
        problem = postgres_available()
        if problem:
            rows.append(Row(NAME, "postgresql: skipped", problem))
        else:
            rows += _on(opts, "postgresql", POSTGRES_URL)
    return rows
