"""The Confirm button of a rebinding alert (:mod:`bot.render.alerts`): an admin says a
configured person is now the Slack user the alert named. The button's value only names
the change; who may confirm (an admin, as bound now) and whether that change still
waits are checked on the server (:meth:`workflows.rebinding.Rebinding.confirm`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.listeners.common import Listener, Work, channel_of, guarded, tell
from bot.render.alerts import ACTION_CONFIRM_REBIND
from workflows.errors import WorkflowError

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App, rt: Runtime) -> None:
    app.action(ACTION_CONFIRM_REBIND)(guarded(rt.listeners)(_on_confirm(rt)))


def _change_of(value: object) -> tuple[str, str | None] | None:
    """``(entry, to)`` from the button's value; None when it is not one."""
    try:
        data = json.loads(str(value or ""))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    entry, to = data.get("entry"), data.get("to")
    if not isinstance(entry, str) or not entry or not (to is None or isinstance(to, str)):
        return None
    return entry, to


def _on_confirm(rt: Runtime) -> Listener:
    def on_confirm(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        ack()
        user_id = body["user"]["id"]
        change = _change_of(body["actions"][0].get("value"))
        channel = channel_of(body)

        def confirm() -> None:
            try:
                if change is None:
                    raise WorkflowError("That button doesn't name a change; nothing changed.")
                entry, to = change
                rt.rebinding.confirm(entry, to, rt.directory.person(user_id), rt.clock())
            except WorkflowError as exc:
                tell(client, user_id, f":warning: {exc}", channel)
                return
            rt.outbox.kick()
            tell(
                client,
                user_id,
                f":white_check_mark: Confirmed: {entry} is now {to or 'nobody'}.",
                channel,
            )

        return confirm

    return on_confirm
