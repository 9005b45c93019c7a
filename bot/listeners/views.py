"""Modal submissions: the request form and the reject reason."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners.common import guarded, parse_request_id, tell
from workflows import validation
from workflows.errors import InvalidRequest, WorkflowError
from workflows.validation import RequestForm

if TYPE_CHECKING:
    from bot.runtime import Runtime

# form field -> the input block that shows its error
FIELD_BLOCKS = {
    validation.FIELD_ACCOUNT: ids.BLOCK_ACCOUNT,
    validation.FIELD_PERMISSION_SET: ids.BLOCK_PERMISSION_SET,
    validation.FIELD_DURATION: ids.BLOCK_DURATION,
    validation.FIELD_JUSTIFICATION: ids.BLOCK_JUSTIFICATION,
}


def state_value(view: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The submitted value of one input (a select's option value or a text input)."""
    element = view.get("state", {}).get("values", {}).get(block_id, {}).get(action_id) or {}
    option = element.get("selected_option")
    if option:
        return option.get("value")
    return element.get("value")


def request_form(view: dict[str, Any]) -> RequestForm:
    return RequestForm(
        account_id=state_value(view, ids.BLOCK_ACCOUNT, ids.ACTION_ACCOUNT),
        permission_set=state_value(view, ids.BLOCK_PERMISSION_SET, ids.ACTION_PERMISSION_SET),
        duration=state_value(view, ids.BLOCK_DURATION, ids.ACTION_DURATION),
        justification=state_value(view, ids.BLOCK_JUSTIFICATION, ids.ACTION_JUSTIFICATION),
    )


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def register(app: App, rt: Runtime) -> None:
    @app.view(ids.CALLBACK_REQUEST)
    @guarded
    def on_request_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        form = request_form(view)
        try:
            validation.validate_form(rt.config, rt.catalog, form)
        except InvalidRequest as exc:
            errors = {FIELD_BLOCKS[f]: m for f, m in exc.errors.items()}
            if ids.BLOCK_PERMISSION_SET not in {b.get("block_id") for b in view["blocks"]}:
                # no permission set input yet: show its error on the account
                errors.pop(ids.BLOCK_PERMISSION_SET, None)
                errors.setdefault(ids.BLOCK_ACCOUNT, "Choose an account, then a permission set.")
            ack(response_action="errors", errors=errors)
            return
        ack()
        user_id = body["user"]["id"]
        channel = _metadata(view).get("channel_id")
        try:
            requester = rt.directory.person(user_id)
            rt.services.submit_request(requester, form, rt.clock())
        except WorkflowError as exc:
            tell(client, user_id, f":warning: {exc}", channel if isinstance(channel, str) else None)

    @app.view(ids.CALLBACK_REJECT)
    @guarded
    def on_reject_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        request_id = parse_request_id(_metadata(view).get("request_id"))
        reason = state_value(view, ids.BLOCK_REJECT_REASON, ids.ACTION_REJECT_REASON)
        if request_id is None:
            tell(client, user_id, ":warning: That form didn't name a request; nothing changed.")
            return
        try:
            actor = rt.directory.person(user_id)
            rt.services.decide(request_id, actor, False, rt.clock(), comment=reason)
        except WorkflowError as exc:
            tell(client, user_id, f":warning: {exc}")
