"""Extending a session: the Extend button (the requester's root, App Home's Active
Sessions, the expiry warning), its modal's submission, and Approve extension / Reject
extension in the approvers' threads. Each click is checked again on the server from the
database and the config (:mod:`workflows.services.extend`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners.common import (
    Listener,
    Work,
    guarded,
    on_button,
    parse_request_id,
    state_value,
    tell,
)
from bot.render.extend_modal import extend_modal
from workflows.domain import Person
from workflows.durations import parse_duration
from workflows.errors import InvalidRequest, WorkflowError
from workflows.services.extend import FIELD_REASON
from workflows.validation import FIELD_DURATION

if TYPE_CHECKING:
    from datetime import timedelta

    from bot.runtime import Runtime

#: form field -> the input block that shows its error
FIELD_BLOCKS = {FIELD_DURATION: ids.BLOCK_EXTEND_DURATION, FIELD_REASON: ids.BLOCK_EXTEND_REASON}


def register(app: App, rt: Runtime) -> None:
    """Register the Extend button, its modal and the approvers' two buttons."""
    app.action(ids.ACTION_EXTEND)(guarded(rt.modals)(_on_extend(rt)))
    app.view(ids.CALLBACK_EXTEND)(guarded(rt.listeners)(_on_submitted(rt)))
    app.action(ids.ACTION_APPROVE_EXTENSION)(guarded(rt.listeners)(_on_decide(rt, True)))
    app.action(ids.ACTION_REJECT_EXTENSION)(guarded(rt.listeners)(_on_decide(rt, False)))


def _on_extend(rt: Runtime) -> Listener:
    def on_extend(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        """Open the Extend modal, if this person may extend this session now."""
        ack()

        def open_modal(request_id: int, actor: Person) -> None:
            offer = rt.services.extend_offer(request_id, actor, rt.clock())
            client.views_open(trigger_id=body["trigger_id"], view=extend_modal(offer))

        return lambda: on_button(rt, body, client, open_modal)

    return on_extend


def _chosen(view: dict[str, Any]) -> timedelta | None:
    code = state_value(view, ids.BLOCK_EXTEND_DURATION, ids.ACTION_EXTEND_DURATION)
    try:
        return parse_duration(code) if code else None
    except ValueError:
        return None


def _request_id(view: dict[str, Any]) -> int | None:
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    return parse_request_id(metadata.get("request_id")) if isinstance(metadata, dict) else None


def _on_submitted(rt: Runtime) -> Listener:
    def on_extend_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> Work | None:
        """Check the choice and the reason inline (the request, the requester, the
        status and the rule's ``max_total`` from the database and config), then ask."""
        user_id = body["user"]["id"]
        more = _chosen(view)
        reason = state_value(view, ids.BLOCK_EXTEND_REASON, ids.ACTION_EXTEND_REASON)
        request_id = _request_id(view)
        try:
            if request_id is None:
                raise WorkflowError("That form doesn't name a request; nothing changed.")
            actor = rt.directory.person(user_id)
            offer = rt.services.extend_offer(request_id, actor, rt.clock())
            rt.services.extending.check_form(offer, more, reason)
        except InvalidRequest as exc:
            ack(
                response_action="errors", errors={FIELD_BLOCKS[f]: m for f, m in exc.errors.items()}
            )
            return None
        except WorkflowError as exc:
            ack(response_action="errors", errors={ids.BLOCK_EXTEND_DURATION: str(exc)[:2000]})
            return None
        ack()

        def ask() -> None:
            try:
                rt.services.extend(offer.request.id, actor, more, reason, rt.clock())
            except WorkflowError as exc:
                tell(client, user_id, f":warning: {exc}")

        return ask

    return on_extend_submitted


def _on_decide(rt: Runtime, approve: bool) -> Listener:
    def on_decide_extension(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        """Approve or reject the extension the button names (checked at the click)."""
        ack()
        return lambda: on_button(
            rt,
            body,
            client,
            lambda eid, actor: rt.services.decide_extension(eid, actor, approve, rt.clock()),
            refusal="That button doesn't name an extension; nothing changed.",
        )

    return on_decide_extension
