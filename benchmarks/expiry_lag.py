"""4a. Expiry lag under normal load, on SQLite and on PostgreSQL.

N people each get an approved session (ReadOnlyAccess on Sandbox, distinct principals so
no two share an assignment) whose ``expires_at`` fall ``spacing`` seconds apart, starting
a few seconds ahead. They are made in the bot process through ``Services.submit_request``
and ``Services.decide`` (real DMs, real ``CreateAccountAssignment``), with ``now`` set so
that ``now + 1h`` is the wanted end. The runtime's own scheduler
(``rt.timekeeper.start()``, date jobs at each ``expires_at`` plus the 5 s interval sweep)
does the rest. The moment each assignment disappeared is when moto answered the bot's
``DeleteAccountAssignment`` (an ``after-call`` hook; moto deletes synchronously), checked
at the end with ``ListAccountAssignments``. Lag = that moment - ``expires_at``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from benchmarks.common import (
    POSTGRES_URL,
    Options,
    Row,
    percentile,
    start_world,
)
from benchmarks.host import BotHost, spec_for

if TYPE_CHECKING:
    from bot.runtime import Runtime

NAME = "expiry-lag"
GOAL_S = 1.0
OSCAR = ("U02OSCAR", "oscar@example.com", "Oscar Owner")


def make_sessions(
    ctx: Any,
    people: list[tuple[str, str, str]],
    account: str,
    spacing: float,
    min_lead: float = 3.0,
    overlap: bool = True,
) -> dict[str, Any]:
    """One session per person, ending ``spacing`` s apart from a few seconds from now.

    With ``overlap`` the first sessions may end while later ones are still being
    granted. Returns ``{"t0": first end (epoch), "sessions": [{id, principal, expires}],
    "late_grants": sessions granted after their own end, "setup_s": seconds}``.
    """
    rt = ctx.rt
    began = time.perf_counter()
    from benchmarks.host import submit_pending

    ids: list[int] = []
    for person in people:
        ids += submit_pending(ctx, [person], 1, account)
    per_request = (time.perf_counter() - began) / max(1, len(people))
    n = len(people)
    # a grant (decide) costs about twice a submission: start the ends late enough that each
    # session is granted before it is due (``overlap``), or after all are granted
    lead = n * per_request * 3 + min_lead
    if overlap:
        lead = max(min_lead, lead - (n - 1) * spacing)
    t0 = datetime.now(UTC) + timedelta(seconds=lead)
    sessions, late = _grant_all(rt, ids, t0, spacing)
    return {
        "t0": t0.timestamp(),
        "sessions": sessions,
        "late_grants": late,
        "setup_s": time.perf_counter() - began,
    }


def _grant_all(
    rt: Runtime, ids: list[int], t0: datetime, spacing: float
) -> tuple[list[dict[str, Any]], int]:
    """Oscar approves each of ``ids`` so that the i-th session ends at ``t0 + i *
    spacing`` seconds: the sessions (id, principal, expires as epoch seconds) and how
    many were granted after their own end."""
    from workflows.domain import Person

    approver = Person(*OSCAR)
    sessions: list[dict[str, Any]] = []
    late = 0
    # A sweep grants APPROVED requests with its own (real) now while decide() is still
    # notifying Slack; hold the sweeps off (the timekeeper's lock) during each decide,
    # or some sessions would end an hour late. Between two decides no request is
    # APPROVED, so sweeps run there as usual.
    for i, request_id in enumerate(ids):
        ends = t0 + timedelta(seconds=i * spacing)
        with rt.timekeeper._lock:
            request = rt.services.decide(request_id, approver, True, ends - timedelta(hours=1))
        # Let a sweep that waited for the lock take it: a released threading.Lock is
        # not handed to its waiter, so without this pause the next decide took it back
        # at once, time after time, and the first sessions, already due, ended up to
        # 2 s late (a harness effect: real decides do not hold the timekeeper's lock).
        time.sleep(0.002)
        assert request.session is not None, request.status
        if datetime.now(UTC) > request.session.expires_at:
            late += 1
        sessions.append(
            {
                "id": request.id,
                "principal": request.principal_id,
                "expires": request.session.expires_at.timestamp(),
            }
        )
    return sessions, late


def progress(ctx: Any) -> dict[str, Any]:
    from workflows.states import Status

    return {
        "active": len(ctx.rt.store.with_status(Status.ACTIVE)),
        "deleted": len(ctx.probe.deleted),
    }


def deletions(ctx: Any) -> dict[str, float]:
    """principal id -> wall time the bot's DeleteAccountAssignment took effect."""
    return {key[0]: when for key, when in ctx.probe.deleted.items()}


def wait_all_ended(host: BotHost, until: float, log: Any) -> dict[str, Any]:
    """Poll the bot until no session is active or the wall clock passes ``until``."""
    state = host.call("benchmarks.expiry_lag:progress")
    next_note = time.time() + 15
    while state["active"] and time.time() < until:
        time.sleep(0.5)
        state = host.call("benchmarks.expiry_lag:progress")
        if time.time() > next_note:
            log(f"    {state['active']} sessions still active")
            next_note = time.time() + 15
    return state


def lags(made: dict[str, Any], deleted: dict[str, float]) -> tuple[list[float], int]:
    found, missing = [], 0
    for s in made["sessions"]:
        if s["principal"] in deleted:
            found.append(deleted[s["principal"]] - s["expires"])
        else:
            missing += 1
    return found, missing


def _one(opts: Options, db: str, url: str | None, n: int, spacing: float) -> list[Row]:
    world = start_world(requesters=n, workdir=opts.workdir)
    label = f"{db}, {n} sessions {spacing:g} s apart"
    try:
        kwargs: dict[str, Any] = {"scheduler": True, "http": False}
        if url:
            kwargs.update(database_url=url, drop_tables=True)
        with BotHost(spec_for(world, f"{NAME}-{db}", **kwargs)) as host:
            people = [(p.slack_id, p.email, p.name) for p in world.requesters]
            made = host.call(
                "benchmarks.expiry_lag:make_sessions",
                people=people,
                account=world.aws.accounts["Sandbox"],
                spacing=spacing,
            )
            opts.log(
                f"  {db}: {n} sessions made in {made['setup_s']:.1f} s; first ends in "
                f"{made['t0'] - time.time():.1f} s"
            )
            last = max(s["expires"] for s in made["sessions"])
            wait_all_ended(host, last + 60, opts.log)
            deleted = host.call("benchmarks.expiry_lag:deletions")
            still = world.assigned_principals(world.sso())
        found, missing = lags(made, deleted)
        missing += len(still & {s["principal"] for s in made["sessions"]})
    finally:
        world.stop()
    p99 = percentile(found, 99)
    return [
        Row(NAME, f"{label}: lag p50", percentile(found, 50), "s"),
        Row(NAME, f"{label}: lag p99", p99, "s", f"< {GOAL_S:g} s", p99 < GOAL_S and not missing),
        Row(
            NAME,
            f"{label}: lag max",
            max(found) if found else None,
            "s",
            note=(f"{missing} not removed; " if missing else "")
            + f"{made['late_grants']} granted after their end",
        ),
    ]


def postgres_available() -> str | None:
    """None when PostgreSQL answers at :data:`POSTGRES_URL`, else why not."""
    try:
        import psycopg

        psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except Exception as exc:  # any failure means: skip it
        return str(exc).strip().splitlines()[0]
    return None


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    n = 30 if opts.quick else 120
    spacing = 0.2 if opts.quick else 0.5
    rows = _one(opts, "sqlite", None, n, spacing)
    problem = postgres_available()
    if problem:
        rows.append(Row(NAME, "postgresql: skipped", problem))
    else:
        rows += _one(opts, "postgresql", POSTGRES_URL, n, spacing)
    return rows
