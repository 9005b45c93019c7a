"""The requester's Nudge button on their thread root: the approvers who have not acted
are reminded in their threads (:meth:`workflows.services.remind.Reminding.nudge`), at
most once per ``reminders.first``; the requester is told how many, or when they can
nudge again. Registered by :func:`bot.listeners.actions.register`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners.common import Listener, Work, channel_of, guarded, on_button, tell
from workflows.domain import Person

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App, rt: Runtime) -> None:
    """Register the Nudge button's listener (``ack()`` first, as ``guarded`` needs)."""
    app.action(ids.ACTION_NUDGE)(guarded(rt.listeners)(_on_nudge(rt)))


def _on_nudge(rt: Runtime) -> Listener:
    def on_nudge(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        ack()

        def nudge(request_id: int, actor: Person) -> None:
            count = rt.services.nudge(request_id, actor, rt.clock())
            people = "approver" if count == 1 else "approvers"
            text = f":bell: Nudged {count} {people} of request #{request_id}."
            tell(client, actor.slack_id, text, channel_of(body))

        return lambda: on_button(rt, body, client, nudge)

    return on_nudge
