"""The fake workspace's state: the bot's identity, the directory of people, DM channels,
messages and threads, ephemeral messages, views and trigger ids, and the transcript.

:class:`SlackState` is the base the fake's Web API methods (``sim.slack_chat``,
``sim.slack_views``...) build on; one re-entrant lock guards all of it.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sim.slack_records import Call, Ephemeral, Message, SlackError, SlackUserRecord, Trigger
from sim.transcript import Transcript, shown

__all__ = ["SlackState"]


class SlackState:
    """The workspace as the fake Slack keeps it (see the module docstring)."""

    def __init__(
        self,
        token: str = "xoxb-fake",
        team_id: str = "T0FAKE",
        *,
        bot_name: str = "jitbot",
        bot_user_id: str = "U0JITBOT",
        bot_id: str = "B0JITBOT",
        app_id: str = "A0JITBOT",
        enterprise_id: str | None = None,
        team_name: str = "Fake Workspace",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.team_id = team_id
        #: the Enterprise Grid org the workspace is in (None: a standalone workspace)
        self.enterprise_id = enterprise_id
        #: the workspace's name, as ``auth.test``'s ``team``
        self.team_name = team_name
        self.bot_name = bot_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        #: Monotonic clock used for trigger-id expiry; tests may replace it.
        self.clock = clock
        self._lock = threading.RLock()
        #: notified whenever a user's latest modal changes (see ``wait_for_modal``)
        self._modal_changed = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._users: dict[str, SlackUserRecord] = {}
        self._dm_of_user: dict[str, str] = {}
        self._user_of_dm: dict[str, str] = {}
        self._messages: list[Message] = []
        self._by_key: dict[tuple[str, str], Message] = {}
        self._ephemerals: list[Ephemeral] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._external_ids: dict[str, str] = {}
        self._stacks: dict[str, list[str]] = {}
        self._latest_modal: dict[str, str] = {}
        self._homes: dict[str, str] = {}
        self._triggers: dict[str, Trigger] = {}
        self._transcript = Transcript(self._lock)
        self._calls: list[Call] = []
        self._last_ts_us = 0
        self._users[bot_user_id] = SlackUserRecord(
            bot_user_id, None, bot_name, is_bot=True, name=bot_name
        )

    # ---- directory ---------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        email: str | None,
        real_name: str,
        tz: str = "UTC",
        is_bot: bool = False,
        **flags: Any,
    ) -> SlackUserRecord:
        """Add (or replace) a person in the workspace. ``name`` is the email's local part.

        ``flags`` are :class:`SlackUserRecord` fields: ``team_id`` and ``enterprise_id``
        (another organization's user, met through Slack Connect), ``deleted``,
        ``is_restricted``, ``is_ultra_restricted``, ``is_email_confirmed``.
        """
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        name = (email.split("@", 1)[0] if email else real_name.replace(" ", ".")).lower()
        user = SlackUserRecord(user_id, email, real_name, tz, is_bot, name, **flags)
        with self._lock:
            self._users[user_id] = user
        return user

    def update_user(self, user_id: str, **changes: Any) -> SlackUserRecord:
        """Change a person's record (``deleted=True`` deactivates them, say)."""
        with self._lock:
            user = dataclasses.replace(self._users[user_id], **changes)
            self._users[user_id] = user
            return user

    def remove_user(self, user_id: str) -> None:
        """Take a person out of the directory: ``users.info`` answers ``user_not_found``
        (their DM channel, if opened, stays for the simulated client)."""
        with self._lock:
            self._users.pop(user_id, None)

    @property
    def users(self) -> dict[str, SlackUserRecord]:
        """The directory (including the bot's own user), by user id."""
        with self._lock:
            return dict(self._users)

    def user_name(self, user_id: str) -> str:
        """A user's handle (``alice``), or the id itself when unknown."""
        user = self._users.get(user_id)
        return user.name if user else user_id

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel id with ``user_id`` (stable; opened on first use)."""
        with self._lock:
            channel = self._dm_of_user.get(user_id)
            if channel is None and user_id not in self._users:
                raise KeyError(f"unknown user {user_id}")
            if channel is None:
                channel = "D" + (user_id[1:] if user_id[:1] in "UW" else user_id)
                while channel in self._user_of_dm:
                    channel += "X"
                self._dm_of_user[user_id] = channel
                self._user_of_dm[channel] = user_id
            return channel

    def dm_owner(self, channel: str) -> str | None:
        """The user whose DM with the bot ``channel`` is, or None."""
        with self._lock:
            return self._user_of_dm.get(channel)

    # ---- transcript and call log ----------------------------------------------------------------

    def on_event(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(line)`` for every new transcript line, as it happens."""
        self._transcript.on_event(callback)

    def log(self, line: str) -> None:
        """Append a line to the transcript (used by the simulated Slack client too)."""
        self._transcript.log(line)

    def transcript(self) -> list[str]:
        """Everything that happened, in order, one human-readable line each."""
        return self._transcript.lines()

    def _finish(
        self,
        method: str,
        args: dict[str, Any],
        response: dict[str, Any],
        status: int,
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Record an answered call; return ``(status, headers, response)`` to send."""
        with self._lock:
            self._calls.append(Call(method, args, response, time.time()))
        return status, headers, response

    # ---- messages ------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """All messages the bot posted (live objects), in order."""
        with self._lock:
            return list(self._messages)

    def message(self, channel: str, ts: str) -> Message | None:
        """A message by channel (or user id, meaning their DM) and ts."""
        with self._lock:
            if channel in self._dm_of_user:
                channel = self._dm_of_user[channel]
            return self._by_key.get((channel, ts))

    def thread(self, channel: str, ts: str) -> list[Message]:
        """``[root, replies...]`` of the thread rooted at ``ts`` (empty if no such message)."""
        with self._lock:
            root = self.message(channel, ts)
            if root is None:
                return []
            replies = [
                m for m in self._messages if m.channel == root.channel and m.thread_ts == root.ts
            ]
            return [root, *replies]

    def dm_messages(self, user_id: str) -> list[Message]:
        """Root (non-reply) messages in the bot's DM with ``user_id``."""
        with self._lock:
            return [m for m in self._messages if m.user_id_of_dm == user_id and m.thread_ts is None]

    def ephemerals(self, user_id: str) -> list[Ephemeral]:
        """Ephemeral messages shown to ``user_id``."""
        with self._lock:
            return [e for e in self._ephemerals if e.user == user_id]

    # ---- helpers -------------------------------------------------------------------

    def _next_ts(self) -> str:
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 100)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _resolve_channel(self, channel: str, *, allow_user: bool) -> str:
        if channel[:1] in ("U", "W"):
            if allow_user and channel in self._users:
                return self.dm_channel(channel)
            raise SlackError("channel_not_found", f"no channel {channel}")
        if channel.startswith("D"):
            if channel not in self._user_of_dm:
                raise SlackError("channel_not_found", f"no DM channel {channel}")
            return channel
        if channel[:1] in ("C", "G"):
            return channel
        raise SlackError("channel_not_found", f"no channel {channel}")

    def _where(self, channel: str, thread_ts: str | None = None) -> str:
        user = self._user_of_dm.get(channel)
        place = f"DM @{self.user_name(user)}" if user else f"#{channel}"
        return f"{place} › thread {thread_ts}" if thread_ts else place

    def _shown(self, text: str, blocks: Any) -> str:
        return shown(text, blocks, self.user_name)
