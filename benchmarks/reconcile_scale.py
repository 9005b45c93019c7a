"""7. Drift reconciliation at scale (issue 17 point 7): 1,000 accounts x 10 sets.

The world, seeded straight into moto's server (its own process,
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

import contextlib
import math
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import REGION, Options, Row, percentile

NAME = "reconcile-scale"
#: (name, share of the accounts it is provisioned on)
SETS: tuple[tuple[str, float], ...] = (
    ("ReadOnlyAccess", 1.0),
    ("SecurityAudit", 1.0),
    ("PowerUserAccess", 0.1),
    ("DatabaseAdmin", 0.1),
    ("NetworkAdmin", 0.1),
    ("AdministratorAccess", 0.02),
    ("BillingAdmin", 0.02),
    ("IAMAdmin", 0.02),
    ("DataScientist", 0.02),
    ("SupportUser", 0.02),
)
RATE, BURST, OUTSTANDING, OP_SECONDS = 20.0, 20.0, 15, 1.0
REQUESTERS, ACTIVE_GRANTS, STRAY_USERS, STRAY_GROUPS = 40, 50, 20, 5
APPROVERS = 2
AWS_PAGE = 100  # AWS's most ListAccountsForProvisionedPermissionSet ids a page
OSCAR = ("U02OSCAR", "oscar@example.com", "Oscar Owner")


# --------------------------------------------------------------------------- stand-in


def _serve_standin(conn: Any, moto_endpoint: str) -> None:
    """In the stand-in's process: serve, send the URL, obey commands until None."""
    from sim.aws_standin import AwsStandin

    standin = AwsStandin(moto_endpoint)
    conn.send(standin.url)
    while (command := conn.recv()) is not None:
        if command[0] == "quota":
            standin.op_seconds = OP_SECONDS
            standin.throttle(RATE, BURST)
            standin.limit_outstanding(OUTSTANDING)
            conn.send(True)
        elif command[0] == "throttled":  # ("throttled", since epoch, until epoch)
            conn.send(sum(1 for c in standin.throttled() if command[1] <= c.at <= command[2]))
    standin.stop()


class StandinProcess:
    """The stand-in in a spawned process, so its work shares no GIL with the bot's."""

    def __init__(self, moto_endpoint: str) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve_standin, args=(child, moto_endpoint), name="standin", daemon=True
        )
        self._process.start()
        child.close()
        if not self._conn.poll(60):
            self._process.kill()
            raise TimeoutError("the stand-in did not start")
        self.url: str = self._conn.recv()

    def ask(self, *command: Any) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


# --------------------------------------------------------------------------- seeding


@dataclass
class Seeded:
    accounts: list[str]
    arns: dict[str, str]
    provisioned: dict[str, list[str]]  # set name -> accounts
    instance_arn: str
    store_id: str
    users: dict[str, str]  # email -> user id
    timings: dict[str, float] = field(default_factory=dict)


def _where(index: int, share: float, accounts: list[str]) -> list[str]:
    """The accounts the ``index``-th set is provisioned on: all, or every 1/share-th
    account from an offset of its own."""
    if share >= 1:
        return list(accounts)
    step = round(1 / share)
    return [a for i, a in enumerate(accounts) if i % step == index % step]


def _seed(endpoint: str, n_accounts: int) -> Seeded:
    """The world (see the module) in moto at ``endpoint``; every call straight to moto."""
    import boto3

    from sim.aws_world import seed_demo_world

    session = boto3.session.Session(region_name=REGION)
    clock = time.perf_counter()
    demo = seed_demo_world(region=REGION)
    org = session.client("organizations", endpoint_url=endpoint)
    sso = session.client("sso-admin", endpoint_url=endpoint)
    ids = session.client("identitystore", endpoint_url=endpoint)
    accounts = [demo.accounts["Sandbox"], demo.accounts["Production"]]
    began = time.perf_counter()
    for i in range(len(accounts), n_accounts):
        status = org.create_account(AccountName=f"Acct{i:04d}", Email=f"acct{i}@example.com")
        accounts.append(status["CreateAccountStatus"]["AccountId"])
    timings = {"create_accounts_s": time.perf_counter() - began}
    arns = dict(demo.permission_sets)
    for name, _ in SETS:
        if name not in arns:
            arns[name] = sso.create_permission_set(
                Name=name, InstanceArn=demo.instance_arn, SessionDuration="PT1H"
            )["PermissionSet"]["PermissionSetArn"]
    began = time.perf_counter()
    provisioned = {name: _where(i, share, accounts) for i, (name, share) in enumerate(SETS)}
    for name, where in provisioned.items():
        for account in where:
            sso.provision_permission_set(
                InstanceArn=demo.instance_arn,
                PermissionSetArn=arns[name],
                TargetType="AWS_ACCOUNT",
                TargetId=account,
            )
    timings["provision_s"] = time.perf_counter() - began
    users = dict(demo.users)
    for i in range(REQUESTERS):
        email = f"user{i}@example.com"
        users[email] = ids.create_user(
            IdentityStoreId=demo.identity_store_id,
            UserName=email,
            DisplayName=f"User {i}",
            Name={"GivenName": "User", "FamilyName": str(i)},
            Emails=[{"Value": email, "Type": "work", "Primary": True}],
        )["UserId"]
    seeded = Seeded(accounts, arns, provisioned, demo.instance_arn, demo.identity_store_id, users)
    _by_hand(sso, ids, seeded)
    timings["seed_s"] = time.perf_counter() - clock
    seeded.timings = timings
    return seeded


def _by_hand(sso: Any, ids: Any, seeded: Seeded) -> None:
    """The kept break-glass group on the 2% sets, and the strays (users and a group)."""

    def assign(account: str, name: str, kind: str, principal: str) -> None:
        sso.create_account_assignment(
            InstanceArn=seeded.instance_arn,
            TargetId=account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=seeded.arns[name],
            PrincipalType=kind,
            PrincipalId=principal,
        )

    def group(name: str) -> str:
        return ids.create_group(IdentityStoreId=seeded.store_id, DisplayName=name)["GroupId"]

    kept, contractors = group("BreakGlass"), group("Contractors")
    for name, share in SETS:
        if share < 0.1:
            for account in seeded.provisioned[name]:
                assign(account, name, "GROUP", kept)
    pairs = [(a, n) for n, where in seeded.provisioned.items() for a in where]
    step = max(1, len(pairs) // (STRAY_USERS + STRAY_GROUPS))
    strays = pairs[step // 2 :: step][: STRAY_USERS + STRAY_GROUPS]
    for k, (account, name) in enumerate(strays):
        if k < STRAY_USERS:
            assign(account, name, "USER", seeded.users["bob@example.com"])
        else:
            assign(account, name, "GROUP", contractors)


def config_text(seeded: Seeded) -> str:
    names = ", ".join(name for name, _ in SETS)
    lines = ["admins: [ada@example.com]", "sso_admins: [sam@example.com]", "accounts:"]
    for account in seeded.accounts:
        lines += [
            f'  - id: "{account}"',
            "    owners: [oscar@example.com]",
            f"    permission_sets: [{names}]",
        ]
    lines += [
        "durations: [1h, 4h]",
        "approval_timeout: 24h",
        "limits: {pending_per_requester: 100000, requests_per_minute: 100000}",
        "reconcile: {mode: remove, keep: [BreakGlass]}",
    ]
    return "\n".join(lines) + "\n"


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
