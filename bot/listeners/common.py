"""Helpers the listeners share: telling a person something where they are."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

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


def channel_of(body: dict[str, Any]) -> str | None:
    """The conversation a click came from (None for App Home and modals)."""
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def parse_request_id(value: object) -> int | None:
    """A request id from a button value or metadata; None when it is not one."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    return int(text)


def guarded(listener: Callable[..., Any]) -> Callable[..., Any]:
    """Keep an unexpected error inside the listener: log it and tell the person.

    Bolt resets an already-sent ack when a listener raises after ``ack()`` (the HTTP
    answer can turn into a 404 after its 3 s timeout), so no error may escape. Domain
    errors are handled in each listener; this is for the rest. Bolt reads the wrapped
    function's parameters (it unwraps), so keyword injection is unchanged.
    """

    @functools.wraps(listener)
    def wrapper(**kwargs: Any) -> Any:
        try:
            return listener(**kwargs)
        except Exception:
            log.exception("listener %s failed", listener.__name__)
            body = kwargs.get("body") or {}
            client = kwargs.get("client")
            user_id = (body.get("user") or {}).get("id") or body.get("user_id")
            if client is not None and user_id:
                try:
                    tell(
                        client,
                        user_id,
                        ":warning: Something went wrong on jitbot's side and it has been "
                        "logged. The request's thread shows where it stands; try again in "
                        "a minute.",
                    )
                except Exception:
                    log.exception("could not tell %s about the failure", user_id)
            return None

    return wrapper
