"""Request again: a button on the requester's ended requests (their thread's root and
App Home's My Requests) that opens the request form filled in from that request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners.commands import check_requester
from bot.listeners.common import Listener, Work, guarded, on_button, submit
from bot.render.again_modal import again_modal
from workflows.domain import Person

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App, rt: Runtime) -> None:
    """Request again opens a modal with the click's trigger_id: ``rt.modals``, which
    never waits on AWS (:func:`bot.listeners.commands.open_request_modal`)."""
    app.action(ids.ACTION_REQUEST_AGAIN)(guarded(rt.modals)(_on_request_again(rt)))


def _on_request_again(rt: Runtime) -> Listener:
    def on_request_again(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        """Only the requester, on an ended request (re-checked from the database);
        anyone else gets the refusal Cancel and Release give."""
        ack()

        def open_modal(request_id: int, actor: Person) -> None:
            refill = rt.services.request_again(request_id, actor)
            view = again_modal(rt.catalog, refill, rt.config.custom_permission_sets)
            opened = client.views_open(trigger_id=body["trigger_id"], view=view)
            # as for /jit: no Identity Center user turns the form into the explanation
            submit(rt.listeners, check_requester, rt, client, actor.slack_id, opened["view"])

        return lambda: on_button(rt, body, client, open_modal)

    return on_request_again
