"""The composition root: the store, the AWS adapter, the Slack side, the outbox, the
services, the scheduler and the Bolt app, each whole in its constructor (nothing set
after it was built; :func:`build_runtime` says how the one cycle is broken)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from slack_bolt import App
from slack_sdk import WebClient

from bot.adapters import (  # make_identity_center, make_web_client: also from here
    Slack,
    make_catalog,
    make_identity_center,
    make_slack,
    make_web_client,
    rule_lookups,
    standard_policies_of,
)
from bot.bindings import Binder
from bot.directory import SlackDirectory
from bot.gate import Gate
from bot.home_publisher import HomePublisher
from bot.listeners.common import submit
from bot.metrics import Metrics
from bot.notifier import SlackNotifier
from bot.outbox_worker import Heartbeat, OutboxWorker
from bot.scheduler import Timekeeper, Wakeups, make_reconciler, make_timekeeper
from bot.settings import Settings
from storage.db import create_schema, make_engine
from storage.store import SqlStore
from workflows.aws import IdentityCenter, ratelimit
from workflows.catalog import Catalog
from workflows.config import Config
from workflows.domain import AccessRequest, Person
from workflows.outbox import OutboxDispatcher
from workflows.people import Roster
from workflows.policy import Rules
from workflows.rebinding import Rebinding
from workflows.rulebook import RuleBook
from workflows.services import Hooks, Leases, Services
from workflows.services.submit import no_standard_policies

__all__ = [
    "Runtime",
    "build_runtime",
    "make_identity_center",
    "make_reconciler",
    "make_web_client",
    "settle_heap",
]

log = logging.getLogger("jitbot")

#: Due sessions the sweep ends at once: twice Identity Center's 15 outstanding
#: assignment operations, because a deletion gives its outstanding slot back as soon as
#: AWS stopped running it, a little before its outcome is confirmed
#: (:mod:`workflows.aws.operations`); meanwhile the next deletion already takes the slot.
PARALLEL_REVOKES = 2 * ratelimit.IDENTITY_CENTER_OUTSTANDING_OPERATIONS


def utc_now() -> datetime:
    return datetime.now(UTC)


def listener_pool() -> ThreadPoolExecutor:
    """The pool the listeners' work after their ack runs in (:attr:`Runtime.listeners`)."""
    return ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt")


def settle_heap() -> None:
    """Take what exists after start-up out of the garbage collector's full passes.

    A built runtime holds about 150,000 objects (slack_bolt, botocore's service models,
    SQLAlchemy, the catalog) that live as long as the process. CPython's full (oldest
    generation) collection walks all of them, and each one stopped every thread of the
    bot for about 100 ms on the benchmark machine: a request arriving then waited that
    long for its ack (the ``/jit`` p99 with 20 senders). ``gc.collect()`` then
    ``gc.freeze()`` (https://docs.python.org/3/library/gc.html#gc.freeze) moves them
    to the permanent generation, so full passes only walk what was made since. Call it
    once, in a serving process, after :func:`build_runtime`; not in tests that build
    many runtimes (frozen objects are never collected).
    """
    gc.collect()
    gc.freeze()


@dataclass
class Runtime:
    """Everything the listeners and the CLI need, wired once; the Bolt ``app`` is built
    from the rest (its listeners registered on this runtime)."""

    settings: Settings
    config: Config
    catalog: Catalog
    store: SqlStore
    aws: IdentityCenter
    client: WebClient
    directory: SlackDirectory
    # who may use jitbot: the Bolt app's first middleware, and asked before anything
    # shows a request (bot.reach)
    gate: Gate
    services: Services
    timekeeper: Timekeeper
    homes: HomePublisher
    outbox: OutboxWorker
    heartbeat: Heartbeat
    metrics: Metrics
    clock: Callable[[], datetime]
    # who the config's people are: rebindings confirmed by admins, look-ups in Slack
    rebinding: Rebinding
    binder: Binder
    # the listeners' work after their ack (bot.listeners.common.guarded): a busy pool delays work, not acks
    listeners: ThreadPoolExecutor = field(default_factory=lambda: listener_pool())
    # work that opens or redraws a modal (a trigger_id lives 3 s; a person watches the
    # form) runs here instead: database reads and Slack calls only, never AWS, so grants
    # waiting on Identity Center's rate limit in ``listeners`` never hold a modal back
    modals: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="modal")
    )
    app: App = field(init=False)

    def __post_init__(self) -> None:
        from bot.app import build_app  # the listeners import this module's Runtime

        self.app = build_app(self)

    def outbox_idle(self) -> bool:
        """Nothing left to send to Slack (tests wait for this before counting messages)."""
        return self.outbox.idle()

    def close(self) -> None:
        """A clean exit: let the listeners in progress (a grant after an Approve) finish,
        stop timed work after the sweep in progress, deliver the outbox round in
        progress, stop renewing leases."""
        self.modals.shutdown(wait=True)  # first: its work may hand some to ``listeners``
        self.listeners.shutdown(wait=True)
        self.timekeeper.shutdown(wait=True)
        self.services.close()
        self.outbox.stop()
        self.heartbeat.stop()
        self.homes.shutdown()


def make_services(
    config: Config,
    catalog: Catalog,
    store: SqlStore,
    aws: IdentityCenter,
    hooks: Hooks,
    leases: Leases,
    slack: Slack | None = None,
) -> Services:
    """The services, the standard sets' policies read from AWS when custom sets are on,
    under the config's access rules (their groups read from AWS and ``slack``)."""
    custom = config.custom_permission_sets.enabled
    return Services(
        config,
        catalog,
        store,
        aws,
        hooks=hooks,
        leases=leases,
        standard_policies=standard_policies_of(aws, catalog) if custom else no_standard_policies,
        parallel_revokes=PARALLEL_REVOKES,
        rulebook=RuleBook(config.rules(), aws.account_ous, aws.known_account_ous),
        rule_lookups=rule_lookups(aws, slack) if config.access_rules else None,
    )


def build_runtime(
    settings: Settings,
    config: Config,
    *,
    aws: IdentityCenter | None = None,
    clock: Callable[[], datetime] = utc_now,
    store: SqlStore | None = None,
    metrics: Metrics | None = None,
) -> Runtime:
    """Wire the bot: permission sets and accounts resolved in AWS, the config's people
    in Slack, now; each object gets its collaborators in its constructor. The one cycle
    (services asking for a sweep, the timekeeper sweeping) goes through
    :class:`~bot.scheduler.Wakeups`. A reload (:mod:`bot.reload`) passes the running
    ``aws``, ``store`` and ``metrics`` on: one rate limit, one pool, counters kept.
    Raises :class:`workflows.aws.AwsError` when AWS cannot be reached for the catalog.
    """
    store = store or _migrated_store(settings)
    aws = aws or make_identity_center(config)
    catalog = make_catalog(config, aws)
    listeners = listener_pool()  # the gate's tellings run there too

    def decider(viewer: Person) -> Callable[[AccessRequest], bool]:  # Pending Approvals
        return services.authority.decider(viewer)  # under rules; ``services``: made below

    later = partial(submit, listeners)
    slack = make_slack(
        settings, config, store, catalog, clock, later, decider if config.access_rules else None
    )
    leases = Leases(store, lease=config.lease_duration)
    outbox = make_outbox(settings, config, store, slack.notifier, leases)
    metrics = metrics or Metrics(store, utc_now)
    wakeups = Wakeups()
    hooks = Hooks(kick=outbox.kick, wake_at=wakeups.wake_at, on_timing=metrics.observe)
    services = make_services(config, catalog, store, aws, hooks, leases, slack)
    people = make_binder(config, store, slack.client, wakeups, clock)
    runtime = Runtime(
        settings=settings,
        config=config,
        catalog=catalog,
        store=store,
        aws=aws,
        client=slack.client,
        directory=slack.directory,
        gate=slack.gate,
        services=services,
        timekeeper=make_timekeeper(config, services, store, wakeups, clock, aws),
        homes=slack.homes,
        outbox=outbox,
        heartbeat=Heartbeat(
            store, leases.holder, config.lease_duration, utc_now, on_replicas=aws.share_quota
        ),
        metrics=metrics,
        clock=clock,
        rebinding=people[0],
        binder=people[1],
        listeners=listeners,
    )
    runtime.heartbeat.start()
    outbox.start()
    return runtime


def _migrated_store(settings: Settings) -> SqlStore:
    engine = make_engine(settings.database_url)
    create_schema(engine)
    return SqlStore(engine)


def make_outbox(
    settings: Settings, config: Config, store: SqlStore, notifier: SlackNotifier, leases: Leases
) -> OutboxWorker:
    """The outbox worker, delivering through ``notifier``; alerts go to the admins as
    bound when each is delivered."""
    dispatcher = OutboxDispatcher(
        store,
        notifier,
        admins=lambda: Rules(config, Roster.of(store.bindings())).admins(),
        holder=leases.holder,
        clock=utc_now,
        lease=config.lease_duration,
        max_backoff=settings.jitbot_outbox_max_backoff,
    )
    return OutboxWorker(dispatcher, store, clock=utc_now)


def make_binder(
    config: Config,
    store: SqlStore,
    client: WebClient,
    wakeups: Wakeups,
    clock: Callable[[], datetime],
) -> tuple[Rebinding, Binder]:
    """Who the config's people are: looked up in Slack now (before serving) and every
    ``identity.resolve_interval`` on ``wakeups``' scheduler (:mod:`bot.bindings`)."""
    rebinding = Rebinding(config, store)
    binder = Binder(client, rebinding, clock)
    binder.run()
    wakeups.scheduler.add_job(
        binder.run,
        "interval",
        seconds=config.identity.resolve_interval.total_seconds(),
        id="resolve_people",
        max_instances=1,
        coalesce=True,
    )
    return rebinding, binder
