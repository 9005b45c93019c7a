"""The admins' alerts: a text, and for a change of who a configured person is that waits
for an admin (``identity.rebind: alert``, :mod:`workflows.rebinding`), a Confirm button."""

from __future__ import annotations

import json
from typing import Any

from bot.render.escape import cut, esc

#: The Confirm button of a rebinding alert; its value is ``{"entry": …, "to": …}`` (JSON).
ACTION_CONFIRM_REBIND = "identity_confirm_rebind"


def alert_message(text: str, confirm: dict[str, str | None] | None = None) -> dict[str, Any]:
    """``chat.postMessage`` arguments for one alert. The text is composed by the bot from
    names, emails, reasons and AWS error text, so all of it is escaped."""
    shown = f":rotating_light: {esc(text)}"
    if confirm is None:
        return {"text": shown}
    value = json.dumps({"entry": confirm.get("entry"), "to": confirm.get("to")})
    return {
        "text": shown,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": cut(shown, 3000)}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ACTION_CONFIRM_REBIND,
                        "text": {"type": "plain_text", "text": "Confirm the new binding"},
                        "style": "danger",
                        "value": value[:2000],
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Confirm who this is?"},
                            "text": {
                                "type": "plain_text",
                                "text": "The config entry will mean the new Slack user, with "
                                "every role it grants.",
                            },
                            "confirm": {"type": "plain_text", "text": "Confirm"},
                            "deny": {"type": "plain_text", "text": "Cancel"},
                        },
                    }
                ],
            },
        ],
    }
