"""Modal submissions: the request form and the reject reason."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners.common import (
    Work,
    guarded,
    on_reason_form,
    state_value,
    state_values,
    tell,
)
from workflows import custom_sets, validation
from workflows.errors import InvalidRequest, WorkflowError
from workflows.rulebook import FIELD_TICKET
from workflows.validation import RequestForm

if TYPE_CHECKING:
    from bot.runtime import Runtime

# form field -> the input block that shows its error
FIELD_BLOCKS = {
    validation.FIELD_ACCOUNT: ids.BLOCK_ACCOUNT,
    validation.FIELD_PERMISSION_SET: ids.BLOCK_PERMISSION_SET,
    validation.FIELD_DURATION: ids.BLOCK_DURATION,
    validation.FIELD_JUSTIFICATION: ids.BLOCK_JUSTIFICATION,
    custom_sets.FIELD_NAME: ids.BLOCK_CUSTOM_NAME,
    custom_sets.FIELD_SESSION: ids.BLOCK_CUSTOM_SESSION,
    custom_sets.FIELD_MANAGED: ids.BLOCK_CUSTOM_MANAGED,
    custom_sets.FIELD_INLINE: ids.BLOCK_CUSTOM_INLINE,
    FIELD_TICKET: ids.BLOCK_TICKET,
}


def form_kind(view: dict[str, Any]) -> str:
    """``custom`` when the form shows the custom inputs, else ``standard``."""
    shown = {b.get("block_id") for b in view.get("blocks", [])}
    chosen = state_value(view, ids.BLOCK_KIND, ids.ACTION_KIND)
    if chosen is None and ids.BLOCK_CUSTOM_NAME in shown:
        return validation.KIND_CUSTOM
    return validation.KIND_CUSTOM if chosen == validation.KIND_CUSTOM else validation.KIND_STANDARD


def request_form(view: dict[str, Any]) -> RequestForm:
    return RequestForm(
        account_id=state_value(view, ids.BLOCK_ACCOUNT, ids.ACTION_ACCOUNT),
        permission_set=state_value(view, ids.BLOCK_PERMISSION_SET, ids.ACTION_PERMISSION_SET),
        duration=state_value(view, ids.BLOCK_DURATION, ids.ACTION_DURATION),
        justification=state_value(view, ids.BLOCK_JUSTIFICATION, ids.ACTION_JUSTIFICATION),
        kind=form_kind(view),
        custom_name=state_value(view, ids.BLOCK_CUSTOM_NAME, ids.ACTION_CUSTOM_NAME),
        custom_session_hours=state_value(view, ids.BLOCK_CUSTOM_SESSION, ids.ACTION_CUSTOM_SESSION),
        custom_managed=state_values(view, ids.BLOCK_CUSTOM_MANAGED, ids.ACTION_CUSTOM_MANAGED),
        custom_inline=state_value(view, ids.BLOCK_CUSTOM_INLINE, ids.ACTION_CUSTOM_INLINE),
        ticket=state_value(view, ids.BLOCK_TICKET, ids.ACTION_TICKET),
    )


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def register(app: App, rt: Runtime) -> None:
    @app.view(ids.CALLBACK_REQUEST)
    @guarded(rt.listeners)
    def on_request_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> Work | None:
        form = request_form(view)
        try:
            valid = validation.validate_form(rt.config, rt.catalog, form)
            # the access rule's duration and ticket, where no AWS call is needed for them
            rt.services.check_form_rule(form, valid)
            # the limits need the requester's Slack id only: checked before the ack so the
            # form says it inline (submit_request checks them again, authoritatively)
            rt.services.check_limits(body["user"]["id"], rt.clock())
        except InvalidRequest as exc:
            shown = {b.get("block_id") for b in view["blocks"]}
            errors = {FIELD_BLOCKS[f]: m for f, m in exc.errors.items()}
            for block_id in [b for b in errors if b not in shown and b != ids.BLOCK_PERMISSION_SET]:
                # a field this form does not show (e.g. no managed policy select): the
                # message goes on the account so it is seen
                errors.setdefault(ids.BLOCK_ACCOUNT, errors.pop(block_id))
            if ids.BLOCK_PERMISSION_SET not in {b.get("block_id") for b in view["blocks"]}:
                # no permission set input yet: show its error on the account
                errors.pop(ids.BLOCK_PERMISSION_SET, None)
                errors.setdefault(ids.BLOCK_ACCOUNT, "Choose an account, then a permission set.")
            ack(response_action="errors", errors=errors)
            return None
        ack()
        user_id = body["user"]["id"]

        def submit() -> None:
            channel = _metadata(view).get("channel_id")
            try:
                requester = rt.directory.person(user_id)
                rt.services.submit_request(requester, form, rt.clock())
            except WorkflowError as exc:
                where = channel if isinstance(channel, str) else None
                tell(client, user_id, f":warning: {exc}", where)

        return submit

    @app.view(ids.CALLBACK_REJECT)
    @guarded(rt.listeners)
    def on_reject_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> Work | None:
        return on_reason_form(
            rt,
            ack,
            body,
            view,
            client,
            ids.BLOCK_REJECT_REASON,
            ids.ACTION_REJECT_REASON,
            lambda rid, actor, reason: rt.services.decide(
                rid, actor, False, rt.clock(), comment=reason
            ),
        )
