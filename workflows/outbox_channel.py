"""The outbox's CHANNEL entries: a request posted once in an approvals channel
(:mod:`workflows.services.channel`), its root stored like a DM root so that every
re-render and every thread reply reaches it (:mod:`workflows.outbox`)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from workflows.domain import AccessRequest, MessageRef
from workflows.runtime_ports import OutboxStore

log = logging.getLogger("jitbot.outbox")


class ChannelNotifier(Protocol):
    """What a CHANNEL entry needs of Slack (:class:`bot.notifier.SlackNotifier`)."""

    def post_channel_request(self, request: AccessRequest, channel: str) -> MessageRef | None:
        """Post the request with its buttons in ``channel`` (an id or ``#name``); the
        root's ref (role CHANNEL, the channel's id), or None when it can't be posted.
        Raises :class:`~workflows.outbox.DeliveryDeferred` while Slack can't take it."""
        ...


def post_in_channel(
    store: OutboxStore, notifier: ChannelNotifier, request: AccessRequest, payload: dict[str, Any]
) -> None:
    """Deliver one CHANNEL entry's ``payload`` (``channel``) for ``request``: post, then
    store the root among the request's messages."""
    ref = notifier.post_channel_request(request, str(payload["channel"]))
    if ref is not None:
        store.add_messages(request.id, [ref])
    else:
        log.error("request %s could not be posted in %s", request.id, payload["channel"])
