"""Buttons and selects: the account select in the modal, Approve, Reject, View details,
and Request Access on App Home. Authority is checked on the server for each click."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners import again, nudge
from bot.listeners.channel_clicks import in_channel
from bot.listeners.commands import open_request_modal
from bot.listeners.common import Listener, Work, guarded, on_button, state_value
from bot.listeners.views import form_kind
from bot.render.modals import details_modal, reject_modal, request_modal
from workflows.domain import Person
from workflows.validation import KIND_CUSTOM

if TYPE_CHECKING:
    from bot.runtime import Runtime


def _update_form(
    rt: Runtime,
    client: WebClient,
    user_id: str,
    view: dict[str, Any],
    account_id: str,
    kind: str,
    permission_set: str | None = None,
) -> None:
    """Re-render the request form for the chosen account, kind and set
    (:meth:`Services.form_choice`: what the access rules offer and ask)."""
    custom = kind == KIND_CUSTOM
    choice = rt.services.form_choice(user_id, account_id, permission_set, custom)
    client.views_update(
        view_id=view["id"],
        hash=view.get("hash"),
        view=request_modal(
            rt.catalog,
            choice.durations,
            account=choice.account,
            private_metadata=view.get("private_metadata", ""),
            kind=kind,
            custom=rt.config.custom_permission_sets,
            ticket=choice.ticket,
            permission_set=None if custom else permission_set,
            rule_line=choice.rule_line,
        ),
    )


def register(app: App, rt: Runtime) -> None:
    """Register each listener below; ``ack()`` comes first in each, as ``guarded`` needs."""
    # Bolt tries listeners in the order they are registered: Approve and Reject first,
    # so a decision (on the way to an AWS call) is matched without trying the others
    app.action(ids.ACTION_APPROVE)(guarded(rt.listeners)(_on_approve(rt)))
    app.action(ids.ACTION_REJECT)(guarded(rt.modals)(_on_reject(rt)))
    app.action(ids.ACTION_ACCOUNT)(guarded(rt.modals)(_on_account_chosen(rt)))
    app.action(ids.ACTION_KIND)(guarded(rt.modals)(_on_kind_chosen(rt)))
    app.action(ids.ACTION_PERMISSION_SET)(guarded(rt.modals)(_on_set_chosen(rt)))
    select_in_form = guarded(rt.listeners)(on_select_in_form)
    for action_id in (
        ids.ACTION_CUSTOM_MANAGED,
        ids.ACTION_CUSTOM_SESSION,
        ids.ACTION_DURATION,
    ):
        app.action(action_id)(select_in_form)
    app.action(ids.ACTION_DETAILS)(guarded(rt.modals)(_on_details(rt)))
    app.action(ids.ACTION_HOME_REQUEST)(guarded(rt.modals)(_on_home_request(rt)))
    again.register(app, rt)  # Request again (bot.listeners.again)
    nudge.register(app, rt)  # the requester's Nudge (issue 19)


def _on_approve(rt: Runtime) -> Listener:
    def on_approve(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        ack()
        return lambda: on_button(
            rt,
            body,
            client,
            in_channel(
                rt, body, lambda rid, actor: rt.services.decide(rid, actor, True, rt.clock())
            ),
        )

    return on_approve


def _on_reject(rt: Runtime) -> Listener:
    def on_reject(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        """Open the reject modal, if this person may decide this request."""
        ack()

        def open_modal(request_id: int, actor: Person) -> None:
            request = rt.services.decidable(request_id, actor)
            client.views_open(trigger_id=body["trigger_id"], view=reject_modal(request))

        return lambda: on_button(rt, body, client, in_channel(rt, body, open_modal))

    return on_reject


def _on_account_chosen(rt: Runtime) -> Listener:
    def on_account_chosen(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        """Re-render the modal with the permission sets allowed on the chosen account."""
        ack()
        view = body["view"]
        option = body["actions"][0].get("selected_option") or {}
        return lambda: _update_form(
            rt, client, body["user"]["id"], view, option.get("value", ""), form_kind(view)
        )

    return on_account_chosen


def _on_set_chosen(rt: Runtime) -> Listener:
    def on_set_chosen(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        """A permission set chosen: say what its access rule asks, cut the durations."""
        ack()
        view = body["view"]
        option = body["actions"][0].get("selected_option") or {}
        account_id = state_value(view, ids.BLOCK_ACCOUNT, ids.ACTION_ACCOUNT) or ""
        chosen = option.get("value") or None
        return lambda: _update_form(
            rt, client, body["user"]["id"], view, account_id, form_kind(view), chosen
        )

    return on_set_chosen


def _on_kind_chosen(rt: Runtime) -> Listener:
    def on_kind_chosen(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        """Standard or Custom: show the permission set select or the custom inputs."""
        ack()
        view = body["view"]
        option = body["actions"][0].get("selected_option") or {}
        account_id = state_value(view, ids.BLOCK_ACCOUNT, ids.ACTION_ACCOUNT) or ""
        return lambda: _update_form(
            rt, client, body["user"]["id"], view, account_id, option.get("value", "")
        )

    return on_kind_chosen


def on_select_in_form(ack: Ack) -> None:
    """A select inside the request form: nothing to do but answer."""
    ack()


def _on_details(rt: Runtime) -> Listener:
    def on_details(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        ack()

        def open_modal(request_id: int, actor: Person) -> None:
            request = rt.services.visible(request_id, actor)
            client.views_open(trigger_id=body["trigger_id"], view=details_modal(request))

        return lambda: on_button(
            rt, body, client, open_modal, refusal="You can't see that request."
        )

    return on_details


def _on_home_request(rt: Runtime) -> Listener:
    def on_home_request(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        ack()
        return lambda: open_request_modal(rt, client, body["trigger_id"], body["user"]["id"], None)

    return on_home_request
