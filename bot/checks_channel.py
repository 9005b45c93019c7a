"""``check-config``'s look at the approvals channels: each ``approval_channel`` of an
account or an access rule (:mod:`workflows.config.approval_channel`) is a channel
Slack knows, and the bot is in it, since jitbot can post only where it was invited
(``conversations.info``, or ``conversations.list`` for a ``#name``:
:func:`bot.channel_lookup.find_channel`)."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channel_lookup import find_channel
from workflows.config import Config

__all__ = ["channel_problems", "configured_channels"]


def configured_channels(config: Config) -> list[tuple[str, str]]:
    """``(key path, channel)`` of every ``approval_channel`` in the file, in order:
    the accounts', then the access rules'."""
    found = [
        (f"accounts[{a}].approval_channel", account.approval_channel)
        for a, account in enumerate(config.accounts)
        if account.approval_channel
    ]
    found += [
        (f"access_rules[{r}].approval_channel", rule.approval_channel)
        for r, rule in enumerate(config.access_rules)
        if rule.approval_channel
    ]
    return found


def channel_problems(config: Config, client: WebClient) -> list[str]:
    """One line per approvals channel Slack has no channel for (or none the app can
    see: a private channel it was not invited to), or whose members do not include the
    bot, or that could not be asked about; named by key path, with what to do."""
    problems: list[str] = []
    asked: dict[str, str | None] = {}
    for path, channel in configured_channels(config):
        if channel not in asked:
            asked[channel] = _problem(client, channel)
        if asked[channel] is not None:
            problems.append(f"{path}: {asked[channel]}")
    return problems


def _problem(client: WebClient, channel: str) -> str | None:
    method = "conversations.list" if channel.startswith("#") else "conversations.info"
    try:
        found = find_channel(client, channel)
    except SlackApiError as exc:
        error = exc.response.get("error")
        hint = " (the app needs the channels:read and groups:read scopes)" * (
            error == "missing_scope"
        )
        return f"Slack {method} {channel}: {error}{hint}"
    if found is None:
        return (
            f"no channel {channel} that jitbot can see (a private channel must invite "
            "@jitbot first: /invite @jitbot in it)"
        )
    if not found.get("is_member"):
        name = f"#{found.get('name')}" if found.get("name") else channel
        return (
            f"jitbot is not in {name} ({found.get('id')}), so it can't post requests "
            f"there: type /invite @jitbot in {name}"
        )
    return None
