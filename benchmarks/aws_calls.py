"""3. AWS calls per request, ``/jit`` to expiry.

A person types ``/jit``, picks Sandbox, submits ReadOnlyAccess for 1h (all over HTTP,
as a Slack client would); Oscar clicks Approve; then ``rt.services.sweep(now + 2h)``
ends the session. A ``before-call.*.*`` hook on the runtime's sso-admin, identitystore
and organizations clients counts every call (botocore's internal retries excepted).
Once for a person the bot has never seen, then 10 times in a row for another person
(the identity lookup is cached). The calls made while the runtime was built are shown
apart. Slack Web API calls are counted too, from the fake's record.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from benchmarks.ack import OSCAR, approval_messages
from benchmarks.common import Options, Row, World, shows_active, start_world, wait_until
from benchmarks.host import BotHost, spec_for

NAME = "aws-calls"
JUSTIFICATION = "Benchmarking jitbot: OPS-1234"


def sweep_later(ctx: Any, hours: float) -> dict[str, int]:
    from datetime import timedelta

    ctx.rt.services.sweep(ctx.rt.clock() + timedelta(hours=hours))
    from benchmarks.host import status_counts

    return status_counts(ctx)


def roots_of(ctx: Any, request_id: int) -> int:
    request = ctx.rt.store.get(request_id)
    return len(request.messages) if request else 0


def _lifecycle(world: Any, host: Any, user: Any) -> None:
    from bot import ids

    fake = world.fake
    sandbox = world.aws.accounts["Sandbox"]
    before = fake.latest_view(user.user_id)
    assert user.slash("/jit").status == 200
    view = wait_until(
        lambda: (v := fake.latest_view(user.user_id)) and v["id"] != (before or {}).get("id") and v,
        10,
        what="the request modal",
    )
    assert user.select_in_view(view, ids.ACTION_ACCOUNT, sandbox).status == 200

    def with_permission_sets() -> Any:
        current = fake.view(view["id"])
        blocks = (current or {}).get("blocks", [])
        return (
            current if any(b.get("block_id") == ids.BLOCK_PERMISSION_SET for b in blocks) else None
        )

    view = wait_until(with_permission_sets, 10, what="the permission set input")
    known = set(approval_messages(fake, OSCAR))
    response = user.submit(
        view,
        {
            ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: JUSTIFICATION,
        },
    )
    assert response.status == 200 and not response.problems, (response.body, response.problems)
    request_id = wait_until(
        lambda: next(iter(set(approval_messages(fake, OSCAR)) - known), None),
        10,
        what="Oscar's approval DM",
    )
    message = approval_messages(fake, OSCAR)[request_id]
    # submit_request stores the thread roots after the last DM: wait for them (a click
    # before that finds no roots to update; see benchmarks/results.md)
    wait_until(
        lambda: host.call("benchmarks.aws_calls:roots_of", request_id=request_id) >= 3,
        10,
        what="the request's thread roots",
    )
    oscar = world.user(OSCAR, host.url)
    assert oscar.click(message, ids.ACTION_APPROVE).status == 200
    wait_until(
        lambda: shows_active(fake, message),
        10,
        what="the grant",
    )
    statuses = host.call("benchmarks.aws_calls:sweep_later", hours=2)
    assert statuses.get("active", 0) == 0, statuses


def _by_service(counts: dict[str, int]) -> Counter[str]:
    found: Counter[str] = Counter()
    for key, n in counts.items():
        found[key.split(":")[0]] += n
    return found


def _text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.split(':')[1]} {n}" for k, n in sorted(counts.items())) or "none"


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    """AWS and Slack calls at start-up, for one request by a new person, and for ten by
    the same person."""
    world = start_world(requesters=2, workdir=opts.workdir)
    rows: list[Row] = []
    try:
        with BotHost(spec_for(world, NAME)) as host:
            startup = host.info["startup_calls"]
            rows.append(
                Row(
                    NAME,
                    "at start-up (build_runtime)",
                    sum(startup.values()),
                    "calls",
                    note=_text(startup),
                )
            )
            host.call("benchmarks.host:counts", reset=True)
            first, repeat = (world.user(p.slack_id, host.url) for p in world.requesters)
            slack_before = len(world.fake.calls)
            _lifecycle(world, host, first)
            once = host.call("benchmarks.host:counts", reset=True)
            slack_once = len(world.fake.calls) - slack_before
            per_service = _by_service(once)
            rows.append(
                Row(
                    NAME,
                    "one request, new person: total",
                    sum(once.values()),
                    "calls",
                    note=_text(once),
                )
            )
            for service in ("sso-admin", "identitystore", "organizations"):
                rows.append(Row(NAME, f"one request: {service}", per_service[service], "calls"))
            rows.append(Row(NAME, "one request: Slack Web API calls", slack_once, "calls"))
            rows += _repeated(world, host, repeat)
    finally:
        world.stop()
    return rows


def _repeated(world: World, host: BotHost, repeat: Any) -> list[Row]:
    """Ten lifecycles by the same person (``repeat``, a ``SlackUser``): the calls of
    the first and of the later ones, which the bot's caches should make cheaper."""
    totals: list[int] = []
    merged: Counter[str] = Counter()
    for _ in range(10):
        _lifecycle(world, host, repeat)
        counts = host.call("benchmarks.host:counts", reset=True)
        totals.append(sum(counts.values()))
        merged.update(counts)
    return [
        Row(
            NAME,
            "10 requests, same person: total",
            sum(totals),
            "calls",
            note=_text(merged),
        ),
        Row(
            NAME,
            "10 requests: 1st / later (each)",
            f"{totals[0]} / {max(totals[1:])}",
            "calls",
        ),
        Row(
            NAME,
            "10 requests: cached later ones cheaper",
            "yes" if max(totals[1:]) < totals[0] else "no",
            goal="later < first",
            ok=max(totals[1:]) < totals[0],
        ),
    ]
