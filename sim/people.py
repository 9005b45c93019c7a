"""Simulated people: a person's Slack client, sending signed requests to a bot's request URL.

:class:`SlackUser` does what Slack's servers do when a person types a slash command,
clicks a button, picks from a select, submits a modal or opens the App Home: it builds
the documented payload (slash-command form, ``block_actions``/``view_submission``/
``block_suggestion`` interaction payloads, Events API ``event_callback``), signs it with
the v0 scheme (``X-Slack-Request-Timestamp`` + ``X-Slack-Signature``) and POSTs it to the
bot. The views and messages it acts on come from a :class:`~sim.fake_slack.FakeSlack`.

It refuses, with :class:`SlackClientError`, what a real Slack client would not let a
person do: click a message in someone else's DM, submit a modal that is closed or has an
empty required field, pick an option that is not offered, or fire a ``block_actions``
from an input block without ``dispatch_action``.
"""

from __future__ import annotations

from typing import Any

from sim.client_elements import SlackClientError
from sim.fake_slack import Ephemeral, Message
from sim.person_messages import MessageActions
from sim.person_views import ViewActions
from sim.signed_sender import Response

__all__ = ["Response", "SlackClientError", "SlackUser"]


class SlackUser(MessageActions, ViewActions):
    """A person in the fake workspace, using Slack against a bot at ``bot_url``.

    ``SlackUser(fake, user_id, bot_url=..., signing_secret=..., team_id=None,
    enterprise_id=None, timeout=10.0)``; ``user_id`` must be in the fake's directory
    (``ValueError``). ``team_id``/``enterprise_id`` are what Slack's payloads say of
    the person's team and org: by default those of their record (another team for a
    Slack Connect user), else the fake's.
    """

    def slash(
        self, command: str = "/jit", text: str = "", channel_id: str | None = None
    ) -> Response:
        """Type ``command text``; the bot's immediate answer, if it has one, is shown to
        the person as Slack shows it (an ephemeral message, unless ``in_channel``)."""
        channel = channel_id or self.fake.dm_channel(self.user_id)
        response = super().slash(command, text, channel)
        self.fake.apply_command_answer(self.user_id, channel, response.status, response.body)
        return response

    def forge_suggestion(self, view: dict[str, Any], action_id: str, value: str) -> Any:
        """Type ``value`` into the external select ``action_id`` of ``view``, a modal this
        person may never have been shown (a client replaying a copied payload); returns
        the bot's options JSON."""
        block = next(
            b
            for b in view.get("blocks") or []
            if (b.get("element") or b.get("accessory") or {}).get("action_id") == action_id
        )
        sent = {k: v for k, v in view.items() if k not in ("user_id", "state")}
        payload = {
            **self._envelope("block_suggestion"),
            "container": {"type": "view", "view_id": view["id"]},
            "action_id": action_id,
            "block_id": block["block_id"],
            "value": value,
            "view": {**sent, "state": {"values": {}}},
        }
        self.fake.log(f"[@{self.name}] typed {value!r} in {action_id} (forged)")
        return self._interaction(payload).json()

    def click(
        self,
        message_or_view: Message | Ephemeral | dict[str, Any],
        action_id: str,
        *,
        value: Any = None,
        block_id: str | None = None,
    ) -> Response:
        """Click a button (or choose ``value`` in a select) in a message or a view.

        A button's ``value`` is taken from the block unless ``value`` is given (to forge one).
        """
        if isinstance(message_or_view, dict):
            return self._click_in_view(message_or_view, action_id, value, block_id)
        return self._click_message(message_or_view, action_id, value, block_id)
