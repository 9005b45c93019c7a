"""What a simulated person does outside views: type a slash command, click a button in
a message or an ephemeral message, forge a click, open the App Home (an
``app_home_opened`` event, https://docs.slack.dev/reference/events/app_home_opened).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from sim.client_elements import SlackClientError, action_payload, find, label
from sim.fake_slack import Ephemeral, Message
from sim.signed_sender import FORM, VERIFICATION_TOKEN, Response, SignedSender

__all__ = ["MessageActions"]


class MessageActions(SignedSender):
    """A person's slash commands, clicks in messages and App Home visits."""

    # ---- slash commands --------------------------------------------------------------

    def slash(
        self, command: str = "/jit", text: str = "", channel_id: str | None = None
    ) -> Response:
        """Type ``command text`` (by default in the person's DM with the bot)."""
        channel = channel_id or self.fake.dm_channel(self.user_id)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": "fake-workspace",
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else channel,
            "user_id": self.user_id,
            "user_name": self.name,
            "command": command,
            "text": text,
            "api_app_id": self.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": self.fake.register_response_url(self.user_id, channel),
            "trigger_id": self.fake.new_trigger_id(self.user_id),
        }
        self.fake.log(f"[@{self.name}] {command} {text}".rstrip())
        return self.post_raw(urlencode(form).encode(), FORM)

    # ---- messages ------------------------------------------------------------------

    def _click_message(
        self, target: Message | Ephemeral, action_id: str, value: Any, block_id: str | None
    ) -> Response:
        if isinstance(target, Ephemeral):
            if target.user != self.user_id:
                raise SlackClientError("that ephemeral message was shown to someone else")
        else:
            live = self.fake.message(target.channel, target.ts)
            if live is None or live.deleted:
                raise SlackClientError("that message no longer exists")
            if live.user_id_of_dm not in (None, self.user_id):
                raise SlackClientError(f"{self.user_id} cannot see {live.user_id_of_dm}'s DM")
            if not self.fake.sees_channel(live.channel, self.user_id):
                raise SlackClientError(f"{self.user_id} is not in {live.channel}")
            target = live
        block, element = find(target.blocks, action_id, block_id)
        action = action_payload(block, element, value)
        channel = target.channel
        is_ephemeral = isinstance(target, Ephemeral)
        ts = target.message_ts if isinstance(target, Ephemeral) else target.ts
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": is_ephemeral,
        }
        if target.thread_ts:
            container["thread_ts"] = target.thread_ts
        payload: dict[str, Any] = {
            **self._envelope("block_actions"),
            "container": container,
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "channel": {
                "id": channel,
                "name": "directmessage" if channel.startswith("D") else channel,
            },
            "state": {"values": {}},
            "response_url": self.fake.register_response_url(
                self.user_id, channel, None if is_ephemeral else ts, ephemeral=is_ephemeral
            ),
            "actions": [action],
        }
        if isinstance(target, Message):
            payload["message"] = self.fake.message_payload(target)
        self.fake.log(f"[@{self.name}] clicked {label(element, value)} in {self._place(channel)}")
        return self._interaction(payload)

    def forge_click(self, action_id: str, value: str) -> Response:
        """Send a ``block_actions`` for a button this person was never shown (as a forger
        with a copied payload would), from their own DM with the bot."""
        channel = self.fake.dm_channel(self.user_id)
        payload: dict[str, Any] = {
            **self._envelope("block_actions"),
            "container": {
                "type": "message",
                "message_ts": "1.000000",
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "channel": {"id": channel, "name": "directmessage"},
            "state": {"values": {}},
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "forged",
                    "value": value,
                    "text": {"type": "plain_text", "text": "Approve"},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        self.fake.log(f"[@{self.name}] sent a forged {action_id} click for value {value!r}")
        return self._interaction(payload)

    def _place(self, channel: str) -> str:
        owner = self.fake.dm_owner(channel)
        return f"DM @{self.fake.user_name(owner)}" if owner else f"#{channel}"

    # ---- events --------------------------------------------------------------------

    def open_home(self) -> Response:
        """Open the bot's App Home tab (an ``app_home_opened`` event)."""
        now = time.time()
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": self.user_id,
            "channel": self.fake.dm_channel(self.user_id),
            "tab": "home",
            "event_ts": f"{now:.6f}",
        }
        home = self.fake.home(self.user_id)
        if home is not None:
            home.pop("user_id", None)
            event["view"] = home
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.fake.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{int(now * 1000):X}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        self.fake.log(f"[@{self.name}] opened App Home")
        return self.post_raw(json.dumps(envelope).encode(), "application/json")
