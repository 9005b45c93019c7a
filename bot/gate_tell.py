"""How :mod:`bot.gate` tells a refused person why: the reasons and their words, and,
when its answer to Slack can't say it (a click, an App Home visit), the telling done
afterwards from the listener pool."""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.listeners.common import channel_of, tell
from bot.render.modals import message_modal

log = logging.getLogger("jitbot.gate")

TITLE = "Can't use jitbot"


class Reason(Enum):
    """Why someone may not use jitbot."""

    STRANGER = "stranger"
    GUEST = "guest"
    BOT = "bot"
    DEACTIVATED = "deactivated"
    UNCONFIRMED = "unconfirmed"
    UNKNOWN = "unknown"
    UNCHECKED = "unchecked"


#: What a refused person reads, ``{workspace}`` being auth.test's ``team`` (escaped).
WHY = {
    Reason.STRANGER: "jitbot is only for members of *{workspace}*; people from other "
    "organizations (Slack Connect) can't use it.",
    Reason.GUEST: "jitbot is only for members of *{workspace}*; guests can't use it.",
    Reason.BOT: "jitbot is only for people; bots and apps can't use it.",
    Reason.DEACTIVATED: "This Slack account is deactivated, so it can't use jitbot.",
    Reason.UNCONFIRMED: "jitbot needs a confirmed email address (it matches you to AWS by "
    "it). Confirm yours in Slack, then try again.",
    Reason.UNKNOWN: "jitbot doesn't know this Slack account: it isn't a member of *{workspace}*.",
    Reason.UNCHECKED: "jitbot couldn't check your Slack account just now (Slack didn't "
    "answer). Try again in a minute.",
}


#: refusals whose person can be sent a message (a DM, a home) when the payload offers
#: no ``response_url``: not a bot, a deactivated account or an id Slack doesn't know
TELLABLE = frozenset({Reason.STRANGER, Reason.GUEST, Reason.UNCONFIRMED, Reason.UNCHECKED})


class Teller:
    """Refusals shown on ``client``'s workspace."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    @staticmethod
    def modal(text: str) -> dict[str, Any]:
        """A modal that only says ``text`` (mrkdwn)."""
        return message_modal(TITLE, text)

    @staticmethod
    def home(text: str) -> dict[str, Any]:
        """An App Home that only says ``text`` (mrkdwn): nothing of jitbot's data."""
        return {
            "type": "home",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
        }

    def tell(self, user_id: str, reachable: bool, text: str, body: dict[str, Any]) -> None:
        """Show ``text`` to ``user_id`` about the request ``body``: by its
        ``response_url`` (an ephemeral message), in the modal it came from, or, when the
        person can be written to (``reachable``), in their App Home or by an ephemeral
        message or DM. Best effort: a failure is logged."""
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        try:
            if body.get("type") == "event_callback":
                event = body.get("event") or {}
                if reachable and event.get("tab") == "home":
                    self._client.views_publish(user_id=user_id, view=self.home(text))
                return
            response_url = body.get("response_url")
            if isinstance(response_url, str) and response_url:
                WebhookClient(response_url, timeout=5).send(
                    text=text, response_type="ephemeral", replace_original=False
                )
            elif view.get("type") == "modal" and view.get("id"):
                # no hash: the refusal replaces whatever the modal shows now
                self._client.views_update(view_id=view["id"], view=self.modal(text))
            elif not reachable:
                return
            elif view.get("type") == "home":
                self._client.views_publish(user_id=user_id, view=self.home(text))
            else:
                tell(self._client, user_id, text, channel_of(body), escaped=True)
        except Exception:
            log.warning("could not tell %s why jitbot refused them", user_id, exc_info=True)
