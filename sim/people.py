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

    ``SlackUser(fake, user_id, bot_url=..., signing_secret=..., team_id="T0FAKE",
    timeout=10.0)``; ``user_id`` must be in the fake's directory (``ValueError``).
    """

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
