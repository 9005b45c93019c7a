"""7. Drift reconciliation at scale (issue 17 point 7): 1,000 accounts x 10 sets.

The world (:mod:`benchmarks.reconcile_world`), seeded straight into moto's server (its own process,
:class:`benchmarks.world.MotoProcess`): an organization of 1,000 member accounts (the
demo's Sandbox and Production and 998 more, made with ``organizations:CreateAccount``
in a loop over moto's server: 8 to 18 ms each, 18 s for 1,000 on a loaded 2-core
machine; eight threads were slower per account), 10 permission sets, each
provisioned (``ProvisionPermissionSet``) on a subset: 2 on every account (ReadOnlyAccess,
SecurityAudit), 3 on 10% (a different tenth each), 5 on 2% (a different fiftieth each).
All 10 sets are configured on all 1,000 accounts (10,000 catalog pairs), so the run
lists only where each set is provisioned. Assignments: 50 ACTIVE jitbot grants (made
through the services), a kept break-glass group (``reconcile.keep``) on the 2% sets,
20 stray user assignments and 5 stray group ones made by hand; ``reconcile.mode:
remove`` (groups are reported only, the default), past the first run.

The bot side runs in this process: the real adapter (``make_identity_center``:
``max_calls_per_second`` 15, the product default), catalog, SQLite store, services and
``make_reconciler`` (``reconcile.rate_share`` 0.25: 3.75 calls/s). AWS is the
Identity Center stand-in (:mod:`sim.aws_standin`, in a process of its own) in front of
moto, throttling ``sso-admin`` at the quota (20 calls/s, burst 20; 15 outstanding
changes) with changes ``IN_PROGRESS`` for 1 s, as AWS's are.

Grant latency is approval -> ACTIVE through the real services: ``Services.decide``
(the approver's click) returns once ``CreateAccountAssignment`` was answered and its
status polled to ``SUCCEEDED`` and the request stored ACTIVE. Two people approve in a
closed loop (each grant a new requester, account and set triple on the sets provisioned
everywhere), first with no reconcile running, then during one run (grants that started
and ended inside it). The run's calls are counted by a ``before-call`` hook on the
adapter's clients, only those made in the run's thread (the run is one thread).

At 0.25 x 15 calls/s a run of this world lasts 11 minutes or more by design (one
``ListAccountAssignments`` per provisioned pair is the floor); the whole run is measured.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import Options, Row, percentile
from benchmarks.reconcile_world import (
    ACTIVE_GRANTS,
    APPROVERS,
    AWS_PAGE,
    OSCAR,
    REQUESTERS,
    SETS,
    STRAY_GROUPS,
    STRAY_USERS,
    Seeded,
    StandinProcess,
    _seed,
    config_text,
)

NAME = "reconcile-scale"
# --------------------------------------------------------------------------- the bot


class Counter_:
    """Calls (``before-call``: once per API call) and HTTP attempts (``before-send``)
    made in the thread :attr:`watched`, by operation."""

    def __init__(self) -> None:
        self.watched: int | None = None
        self.calls: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-call.*.*", self._call, unique_id=f"rs-c-{id(self)}")
        events.register("before-send.*.*", self._send, unique_id=f"rs-s-{id(self)}")

    def _call(self, model: Any, **_: Any) -> None:
        if threading.get_ident() == self.watched:
            with self._lock:
                self.calls[model.name] += 1

    def _send(self, event_name: str, **_: Any) -> None:
        if threading.get_ident() == self.watched:
            with self._lock:
                self.attempts[event_name.rsplit(".", 1)[-1]] += 1


@dataclass
class Bot:
    services: Any
    reconciler: Any
    counter: Counter_
    seeded: Seeded
    targets: list[tuple[str, str, str]]  # (email, account, set name) for new grants
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def target(self) -> tuple[str, str, str]:
        with self._lock:
            found = self.targets[self._next]
            self._next += 1
            return found


def _bot(seeded: Seeded, workdir: Any) -> Bot:
    """The adapter, catalog, store, services and reconciler, as ``jitbot`` builds them."""
    from bot.adapters import make_catalog, make_identity_center
    from bot.runtime import make_reconciler
    from storage.db import create_schema, make_engine
    from storage.store import SqlStore
    from workflows.config import parse_config
    from workflows.reconcile.reconciler import FIRST_RUN
    from workflows.services import Hooks, Services

    config = parse_config(config_text(seeded))
    aws = make_identity_center(config)
    counter = Counter_()
    for service in ("sso-admin", "identitystore", "organizations"):
        counter.install(aws._client(service))
    catalog = make_catalog(config, aws)
    engine = make_engine(f"sqlite:///{workdir}/reconcile-scale.db")
    create_schema(engine)
    store = SqlStore(engine)
    store.audit(None, "jitbot", FIRST_RUN, datetime.now(UTC), {})  # installed earlier
    _bind_people(store)
    services = Services(config, catalog, store, aws, hooks=Hooks())
    reconciler = make_reconciler(config, services, aws)
    everywhere = [name for name, share in SETS if share >= 1]
    targets = [
        (f"user{u}@example.com", account, name)
        for name in everywhere
        for account in seeded.accounts
        for u in range(REQUESTERS)
    ]
    random.Random(0).shuffle(targets)  # consecutive grants: other accounts and people
    return Bot(services, reconciler, counter, seeded, targets)


def _bind_people(store: Any) -> None:
    """The demo's people bound to their Slack ids, as start-up binds them."""
    from sim.demo_setup import PEOPLE
    from workflows.people import Binding

    now = datetime.now(UTC)
    stored = {b.entry: b for b in store.bindings()}
    for email, (slack_id, _name) in PEOPLE.items():
        binding = Binding(email, slack_id, email, now)
        store.save_binding(binding, expect=stored.get(email), now=now)


def _grant(bot: Bot, email: str, account: str, name: str) -> float:
    """Submit, then approve (timed: the approval until ACTIVE) one request."""
    from workflows.domain import Person
    from workflows.states import Status
    from workflows.validation import RequestForm

    i = email.split("@")[0].removeprefix("user")
    requester = Person(f"U9{int(i):06d}", email, f"User {i}")
    form = RequestForm(account, name, "1h", "Benchmarking jitbot: OPS-1234")
    request = bot.services.submit_request(requester, form, datetime.now(UTC))
    began = time.perf_counter()
    done = bot.services.decide(request.id, Person(*OSCAR), True, datetime.now(UTC))
    took = time.perf_counter() - began
    if done.status != Status.ACTIVE:
        raise RuntimeError(f"grant of {email} on {account} ended {done.status}")
    return took


def _seed_grants(bot: Bot) -> None:
    """:data:`ACTIVE_GRANTS` ACTIVE grants on the sets provisioned on fewer accounts."""
    few = [(a, n) for n, share in SETS if share < 1 for a in bot.seeded.provisioned[n]]
    step = max(1, len(few) // ACTIVE_GRANTS)
    for k, (account, name) in enumerate(few[::step][:ACTIVE_GRANTS]):
        _grant(bot, f"user{k % REQUESTERS}@example.com", account, name)


def _grant_loop(bot: Bot, stop: threading.Event) -> list[tuple[float, float, float]]:
    """:data:`APPROVERS` people approving in a closed loop until ``stop``: (started,
    ended, seconds) of each grant, monotonic."""
    samples: list[tuple[float, float, float]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                took = _grant(bot, *bot.target())
                samples.append((started, time.monotonic(), took))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(APPROVERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return samples


@dataclass
class Measured:
    baseline: list[float]
    during: list[float]
    run_s: float
    report: Any
    calls: Counter[str]
    attempts: Counter[str]
    throttled: int


def _measure(bot: Bot, standin: StandinProcess, baseline_s: float) -> Measured:
    """Grants alone for ``baseline_s``, then grants during one paced reconcile run."""
    stop = threading.Event()
    timer = threading.Timer(baseline_s, stop.set)
    timer.start()
    baseline = [s[2] for s in _grant_loop(bot, stop)]
    result: dict[str, Any] = {}
    window: list[float] = []

    def reconcile() -> None:
        bot.counter.watched = threading.get_ident()
        window.append(time.monotonic())
        wall = time.time()
        try:
            result["report"] = bot.reconciler.run(datetime.now(UTC))
        except BaseException as exc:
            result["error"] = exc
        window.append(time.monotonic())
        result["wall"] = (wall, time.time())
        stop.set()

    stop = threading.Event()
    run = threading.Thread(target=reconcile, daemon=True)
    run.start()
    samples = _grant_loop(bot, stop)
    run.join()
    if "error" in result:
        raise result["error"]
    during = [
        took for started, ended, took in samples if window[0] <= started and ended <= window[1]
    ]
    return Measured(
        baseline,
        during,
        window[1] - window[0],
        result["report"],
        bot.counter.calls,
        bot.counter.attempts,
        standin.ask("throttled", *result["wall"]),
    )


# --------------------------------------------------------------------------- rows


def _rows(seeded: Seeded, m: Measured, quick: bool) -> list[Row]:
    sizes = {name: len(where) for name, where in seeded.provisioned.items()}
    pairs, sets = sum(sizes.values()), len(SETS)
    total = sum(m.calls.values())
    listing = "ListAccountsForProvisionedPermissionSet"
    # moto answers it in one page; AWS gives at most 100 account ids a page
    paged = total - m.calls[listing] + sum(math.ceil(n / AWS_PAGE) for n in sizes.values())
    world = (
        f"{len(seeded.accounts):,} accounts x {sets} sets: 2 on all, 3 on 10%, 5 on 2%;"
        f" {ACTIVE_GRANTS} active grants, {STRAY_USERS}+{STRAY_GROUPS} strays"
    )
    share = m.run_s and total / m.run_s
    ratio, paged_ratio = total / (pairs + sets), paged / (pairs + sets)
    rows = [Row(NAME, "provisioned (account, set) pairs", pairs, note=world)]
    rows += [Row(NAME, f"calls per run: {op}", n) for op, n in m.calls.most_common()]
    rows += [
        Row(NAME, "calls per run", total, note=f"{sum(m.attempts.values()):,} HTTP attempts"),
        Row(NAME, "calls / (pairs + sets)", ratio, goal="<= 1.10", ok=ratio <= 1.10),
        Row(
            NAME,
            "calls / (pairs + sets), with AWS's 100-id pages",
            paged_ratio,
            goal="<= 1.10",
            ok=paged_ratio <= 1.10,
            note=f"{paged:,} calls",
        ),
        Row(
            NAME,
            "reconcile run duration",
            m.run_s,
            "s",
            note=f"{share:.2f} calls/s; floor at 0.25 x 15/s: {total / 3.75:.0f} s",
        ),
        Row(NAME, "sso-admin attempts throttled during the run", m.throttled),
        Row(NAME, "run's findings", _findings(m.report)),
    ]
    return rows + _latency_rows(m)


def _findings(report: Any) -> str:
    return (
        f"{len(report.stray_removed)} removed, {len(report.stray_reported)} reported,"
        f" {len(report.vanished)} vanished, {len(report.errors)} errors"
    )


def _latency_rows(m: Measured) -> list[Row]:
    rows = []
    for label, values in (("no reconcile running", m.baseline), ("during a run", m.during)):
        note = f"{label}, {len(values)} grants"
        for p in (50, 99):
            value = percentile(values, p) * 1000
            rows.append(Row(NAME, f"grant latency p{p}", value, "ms", note=note))
    ratio = percentile(m.during, 99) / percentile(m.baseline, 99)
    ok = None if math.isnan(ratio) else ratio <= 1.2
    rows.append(Row(NAME, "grant p99 during / without a run", ratio, goal="<= 1.2", ok=ok))
    return rows


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    """The world (``--quick``: 60 accounts, 20 s of baseline grants; else 1,000 and
    120 s), then grants alone, then grants during one reconcile run."""
    from benchmarks.world import MotoProcess, aws_env

    accounts, baseline_s = (60, 20.0) if opts.quick else (1000, 120.0)
    aws_env()
    moto = MotoProcess()
    try:
        aws_env(moto.endpoint)
        seeded = _seed(moto.endpoint, accounts)
        t = seeded.timings
        opts.log(
            f"  seeded in {t['seed_s']:.0f} s: {accounts} accounts created in"
            f" {t['create_accounts_s']:.1f} s, provisioned in {t['provision_s']:.1f} s"
        )
        standin = StandinProcess(moto.endpoint)
        try:
            aws_env(standin.url)
            began = time.perf_counter()
            bot = _bot(seeded, opts.workdir)
            _seed_grants(bot)
            opts.log(
                f"  bot built, {ACTIVE_GRANTS} grants made in {time.perf_counter() - began:.0f} s"
            )
            standin.ask("quota")
            measured = _measure(bot, standin, baseline_s)
            opts.log(f"  reconcile run: {measured.run_s:.0f} s, {measured.report.summary()}")
        finally:
            standin.stop()
    finally:
        moto.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)
    return _rows(seeded, measured, opts.quick)
