"""Helpers the listeners share: telling a person something where they are."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("jitbot.listeners")


def tell(client: WebClient, user_id: str, text: str, channel: str | None = None) -> None:
    """An ephemeral message to ``user_id`` in ``channel``; their DM with the bot when the
    bot can't post there (or no channel is known)."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
            return
        except SlackApiError as exc:
            log.info(
                "ephemeral in %s failed (%s); sending a DM", channel, exc.response.get("error")
            )
    dm = client.conversations_open(users=user_id)["channel"]["id"]
    client.chat_postMessage(channel=dm, text=text)


def parse_request_id(value: object) -> int | None:
    """A request id from a button value or metadata; None when it is not one."""
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 12:
        return None
    return int(text)
