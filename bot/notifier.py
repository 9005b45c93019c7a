"""Slack side of the lifecycle: posts and updates the roots of a request's threads and
replies in them. Implements :class:`workflows.ports.Notifier`.

Failures to reach Slack are logged, never raised into the lifecycle: a lost notice must
not undo a grant or a revoke (the outbox of a later release makes them retried).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.directory import SlackDirectory
from bot.render.messages import approval_message, notice_text, requester_message
from workflows.domain import AccessRequest, MessageRef, Notice, Role

log = logging.getLogger("jitbot.slack")


class SlackNotifier:
    """Sends a request's messages through ``client``; people found by ``directory``."""

    def __init__(
        self,
        client: WebClient,
        directory: SlackDirectory,
        *,
        admins: list[str],
        portal_url: str | None = None,
        slash_command: str = "/jit",
    ) -> None:
        self._client = client
        self._directory = directory
        self._admins = admins
        self._portal_url = portal_url
        self._slash_command = slash_command
        # called after every re-render, so App Homes showing the request refresh too
        self.on_change: Callable[[AccessRequest], None] = lambda request: None

    def _dm(self, slack_id: str, message: dict[str, Any]) -> tuple[str, str] | None:
        try:
            channel = self._client.conversations_open(users=slack_id)["channel"]["id"]
            response = self._client.chat_postMessage(channel=channel, **message)
            return response["channel"], response["ts"]
        except SlackApiError as exc:
            log.error("DM to %s failed: %s", slack_id, exc.response.get("error"))
            return None

    def post_request_thread(self, request: AccessRequest) -> MessageRef | None:
        """DM the requester the request; that message is the thread root."""
        sent = self._dm(request.requester.slack_id, requester_message(request))
        if sent is None:
            return None
        return MessageRef(sent[0], sent[1], Role.REQUESTER, request.requester.slack_id)

    def post_approval_request(
        self, request: AccessRequest, email: str, role: Role = Role.APPROVER
    ) -> MessageRef | None:
        """DM one approver (by email) the request with its buttons; ``role`` says which
        stage the message is for (owner stage / standard, or the admin stage)."""
        slack_id = self._directory.slack_id_for(email)
        if slack_id is None:
            log.warning("approver %s of request %s is not in Slack", email, request.id)
            return None
        sent = self._dm(slack_id, approval_message(request, role))
        if sent is None:
            return None
        return MessageRef(sent[0], sent[1], role, slack_id)

    def refresh(self, request: AccessRequest) -> None:
        """Re-render every root from the request's current state (buttons go after a
        decision), and have the App Homes that show it re-published in the background."""
        self.on_change(request)
        for ref in request.messages:
            message = (
                requester_message(request)
                if ref.role == Role.REQUESTER
                else approval_message(request, ref.role)
            )
            try:
                self._client.chat_update(channel=ref.channel, ts=ref.ts, **message)
            except SlackApiError as exc:
                log.error(
                    "update of %s/%s failed: %s", ref.channel, ref.ts, exc.response.get("error")
                )

    def announce(self, request: AccessRequest, notice: Notice) -> None:
        """Reply in each thread with the words for its audience."""
        for ref in request.messages:
            text = notice_text(
                request,
                notice,
                for_requester=ref.role == Role.REQUESTER,
                portal_url=self._portal_url,
                slash_command=self._slash_command,
            )
            if text is None:
                continue
            try:
                self._client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts, text=text)
            except SlackApiError as exc:
                log.error(
                    "reply in %s/%s failed: %s", ref.channel, ref.ts, exc.response.get("error")
                )

    def alert_admins(self, text: str) -> None:
        """DM every admin ``text`` (used when access could not be removed)."""
        for email in self._admins:
            slack_id = self._directory.slack_id_for(email)
            if slack_id is not None:
                self._dm(slack_id, {"text": f":rotating_light: {text}"})
