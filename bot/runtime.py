"""The composition root: builds the store, the AWS adapter, the Slack client, the
services, the scheduler and the Bolt app, and wires them together."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.directory import SlackDirectory
from bot.homes import HomePublisher
from bot.metrics import Metrics
from bot.notifier import SlackNotifier
from bot.outbox_worker import Heartbeat, OutboxWorker
from bot.scheduler import Timekeeper
from bot.settings import Settings
from storage.db import create_schema, make_engine
from storage.store import SqlStore
from workflows import ratelimit
from workflows.assignments import AwsError
from workflows.aws import IdentityCenter
from workflows.catalog import Catalog, CatalogAccount, build_catalog
from workflows.config import Config
from workflows.custom_sets import StandardSetPolicies
from workflows.durations import parse_iso8601_duration
from workflows.outbox import OutboxDispatcher
from workflows.reconcile import Reconciler
from workflows.services import Services

log = logging.getLogger("jitbot")

#: Due sessions the sweep ends at once: twice Identity Center's 10 outstanding
#: assignment operations, because a deletion gives its outstanding slot back as soon as
#: AWS stopped running it, a little before its outcome is confirmed
#: (:mod:`workflows.operations`); meanwhile the next deletion already takes the slot.
PARALLEL_REVOKES = 2 * ratelimit.IDENTITY_CENTER_OUTSTANDING_OPERATIONS


def utc_now() -> datetime:
    return datetime.now(UTC)


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
    """Everything the listeners and the CLI need, wired once."""

    settings: Settings
    config: Config
    catalog: Catalog
    store: SqlStore
    aws: IdentityCenter
    client: WebClient
    directory: SlackDirectory
    services: Services
    timekeeper: Timekeeper
    homes: HomePublisher
    outbox: OutboxWorker
    heartbeat: Heartbeat
    metrics: Metrics
    app: App
    clock: Callable[[], datetime]
    # the listeners' work after their ack runs here (bot.listeners.common.guarded):
    # Slack is answered from the request's thread, so a busy pool delays work, not acks
    listeners: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt")
    )
    # work that opens or redraws a modal (a trigger_id lives 3 s; a person watches the
    # form) runs here instead: database reads and Slack calls only, never AWS, so grants
    # waiting on Identity Center's rate limit in ``listeners`` never hold a modal back
    modals: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="modal")
    )

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


def make_web_client(settings: Settings, *, retries: bool = True) -> WebClient:
    """A Web API client at ``SLACK_API_URL``. With ``retries`` it waits out 429s
    (``Retry-After``) and retries connection errors (for the listeners, which answer a
    person now); without, it fails at once and leaves retrying to its caller (the
    outbox, which retries without holding a thread)."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10 if not retries else 30,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ]
        if retries
        else [],
    )


def make_identity_center(config: Config) -> IdentityCenter:
    """The AWS adapter for ``identity_center:``, pacing its calls at
    ``max_calls_per_second`` (Identity Center's 20 a second when not configured)."""
    from workflows.ratelimit import IDENTITY_CENTER_CALLS_PER_SECOND

    ic = config.identity_center
    return IdentityCenter(
        instance_arn=ic.instance_arn if ic else None,
        identity_store_id=ic.identity_store_id if ic else None,
        max_calls_per_second=(ic.max_calls_per_second if ic else IDENTITY_CENTER_CALLS_PER_SECOND),
    )


def standard_policies_of(
    aws: IdentityCenter, catalog: Catalog
) -> Callable[[CatalogAccount], dict[str, StandardSetPolicies]]:
    """For "a standard set covers this": the policies of each standard set, read once
    from Identity Center at start-up."""
    names = {name for account in catalog.accounts for name in account.permission_sets}
    try:
        policies = aws.permission_set_policies(sorted(names))
    except AwsError as exc:
        log.warning("could not read the standard sets' policies: %s", exc)
        policies = {}

    def of(account: CatalogAccount) -> dict[str, StandardSetPolicies]:
        return {
            name: StandardSetPolicies(*policies[name])
            for name in account.permission_sets
            if name in policies
        }

    return of


def build_runtime(
    settings: Settings,
    config: Config,
    *,
    aws: IdentityCenter | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Runtime:
    """Wire the bot. Resolves permission set names and account names in AWS now.

    Raises:
        workflows.aws.AwsError: AWS could not be reached to build the catalog.
    """
    from bot.app import build_app  # the listeners import this module's Runtime

    engine = make_engine(settings.database_url)
    create_schema(engine)
    store = SqlStore(engine)
    aws = aws or make_identity_center(config)
    catalog = build_catalog(config, aws.permission_set_arns(), aws.account_names())
    for name, iso in aws.session_durations().items():
        limit = parse_iso8601_duration(iso)
        if limit is not None:
            catalog.session_limits[name] = limit
    for problem in catalog.problems:
        log.error("config: %s (left out; run `jitbot check-config`)", problem)
    client = make_web_client(settings)
    directory = SlackDirectory(client)
    portal_url = config.identity_center.portal_url if config.identity_center else None
    notifier = SlackNotifier(
        make_web_client(settings, retries=False),
        directory,
        portal_url=str(portal_url) if portal_url else None,
        slash_command=config.slash_command,
    )
    homes = HomePublisher(
        client,
        store,
        config,
        catalog,
        directory,
        clock,
        portal_url=str(portal_url) if portal_url else None,
    )
    notifier.on_change = homes.request_changed
    services = Services(
        config=config,
        catalog=catalog,
        store=store,
        aws=aws,
        lease=config.lease_duration,
        parallel_revokes=PARALLEL_REVOKES,
    )
    dispatcher = OutboxDispatcher(
        store,
        notifier,
        admins=list(config.admins),
        holder=services.holder,
        clock=utc_now,
        lease=config.lease_duration,
        max_backoff=settings.jitbot_outbox_max_backoff,
    )
    outbox = OutboxWorker(dispatcher, store, clock=utc_now)
    heartbeat = Heartbeat(
        store, services.holder, config.lease_duration, utc_now, on_replicas=aws.share_quota
    )
    metrics = Metrics(store, utc_now)
    services.on_timing = metrics.observe
    services.kick = outbox.kick
    if config.custom_permission_sets.enabled:
        services.standard_policies = standard_policies_of(aws, catalog)
    timekeeper = Timekeeper(
        services,
        store,
        interval=config.sweep_interval,
        clock=clock,
        # one Reconciler per process: it remembers what it already told the admins
        reconciler=Reconciler(services),
        reconcile_interval=config.reconcile.interval,
    )
    services.wake_at = timekeeper.wake_at
    runtime = Runtime(
        settings=settings,
        config=config,
        catalog=catalog,
        store=store,
        aws=aws,
        client=client,
        directory=directory,
        services=services,
        timekeeper=timekeeper,
        homes=homes,
        outbox=outbox,
        heartbeat=heartbeat,
        metrics=metrics,
        app=None,  # type: ignore[arg-type]  # set just below
        clock=clock,
    )
    runtime.app = build_app(runtime)
    heartbeat.start()
    outbox.start()
    return runtime
