"""The adapters the composition root builds: the Slack Web API clients, the Slack side
(directory, App Homes, notifier), the Identity Center adapter and the catalog resolved
in it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot import gate
from bot.directory import SlackDirectory
from bot.home_publisher import HomePublisher
from bot.notifier import SlackNotifier
from bot.reach import Reach
from bot.settings import Settings
from bot.usergroups import SlackUserGroups
from storage.store import SqlStore
from workflows.assignments import AwsError
from workflows.aws import IdentityCenter
from workflows.catalog import Catalog, CatalogAccount, build_catalog
from workflows.config import Config
from workflows.custom_sets import StandardSetPolicies
from workflows.custom_sets.sensitive import restrict_custom
from workflows.delegated import delegated_admin_problems, management_provisioned_warnings
from workflows.domain import AccessRequest, Person
from workflows.durations import parse_iso8601_duration
from workflows.people import Roster
from workflows.policy import Rules
from workflows.rulebook import RuleLookups

log = logging.getLogger("jitbot")


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
    """The AWS adapter for ``identity_center:``: its calls paced at
    ``max_calls_per_second`` (15 of Identity Center's 20 a second when not configured),
    at most ``max_outstanding_operations`` changes under way, conflicts retried for
    ``conflict_retry_seconds``."""
    from workflows.config.accounts import IdentityCenterConfig

    ic = config.identity_center or IdentityCenterConfig()
    return IdentityCenter(
        instance_arn=ic.instance_arn,
        identity_store_id=ic.identity_store_id,
        region=ic.region,
        max_calls_per_second=ic.max_calls_per_second,
        max_outstanding=ic.max_outstanding_operations,
        conflict_retry_seconds=ic.conflict_retry_seconds,
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


def make_catalog(config: Config, aws: IdentityCenter) -> Catalog:
    """The catalog of ``config`` resolved in AWS: permission set ARNs, account names and
    each set's ``SessionDuration``; no custom sets on sensitive accounts. Problems are
    logged (and left out)."""
    catalog = build_catalog(config, aws.permission_set_arns(), aws.account_names())
    sensitive = aws.sensitive_accounts()
    catalog = restrict_custom(catalog, config, sensitive)
    if unreachable := delegated_admin_problems(config, sensitive):
        # a grant there would fail in AWS: the account is not offered at all
        management = sensitive.management_account_id
        catalog = replace(
            catalog,
            accounts=tuple(a for a in catalog.accounts if a.id != management),
            problems=(*catalog.problems, *unreachable),
        )
    for name, iso in aws.session_durations().items():
        limit = parse_iso8601_duration(iso)
        if limit is not None:
            catalog.session_limits[name] = limit
    for problem in catalog.problems:
        log.error("config: %s (left out; run `jitbot check-config`)", problem)
    arns, provisioned = aws.permission_set_arns(), aws.provisioned_accounts
    for line in management_provisioned_warnings(config, sensitive, arns, provisioned):
        log.warning("config: %s", line)
    return catalog


@dataclass(frozen=True)
class Slack:
    """The Slack side: the listeners' client, the people directory, the gate (who may
    use jitbot, asked by the Bolt app and by everything that shows a request), the App
    Homes and the notifier the outbox delivers through (which re-publishes those homes)."""

    client: WebClient
    directory: SlackDirectory
    gate: gate.Gate
    homes: HomePublisher
    notifier: SlackNotifier
    #: ``identity.email_domains`` (Slack domain -> Identity Center domain), read the
    #: other way to find a group member's Slack account (:func:`slack_emails`)
    email_domains: Mapping[str, str] = field(default_factory=dict)


def make_slack(
    settings: Settings,
    config: Config,
    store: SqlStore,
    catalog: Catalog,
    clock: Callable[[], datetime],
    later: Callable[..., None],
    decider_of: Callable[[Person], Callable[[AccessRequest], bool]] | None = None,
) -> Slack:
    """Build the Slack side: the gate first (``auth.test``; its refusals told after the
    answer run through ``later(task, *args)``), then the homes (Pending Approvals as
    ``decider_of(viewer)`` answers, under access rules:
    :meth:`~workflows.services.authority.Authority.decider`), then the notifier that
    tells them of changes."""
    client = make_web_client(settings)
    directory = SlackDirectory(client)
    the_gate = gate.build(client, directory, allow_guests=config.allow_guests, later=later)
    portal = config.identity_center.portal_url if config.identity_center else None
    portal_url = str(portal) if portal else None
    homes = HomePublisher(
        client,
        store,
        config,
        catalog,
        directory,
        the_gate,
        clock,
        portal_url=portal_url,
        decider_of=decider_of,
    )
    reach = Reach(
        the_gate, directory, lambda: Rules(config, Roster.of(store.bindings())), store.audit, clock
    )
    notifier = SlackNotifier(
        make_web_client(settings, retries=False),
        directory,
        reach,
        portal_url=portal_url,
        slash_command=config.slash_command,
        on_change=homes.request_changed,
    )
    return Slack(client, directory, the_gate, homes, notifier, dict(config.identity.email_domains))


def slack_emails(email: str, email_domains: Mapping[str, str]) -> list[str]:
    """The addresses an Identity Center user's ``email`` may have in Slack, in order,
    each once: itself, then for each ``email_domains`` entry mapping a Slack domain to
    ``email``'s domain, the same local part at that Slack domain (``corp.com:
    example.com`` makes ``a@example.com`` also ``a@corp.com``): how requesters are
    found in Identity Center (:meth:`~workflows.config.identity.IdentityConfig.lookups`),
    read backwards."""
    local, _, domain = email.strip().rpartition("@")
    found = [email.strip()]
    if local:
        found += [f"{local}@{s}" for s, ic in email_domains.items() if ic == domain.lower()]
    return list(dict.fromkeys(found))


def rule_lookups(aws: IdentityCenter, slack: Slack | None) -> RuleLookups:
    """How access rules read groups: Identity Center groups from ``aws``, Slack user
    groups through ``slack``'s client, an Identity Center group's members turned into
    Slack user ids by email (``users.lookupByEmail``, each address of
    :func:`slack_emails` until one is known; whoever Slack does not know gets no DM)."""
    if slack is None:
        return RuleLookups(in_group=aws.in_group)
    usergroups = SlackUserGroups(slack.client)
    directory = slack.directory

    domains = slack.email_domains

    def slack_id(email: str) -> str | None:
        found = (directory.slack_id_for(a) for a in slack_emails(email, domains))
        return next((i for i in found if i), None)

    def group_members(group: str) -> tuple[str, ...]:
        ids = (slack_id(email) for email in aws.group_member_emails(group))
        return tuple(dict.fromkeys(i for i in ids if i))

    return RuleLookups(
        in_group=aws.in_group,
        in_usergroup=usergroups.in_usergroup,
        group_members=group_members,
        usergroup_members=usergroups.members,
    )
