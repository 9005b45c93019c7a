"""The Block Kit button of each :class:`workflows.actions.Action`, and View details.

Which actions a view shows is decided in :mod:`workflows.actions` (the transition table,
then the viewer's authority); this module only says how each one looks. A button's value
is the request id, which the listener treats as a hint and re-checks.
"""

from __future__ import annotations

from slack_sdk.models.blocks import ButtonElement, ConfirmObject

from bot import ids
from bot.render.escape import esc
from workflows.actions import Action
from workflows.domain import AccessRequest

#: The Slack ``action_id`` of each action's button (the listeners register on these).
ACTION_IDS: dict[Action, str] = {
    Action.APPROVE: ids.ACTION_APPROVE,
    Action.REJECT: ids.ACTION_REJECT,
    Action.CANCEL: ids.ACTION_CANCEL,
    Action.RELEASE: ids.ACTION_RELEASE,
    Action.REVOKE: ids.ACTION_REVOKE,
    Action.EXTEND: ids.ACTION_EXTEND,
}


def _confirm(action: Action, request: AccessRequest) -> ConfirmObject | None:
    if action == Action.CANCEL:
        return ConfirmObject(
            title="Cancel this request?",
            text="Approvers will no longer see it.",
            confirm="Cancel request",
            deny="Keep it",
        )
    if action == Action.RELEASE:
        return ConfirmObject(
            title="Release this access now?",
            text=(
                f"Your access to {esc(request.account_label)} as "
                f"{esc(request.permission_set_name)} "
                "ends at once."
            ),
            confirm="Release now",
            deny="Keep it",
        )
    return None


_TEXT = {
    Action.APPROVE: "Approve",
    Action.REJECT: "Reject",
    Action.CANCEL: "Cancel request",
    Action.RELEASE: "Release now",
    Action.REVOKE: "Revoke",
    Action.EXTEND: "Extend",
}
_STYLE = {
    Action.APPROVE: "primary",
    Action.REJECT: "danger",
    Action.RELEASE: "danger",
    Action.REVOKE: "danger",
}


def action_button(action: Action, request: AccessRequest) -> ButtonElement:
    """The button that takes ``action`` on ``request`` (Cancel and Release ask first)."""
    return ButtonElement(
        text=_TEXT[action],
        action_id=ACTION_IDS[action],
        value=str(request.id),
        style=_STYLE.get(action),
        confirm=_confirm(action, request),
    )


def details_button(request: AccessRequest) -> ButtonElement:
    """View details: opens the request's details modal (authority checked at the click)."""
    return ButtonElement(text="View details", action_id=ids.ACTION_DETAILS, value=str(request.id))


def again_button(request: AccessRequest) -> ButtonElement:
    """Request again: the request form filled in from ``request`` (shown on ended
    requests, :func:`workflows.actions.may_request_again`; checked again at the click)."""
    return ButtonElement(
        text="Request again", action_id=ids.ACTION_REQUEST_AGAIN, value=str(request.id)
    )


def nudge_button(request: AccessRequest) -> ButtonElement:
    """Nudge: the requester reminds the approvers who have not acted (checked at the
    click: only the requester, while pending, once per ``reminders.first``)."""
    return ButtonElement(text="Nudge approvers", action_id=ids.ACTION_NUDGE, value=str(request.id))
