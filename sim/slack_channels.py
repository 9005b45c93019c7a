"""The fake Slack's channels: ``conversations.info`` and ``conversations.list``
(https://docs.slack.dev/reference/methods/conversations.info,
https://docs.slack.dev/reference/methods/conversations.list), and the membership
``chat.postMessage`` and ``chat.postEphemeral`` check in a channel a test set up with
:meth:`ChannelMethods.add_channel` (``not_in_channel`` for a bot that was not invited,
``user_not_in_channel`` for an ephemeral to a non-member). Channels nobody set up are
answered as before (any ``C…``/``G…`` id is accepted), so other tests are unchanged."""

from __future__ import annotations

from typing import Any

from sim.slack_chat import ChatMethods
from sim.slack_records import Message, SlackError

__all__ = ["ChannelMethods"]


class ChannelMethods(ChatMethods):
    """Channels with a name, members and whether the bot is in them."""

    def _channels(self) -> dict[str, dict[str, Any]]:
        return self.__dict__.setdefault("_channel_records", {})

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: list[str] | tuple[str, ...] = (),
        *,
        bot_member: bool = True,
        private: bool = False,
    ) -> str:
        """Make (or replace) the channel ``channel_id`` named ``name`` (no ``#``) with
        ``members`` (Slack user ids) and, when ``bot_member``, the bot; returns the id."""
        with self._lock:
            users = set(members) | ({self.bot_user_id} if bot_member else set())
            self._channels()[channel_id] = {"name": name, "members": users, "private": private}
            return channel_id

    def invite_bot(self, channel_id: str) -> None:
        """``/invite @jitbot`` in the channel."""
        with self._lock:
            self._channels()[channel_id]["members"].add(self.bot_user_id)

    def sees_channel(self, channel: str, user_id: str) -> bool:
        """Whether ``user_id`` can read ``channel`` (a member; any channel not set up)."""
        with self._lock:
            known = self._channels().get(channel)
            return known is None or user_id in known["members"]

    def channel_messages(self, channel: str) -> list[Message]:
        """Root (non-reply) messages the bot posted in ``channel``."""
        with self._lock:
            return [m for m in self._messages if m.channel == channel and m.thread_ts is None]

    def _conversation(self, channel_id: str) -> dict[str, Any]:
        known = self._channels()[channel_id]
        return {
            "id": channel_id,
            "name": known["name"],
            "is_channel": not known["private"],
            "is_group": known["private"],
            "is_private": known["private"],
            "is_archived": False,
            "is_member": self.bot_user_id in known["members"],
            "num_members": len(known["members"]),
        }

    def _visible(self, channel_id: str) -> bool:
        known = self._channels()[channel_id]
        return not known["private"] or self.bot_user_id in known["members"]

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        with self._lock:
            if channel not in self._channels() or not self._visible(channel):
                raise SlackError("channel_not_found", f"no channel {channel}")
            return {"channel": self._conversation(channel)}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        start = int(args.get("cursor") or 0)
        with self._lock:
            found = [self._conversation(c) for c in self._channels() if self._visible(c)]
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "channels": page,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        with self._lock:
            known = self._channels().get(channel)
            if known is not None and self.bot_user_id not in known["members"]:
                raise SlackError("not_in_channel", f"the bot is not in {channel}")
        return super()._chat_post_message(args)

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, user = str(args.get("channel", "")), str(args.get("user", ""))
        if not self.sees_channel(channel, user):
            raise SlackError("user_not_in_channel", f"{user} is not in {channel}")
        return super()._chat_post_ephemeral(args)
