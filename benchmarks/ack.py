"""1. Ack latency: the HTTP answer to ``/jit`` and to an Approve click, over waitress.

Simulated people (:class:`sim.people.SlackUser`) send signed requests to the
bot; the time is from sending the request to having read the answer (a new TCP
connection each time, as Slack's servers make). Each person waits until they see the
effect (the modal opened; the approval DM updated with the grant) before acting again:
one person at a time, then 20 at once. Then the request form is submitted the same two
ways, with what its ack waits for timed alone (:mod:`benchmarks.ack_submit`). Approvals go to requests created beforehand with
``Services.submit_request`` (so the DMs exist); Oscar and Olga click.

Until 2026-11-29 a diagnostic round widened Bolt's own listener pool (5 -> 32 workers);
the listeners have run in the runtime's pool since session 2, so it measured nothing
and was removed. The same day the listeners started to ack from the request's thread
(:func:`bot.listeners.common.guarded`). Before, an ack waited for a free worker of that
pool. In the 20-sender round, each new sender's ``/jit`` left a worker waiting on the
AWS rate limiter for its Identity Center user lookup (two ``GetUserId`` calls), each
sender's next ``/jit`` started another lookup before the first was cached, and once all
32 workers waited, so did the acks: up to a second in a probe of that round. Since
session 7 the work that opens a modal (the ``views.open`` behind "modal opened") runs in
a pool of its own that never calls AWS (``rt.modals``), and the Identity Center lookup
after it in the listener pool, so a modal no longer waits behind AWS-bound work either.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from benchmarks.ack_submit import part_rows, submit_form
from benchmarks.common import (
    Options,
    Row,
    Sample,
    closed_loop,
    shows_active,
    start_world,
    summary_ms,
    wait_until,
)
from benchmarks.host import BotHost, spec_for

NAME = "ack"
GOAL_MS = 100.0
OSCAR, OLGA = "U02OSCAR", "U03OLGA"


def approval_messages(fake: Any, approver: str) -> dict[int, Any]:
    """request id -> the approver's DM with its Approve button."""
    from bot import ids

    found = {}
    for message in fake.dm_messages(approver):
        for block in message.blocks or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == ids.ACTION_APPROVE:
                    found[int(element["value"])] = message
    return found


def delivered_approvals(
    fake: Any, approvers: tuple[str, ...], request_ids: list[int], timeout: float = 180.0
) -> dict[str, dict[int, Any]]:
    """Each approver's approval DMs (request id -> message), once every one of
    ``request_ids`` has been delivered (the bot sends them through its outbox)."""
    wanted = set(request_ids)

    def all_there() -> dict[str, dict[int, Any]] | None:
        found = {a: approval_messages(fake, a) for a in approvers}
        return found if all(wanted <= set(m) for m in found.values()) else None

    return wait_until(all_there, timeout, interval=0.1, what="the approval DMs")


def _jit(fake: Any, user: Any) -> Sample:
    # The fake Slack wakes the waiter when the modal opens: polling copies of the view
    # from 20 threads every 5 ms took most of a core in the load generator (the bot's
    # neighbour on this 2-core machine) and delayed reading the acks it measures.
    before_id = fake.latest_view_id(user.user_id)
    response = user.slash("/jit")
    started = time.monotonic() - response.elapsed
    done = None
    if fake.wait_for_modal(user.user_id, before_id, 10) is not None:
        done = time.monotonic() - started
    return Sample(response.elapsed, done, response.status == 200)


def _approve(fake: Any, user: Any, message: Any) -> Sample:
    from bot import ids

    response = user.click(message, ids.ACTION_APPROVE)
    started = time.monotonic() - response.elapsed
    done = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if shows_active(fake, message):
            done = time.monotonic() - started
            break
        time.sleep(0.005)
    return Sample(response.elapsed, done, response.status == 200)


def _rows(what: str, senders: int, samples: list[Sample], effect: str) -> list[Row]:
    acks = [s.ack for s in samples]
    ms = summary_ms(acks)
    label = f"{what}, {senders} sender{'s' if senders > 1 else ''}"
    goal = senders >= 20
    rows = [
        Row(NAME, f"{label}: ack p50", ms["p50"], "ms"),
        Row(NAME, f"{label}: ack p95", ms["p95"], "ms"),
        Row(
            NAME,
            f"{label}: ack p99",
            ms["p99"],
            "ms",
            f"< {GOAL_MS:.0f} ms" if goal else "",
            (ms["p99"] < GOAL_MS) if goal else None,
            f"n={len(samples)}, max {ms['max']:.0f} ms",
        ),
    ]
    done = [s.done for s in samples if s.done is not None]
    missing = len(samples) - len(done) + sum(not s.ok for s in samples)
    if done:
        d = summary_ms(done)
        rows.append(
            Row(
                NAME,
                f"{label}: {effect} p50 / p99",
                f"{d['p50']:.0f} / {d['p99']:.0f}",
                "ms",
                note=f"{missing} never seen or not HTTP 200" if missing else "",
            )
        )
    return rows


def _form_rounds(
    opts: Options, fake: Any, users: list[Any], single: int, senders: int, per_sender: int
) -> list[Row]:
    """The request form submitted (after ``/jit Sandbox`` opened it): one sender, then
    ``senders`` at once (:func:`benchmarks.ack_submit.submit_form`)."""

    def form(sender: int, i: int) -> Sample:
        return submit_form(fake, users[sender % len(users)], "Sandbox", sender * 1000 + i)

    rows: list[Row] = []
    for count, each in ((1, single), (senders, per_sender)):
        opts.log(f"  ack: form submit x{count * each}, {count} sender{'s' if count > 1 else ''}")
        samples = closed_loop(count, each, form)
        rows += _rows("form submit", count, samples, "")
        refused = sum(not s.ok for s in samples)
        if refused:
            rows.append(Row(NAME, f"form submit, {count} senders: not closed", refused, "forms"))
    return rows


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    single = 60 if opts.quick else 200
    per_sender = 4 if opts.quick else 12
    senders = 20
    approvals = single + senders * per_sender + 10
    world = start_world(requesters=60, workdir=opts.workdir)
    rows: list[Row] = []
    try:
        with BotHost(spec_for(world, NAME)) as host:
            people = [(p.slack_id, p.email, p.name) for p in world.requesters]
            opts.log(f"  ack: creating {approvals} pending requests")
            submitted = host.call(
                "benchmarks.host:submit_pending",
                people=people,
                count=approvals,
                account=world.aws.accounts["Sandbox"],
            )
            fake = world.fake
            by_approver = delivered_approvals(fake, (OSCAR, OLGA), submitted)
            request_ids = iter(sorted(by_approver[OSCAR]))
            take = threading.Lock()

            def next_request() -> int:
                with take:
                    return next(request_ids)

            jit_users = [world.user(p.slack_id, host.url) for p in world.requesters[:senders]]
            approvers = [world.user(a, host.url) for a in (OSCAR, OLGA)]

            def jit(sender: int, i: int) -> Sample:
                return _jit(fake, jit_users[sender % len(jit_users)])

            def approve(sender: int, i: int) -> Sample:
                who = approvers[sender % 2]
                return _approve(fake, who, by_approver[who.user_id][next_request()])

            for _ in range(5):  # warm-up: first requests pay for imports, auth.test, caches
                jit(0, 0)
            approve(0, 0)
            opts.log(f"  ack: /jit x{single}, one sender")
            rows += _rows("/jit", 1, closed_loop(1, single, jit), "modal opened")
            opts.log(f"  ack: /jit x{senders * per_sender}, {senders} senders")
            rows += _rows("/jit", senders, closed_loop(senders, per_sender, jit), "modal opened")
            opts.log(f"  ack: Approve x{single}, one sender")
            rows += _rows("Approve", 1, closed_loop(1, single, approve), "grant done")
            opts.log(f"  ack: Approve x{senders * per_sender}, {senders} senders")
            rows += _rows(
                "Approve", senders, closed_loop(senders, per_sender, approve), "grant done"
            )
            rows += _form_rounds(opts, fake, jit_users, single, senders, per_sender)
            ids = [p.slack_id for p in world.requesters]
            rows += part_rows(
                host.call("benchmarks.ack_submit:time_parts", slack_ids=ids, rounds=500)
            )
    finally:
        world.stop()
    return rows
