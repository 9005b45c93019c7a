"""``jitbot check-config``: every problem with the config, AWS and Slack, at once."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.runtime import make_identity_center, make_web_client
from bot.settings import Settings
from workflows.aws import AwsError
from workflows.catalog import build_catalog
from workflows.config import Config, ConfigError, load_config


def _people(config: Config) -> list[tuple[str, str]]:
    """(key path, email) of every person the config names."""
    people = [(f"admins[{i}]", e) for i, e in enumerate(config.admins)]
    people += [(f"sso_admins[{i}]", e) for i, e in enumerate(config.sso_admins)]
    for a, account in enumerate(config.accounts):
        people += [(f"accounts[{a}].owners[{i}]", e) for i, e in enumerate(account.owners)]
    return people


def check_everything(settings: Settings) -> list[str]:
    """Problems found, each one line naming where it is; [] when all is well."""
    try:
        config = load_config(settings.jitbot_config)
    except ConfigError as exc:
        return list(exc.problems)
    problems: list[str] = []
    aws = make_identity_center(config)
    aws_problems = aws.check()
    problems += [f"AWS: {p}" for p in aws_problems]
    if not aws_problems:
        try:
            catalog = build_catalog(config, aws.permission_set_arns(), aws.account_names())
            problems += list(catalog.problems)
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
    seen: dict[str, bool] = {}
    for path, email in _people(config):
        if email not in seen:
            try:
                client.users_lookupByEmail(email=email)
                seen[email] = True
            except SlackApiError as exc:
                seen[email] = False
                if exc.response.get("error") != "users_not_found":
                    problems.append(
                        f"{path}: Slack users.lookupByEmail: {exc.response.get('error')}"
                    )
                    continue
        if not seen[email]:
            problems.append(f"{path}: no Slack user with email {email}")
    return problems
