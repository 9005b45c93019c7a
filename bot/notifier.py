"""Slack side of the lifecycle: posts and updates the roots of a request's threads and
replies in them, for the outbox (implements :class:`workflows.outbox.DeliveryNotifier`).

Slack's answers become the outbox's two kinds of failure: HTTP 429 (``Retry-After``),
5xx, Slack-side errors and unreachable Slack are :class:`DeliveryDeferred` (retried
later, never lost); any other error (``channel_not_found``, ``invalid_blocks``...) is
:class:`DeliveryRefused` (logged, not retried). Rate limits: Slack's "Rate limits" page,
https://api.slack.com/apis/rate-limits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.channel_lookup import find_channel
from bot.directory import SlackDirectory
from bot.reach import Reach
from bot.render.alerts import alert_message
from bot.render.channel_message import channel_message
from bot.render.extend_notices import notice_blocks as extension_blocks
from bot.render.messages import approval_message, notice_text, requester_message
from bot.render.warning import notice_blocks as warning_blocks
from workflows.domain import AccessRequest, MessageRef, MessageRole, Notice
from workflows.outbox import DeliveryDeferred, DeliveryRefused

log = logging.getLogger("jitbot.slack")

T = TypeVar("T")

# Slack errors that say "not now" rather than "never" (Web API "Errors" sections)
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)


def slack_call(what: str, call: Callable[[], T]) -> T:
    """Run one Web API call, turning its failures into the outbox's.

    Raises:
        DeliveryDeferred: 429 (with ``Retry-After`` seconds), 5xx, a transient Slack
            error, or no answer (connection refused, timeout).
        DeliveryRefused: any other Slack error.
    """
    try:
        return call()
    except SlackApiError as exc:
        response = exc.response
        status = getattr(response, "status_code", 200)
        error = str(response.get("error") or f"HTTP {status}")
        if status == 429:
            headers = getattr(response, "headers", {}) or {}
            retry = headers.get("Retry-After") or headers.get("retry-after") or "1"
            raise DeliveryDeferred(f"{what}: rate limited", float(retry)) from exc
        if status >= 500 or error in TRANSIENT_ERRORS:
            raise DeliveryDeferred(f"{what}: {error}") from exc
        raise DeliveryRefused(f"{what}: {error}") from exc
    except (SlackClientError, OSError) as exc:  # URLError, timeouts, refused connections
        raise DeliveryDeferred(f"{what}: Slack unreachable ({exc})") from exc


class SlackNotifier:
    """Sends a request's messages through ``client``; people found by ``directory``,
    and each message only to someone ``reach`` lets in (:mod:`bot.reach`: not to a guest,
    a Slack Connect stranger... unless ``allow_guests``; an approver it refuses is
    skipped and the admins alerted once; while Slack can't say who someone is, the
    message waits: :class:`DeliveryDeferred`).

    ``client`` should not retry on its own (the outbox does, without holding a thread).
    ``on_change(request)`` is called after every re-render (the App Homes showing it).
    """

    def __init__(
        self,
        client: WebClient,
        directory: SlackDirectory,
        reach: Reach,
        *,
        portal_url: str | None = None,
        slash_command: str = "/jit",
        on_change: Callable[[AccessRequest], None] = lambda request: None,
    ) -> None:
        self._client = client
        self._directory = directory
        self._reach = reach
        self._portal_url = portal_url
        self._slash_command = slash_command
        # called after every re-render, so App Homes showing the request refresh too
        self.on_change = on_change
        self._channel_ids: dict[str, str] = {}  # approvals channels' #names found

    def _dm(self, slack_id: str, message: dict[str, Any]) -> tuple[str, str]:
        channel = slack_call(
            f"conversations.open {slack_id}",
            lambda: self._client.conversations_open(users=slack_id)["channel"]["id"],
        )
        response = slack_call(
            f"chat.postMessage {channel}",
            lambda: self._client.chat_postMessage(channel=channel, **message),
        )
        return response["channel"], response["ts"]

    def _slack_id(self, email: str) -> str | None:
        return slack_call(
            f"users.lookupByEmail {email}", lambda: self._directory.slack_id_for(email)
        )

    def post_request_thread(self, request: AccessRequest) -> MessageRef | None:
        """DM the requester the request; that message is the thread root (None: the
        requester may not use jitbot any more)."""
        if not self._reach.may_see(request.requester.slack_id, f"request {request.id}"):
            return None
        sent = self._dm(request.requester.slack_id, requester_message(request))
        return MessageRef(sent[0], sent[1], MessageRole.REQUESTER, request.requester.slack_id)

    def _user(self, user: str) -> str | None:
        """A Slack user id as given; an email (outbox entries written before people
        were bound) looked up."""
        return self._slack_id(user) if "@" in user else user

    def post_approval_request(
        self, request: AccessRequest, user: str, role: MessageRole = MessageRole.APPROVER
    ) -> MessageRef | None:
        """DM one approver, the Slack user id ``user`` the config's person is bound to
        (not a fresh look-up of an email), the request with its buttons; ``role`` says
        which stage the message is for (owner stage / standard, or the admin stage).
        None when they can't be DM'd, or may not use jitbot (then skipped, and the
        admins alerted: :meth:`bot.reach.Reach.may_approve`)."""
        slack_id = self._user(user)
        if slack_id is None:
            log.warning("approver %s of request %s is not in Slack", user, request.id)
            return None
        if not self._reach.may_approve(request, slack_id, role):
            return None
        sent = self._dm(slack_id, approval_message(request, role))
        return MessageRef(sent[0], sent[1], role, slack_id)

    def post_channel_request(self, request: AccessRequest, channel: str) -> MessageRef | None:
        """Post the request with its buttons and who may approve it in the approvals
        channel ``channel`` (an id, or a ``#name`` looked up once:
        :func:`bot.channel_lookup.find_channel`); the root's ref has role CHANNEL and the
        channel's id for its person. Raises DeliveryRefused when there is no such
        channel or the bot is not in it (``not_in_channel``)."""
        if channel.startswith("#") and channel not in self._channel_ids:
            found = slack_call(
                f"conversations.list {channel}", lambda: find_channel(self._client, channel)
            )
            if found is None:
                raise DeliveryRefused(f"no channel {channel} that jitbot can see")
            self._channel_ids[channel] = str(found["id"])
        target = self._channel_ids.get(channel, channel)
        response = slack_call(
            f"chat.postMessage {channel}",
            lambda: self._client.chat_postMessage(channel=target, **channel_message(request)),
        )
        return MessageRef(response["channel"], response["ts"], MessageRole.CHANNEL, target)

    def _sees(self, ref: MessageRef, what: str) -> bool:
        """Whether the root's person may use jitbot now (a channel: its members are
        Slack's to say; it was posted there once, on purpose)."""
        return ref.role == MessageRole.CHANNEL or self._reach.may_see(ref.slack_user_id, what)

    def refresh(self, request: AccessRequest) -> None:
        """Re-render every root from the request's current state (buttons go after a
        decision), and have the App Homes that show it re-published in the background.
        A root Slack refuses to update (deleted, say), or whose person may not use
        jitbot now, is skipped."""
        self.on_change(request)
        for ref in request.messages:
            if not self._sees(ref, f"request {request.id}"):
                continue
            message = (
                requester_message(request)
                if ref.role == MessageRole.REQUESTER
                else channel_message(request)
                if ref.role == MessageRole.CHANNEL
                else approval_message(request, ref.role)
            )
            try:
                slack_call(
                    f"chat.update {ref.channel}/{ref.ts}",
                    lambda ref=ref, message=message: self._client.chat_update(
                        channel=ref.channel, ts=ref.ts, **message
                    ),
                )
            except DeliveryRefused as exc:
                log.error("%s", exc)

    def reply(self, request: AccessRequest, ref: MessageRef, notice: Notice) -> None:
        """Reply in one thread with the words for its audience (nothing if none, or if
        the thread's person may not use jitbot now)."""
        text = notice_text(
            request,
            notice,
            for_requester=ref.role == MessageRole.REQUESTER,
            portal_url=self._portal_url,
            slash_command=self._slash_command,
        )
        if text is None or not self._sees(ref, f"a notice of #{request.id}"):
            return
        for_requester = ref.role == MessageRole.REQUESTER
        blocks = warning_blocks(request, notice, text, for_requester=for_requester)
        if blocks is None:  # buttons: the expiry warning, or an extension asked for
            blocks = extension_blocks(notice, text, for_requester=for_requester)
        extra = {"blocks": blocks} if blocks else {}
        slack_call(
            f"chat.postMessage {ref.channel}/{ref.ts}",
            lambda: self._client.chat_postMessage(
                channel=ref.channel, thread_ts=ref.ts, text=text, **extra
            ),
        )

    def alert_admin(
        self, user: str, text: str, confirm: dict[str, str | None] | None = None
    ) -> None:
        """DM one admin (a bound Slack user id) ``text`` (used when access could not be
        removed, say), with a Confirm button for a rebinding (``confirm``,
        :func:`bot.render.alerts.alert_message`, which escapes all of the text).
        Nothing for an admin who may not use jitbot (a guest, say: logged)."""
        slack_id = self._user(user)
        if slack_id is not None and self._reach.may_see(slack_id, "an admin alert"):
            self._dm(slack_id, alert_message(text, confirm))
