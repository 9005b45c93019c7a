"""App Home: opening it, paging, the history filter, the accounts search, and the
requester's Cancel / Release and the approver's Revoke."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners.common import channel_of, guarded, parse_request_id, tell
from bot.render.modals import revoke_modal
from workflows.errors import NotAuthorized, WorkflowError
from workflows.home import LISTS, HomeState
from workflows.policy import may_revoke

if TYPE_CHECKING:
    from bot.runtime import Runtime


def _state(body: dict[str, Any]) -> HomeState:
    return HomeState.from_json((body.get("view") or {}).get("private_metadata"))


def register(app: App, rt: Runtime) -> None:
    homes = rt.homes

    @app.event("app_home_opened")
    @guarded
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") == "home":
            homes.publish(event["user"])

    @app.action(ids.ACTION_HOME_NEWER)
    @app.action(ids.ACTION_HOME_OLDER)
    @guarded
    def on_page(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        name, _, offset = str(body["actions"][0].get("value", "")).partition(":")
        if name in LISTS and offset.isascii() and offset.isdigit():
            homes.publish(body["user"]["id"], _state(body).paged(name, int(offset)))

    @app.action(ids.ACTION_HOME_FILTER)
    @guarded
    def on_filter(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        option = body["actions"][0].get("selected_option") or {}
        value = option.get("value", "")
        homes.publish(body["user"]["id"], _state(body).filtered("" if value == "all" else value))

    @app.action(ids.ACTION_HOME_SEARCH)
    @guarded
    def on_search(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        homes.publish(
            body["user"]["id"], _state(body).searched(body["actions"][0].get("value") or "")
        )

    @app.action(ids.ACTION_OPEN_AWS)
    @guarded
    def on_open_aws(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL

    @app.action(ids.ACTION_CANCEL)
    @guarded
    def on_cancel(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        request_id = parse_request_id(body["actions"][0].get("value"))
        try:
            if request_id is None:
                raise NotAuthorized("That button doesn't name a request; nothing changed.")
            rt.services.cancel(request_id, rt.directory.person(user_id), rt.clock())
        except WorkflowError as exc:
            tell(client, user_id, f":warning: {exc}", channel_of(body))

    @app.action(ids.ACTION_RELEASE)
    @guarded
    def on_release(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        request_id = parse_request_id(body["actions"][0].get("value"))
        try:
            if request_id is None:
                raise NotAuthorized("That button doesn't name a request; nothing changed.")
            rt.services.release(request_id, rt.directory.person(user_id), rt.clock())
        except WorkflowError as exc:
            tell(client, user_id, f":warning: {exc}", channel_of(body))

    @app.action(ids.ACTION_REVOKE)
    @guarded
    def on_revoke(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Open the confirmation modal, if this person may revoke this session."""
        ack()
        user_id = body["user"]["id"]
        request_id = parse_request_id(body["actions"][0].get("value"))
        try:
            request = rt.store.get(request_id) if request_id is not None else None
            if request is None:
                raise NotAuthorized("That button doesn't name a session; nothing changed.")
            refusal = may_revoke(rt.config, request, rt.directory.person(user_id))
            if refusal:
                raise NotAuthorized(f"You can't revoke this session: {refusal}.")
            client.views_open(trigger_id=body["trigger_id"], view=revoke_modal(request, rt.clock()))
        except WorkflowError as exc:
            tell(client, user_id, f":warning: {exc}", channel_of(body))

    @app.view(ids.CALLBACK_REVOKE)
    @guarded
    def on_revoke_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        user_id = body["user"]["id"]
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        request_id = parse_request_id(
            metadata.get("request_id") if isinstance(metadata, dict) else None
        )
        state = view.get("state", {}).get("values", {})
        reason = (state.get(ids.BLOCK_REVOKE_REASON, {}).get(ids.ACTION_REVOKE_REASON) or {}).get(
            "value"
        )
        try:
            if request_id is None:
                raise NotAuthorized("That form didn't name a session; nothing changed.")
            rt.services.revoke(request_id, rt.directory.person(user_id), rt.clock(), reason)
        except WorkflowError as exc:
            tell(client, user_id, f":warning: {exc}", channel_of(body))
