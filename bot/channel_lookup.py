"""Approvals channels in Slack: a configured ``approval_channel`` (an id or ``#name``,
:mod:`workflows.config.approval_channel`) found as Slack's conversation object.

An id is asked with ``conversations.info``; a ``#name`` is looked for in
``conversations.list`` (public and private channels the app can see, archived ones
left out, paged by cursor), which needs the scopes ``channels:read`` and
``groups:read``. ``is_member`` in the answer says whether the bot is in the channel: it
must be to post there (https://docs.slack.dev/reference/methods/chat.postMessage,
``not_in_channel``)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from workflows.config.approval_channel import is_channel_name

__all__ = ["find_channel"]

#: ``conversations.list`` page size (Slack recommends no more than 200)
PAGE = 200


def find_channel(client: WebClient, value: str) -> dict[str, Any] | None:
    """The conversation object of the channel ``value`` names (``id``, ``name``,
    ``is_member``...), or None when Slack has no such channel the app can see.

    Raises:
        SlackApiError: any other Slack error (``missing_scope``, a rate limit...).
    """
    if not is_channel_name(value):
        try:
            return dict(client.conversations_info(channel=value)["channel"])
        except SlackApiError as exc:
            if exc.response.get("error") == "channel_not_found":
                return None
            raise
    name = value[1:]
    cursor: str | None = None
    while True:
        page = client.conversations_list(
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=PAGE,
            **({"cursor": cursor} if cursor else {}),
        )
        for channel in page.get("channels") or []:
            if channel.get("name") == name:
                return dict(channel)
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
