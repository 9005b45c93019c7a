"""``jitbot check-config``: every problem with the config, AWS and Slack, at once."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.bindings import look_up
from bot.checks_channel import channel_problems
from bot.checks_rules import rule_problems
from bot.runtime import make_identity_center, make_web_client
from bot.settings import Settings
from workflows.access_granter import AccessGranter
from workflows.aws import AwsError, IdentityCenter
from workflows.catalog import build_catalog
from workflows.config import Config, ConfigError, load_config
from workflows.delegated import delegated_admin_problems, management_provisioned_warnings
from workflows.domain import Person
from workflows.people import is_slack_id
from workflows.rebinding import Seen
from workflows.services.principal import find_principal


def check_everything(settings: Settings, info: Callable[[str], None] = lambda _: None) -> list[str]:
    """Problems found, each one line naming where it is; [] when all is well. ``info``
    is told what was used (the Identity Center instance and its Region)."""
    try:
        config = load_config(settings.jitbot_config)
    except ConfigError as exc:
        return list(exc.problems)
    problems: list[str] = []
    aws = make_identity_center(config)
    aws_problems = aws.check()
    problems += [f"AWS: {p}" for p in aws_problems]
    if not aws_problems:
        info(
            f"AWS: Identity Center instance {aws.instance_arn} (identity store "
            f"{aws.identity_store_id}) in {aws.region}"
        )
        problems += _region_problems(aws, info)
        try:
            catalog = build_catalog(config, aws.permission_set_arns(), aws.account_names())
            problems += list(catalog.problems)
            sensitive = aws.sensitive_accounts()
            problems += delegated_admin_problems(config, sensitive)
            for line in management_provisioned_warnings(
                config, sensitive, aws.permission_set_arns(), aws.provisioned_accounts
            ):
                info(f"AWS: warning: {line}")
            if not catalog.accounts:
                problems.append(
                    "accounts: no account has a valid permission set, so nothing can be requested"
                )
        except AwsError as exc:
            problems.append(f"AWS: {exc}")
    if not settings.slack_bot_token:
        problems.append("SLACK_BOT_TOKEN: not set")
        return problems
    client = make_web_client(settings)
    try:
        client.auth_test()
    except SlackApiError as exc:
        problems.append(f"Slack: auth.test: {exc.response.get('error')}")
        return problems
    reachable = None if aws_problems else aws
    problems += _people_problems(config, client, reachable)
    problems += channel_problems(config, client)
    return problems + rule_problems(config, reachable, client)


def _people_problems(
    config: Config, client: WebClient, aws: AccessGranter | None = None
) -> list[str]:
    """One line for each configured person Slack has no active user for (an email that
    resolves to nobody, an unknown or deactivated user id: such an entry grants no
    role), or could not be asked about; and, when ``aws`` is given, each one Identity
    Center has no user for (looked up as requests are: :func:`find_principal`)."""
    problems: list[str] = []
    seen: dict[str, Seen | str] = {}
    for path, entry in config.people():
        if entry not in seen:
            try:
                seen[entry] = look_up(client, entry)
            except SlackApiError as exc:
                seen[entry] = str(exc.response.get("error"))
        found = seen[entry]
        method = "users.info" if is_slack_id(entry) else "users.lookupByEmail"
        if isinstance(found, str):
            problems.append(f"{path}: Slack {method}: {found}")
        elif found.slack_id is None:
            what = "user id" if is_slack_id(entry) else "email"
            problems.append(f"{path}: no active Slack user with {what} {entry}")
        elif aws is not None:
            problems += _identity_center_problems(config, aws, path, found)
    return problems


def _identity_center_problems(
    config: Config, aws: AccessGranter, path: str, found: Seen
) -> list[str]:
    """``[]`` when Identity Center has a user for the person Slack found, else one line."""
    person = Person(found.slack_id or "", found.email or "", "")
    try:
        answer = find_principal(aws, config.identity, person)
    except AwsError as exc:
        return [f"{path}: AWS: {exc}"]
    if answer.principal_id is None:
        return [f"{path}: no Identity Center user (looked up: {answer.tried_text()})"]
    return []


def _region_problems(aws: IdentityCenter, info: Callable[[str], None]) -> list[str]:
    """One line when ``aws.region`` is an additional Region of the instance, where
    assignments cannot be written (:meth:`IdentityCenter.primary_region`); when the
    primary Region cannot be told, ``info`` is told why and nothing is refused."""
    primary, why = aws.primary_region()
    if primary is None:
        info(f"AWS: warning: could not check that {aws.region} is the primary Region ({why})")
        return []
    if primary == aws.region:
        return []
    return [
        f"AWS: identity_center.region: {aws.region} is an additional Region of the instance, "
        f"where IAM Identity Center does not write account assignments; use its primary "
        f"Region, {primary}"
    ]
