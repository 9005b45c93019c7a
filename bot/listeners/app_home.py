"""App Home: opening it, paging, the history filter, the accounts search, and the
requester's Cancel / Release and the approver's Revoke."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners.common import Listener, Work, guarded, on_button, on_reason_form
from bot.render.modals import revoke_modal
from workflows.app_home import LISTS, HomeState
from workflows.domain import Person

if TYPE_CHECKING:
    from bot.runtime import Runtime


def _state(body: dict[str, Any]) -> HomeState:
    return HomeState.from_json((body.get("view") or {}).get("private_metadata"))


def register(app: App, rt: Runtime) -> None:
    """Register each listener below; ``ack()`` comes first in each, as ``guarded`` needs."""
    app.event("app_home_opened")(guarded(rt.listeners)(_on_home_opened(rt)))
    on_page = guarded(rt.listeners)(_on_page(rt))
    app.action(ids.ACTION_HOME_OLDER)(on_page)
    app.action(ids.ACTION_HOME_NEWER)(on_page)
    app.action(ids.ACTION_HOME_FILTER)(guarded(rt.listeners)(_on_filter(rt)))
    app.action(ids.ACTION_HOME_SEARCH)(guarded(rt.listeners)(_on_search(rt)))
    app.action(ids.ACTION_OPEN_AWS)(guarded(rt.listeners)(on_open_aws))
    app.action(ids.ACTION_CANCEL)(guarded(rt.listeners)(_on_cancel(rt)))
    app.action(ids.ACTION_RELEASE)(guarded(rt.listeners)(_on_release(rt)))
    app.action(ids.ACTION_REVOKE)(guarded(rt.modals)(_on_revoke(rt)))
    app.view(ids.CALLBACK_REVOKE)(guarded(rt.listeners)(_on_revoke_submitted(rt)))


def _on_home_opened(rt: Runtime) -> Listener:
    homes = rt.homes

    def on_home_opened(event: dict[str, Any]) -> Work | None:
        if event.get("tab") != "home":
            return None
        return lambda: homes.publish(event["user"])

    return on_home_opened


def _on_page(rt: Runtime) -> Listener:
    homes = rt.homes

    def on_page(ack: Ack, body: dict[str, Any]) -> Work | None:
        ack()
        name, _, offset = str(body["actions"][0].get("value", "")).partition(":")
        if not (name in LISTS and offset.isascii() and offset.isdigit()):
            return None
        return lambda: homes.publish(body["user"]["id"], _state(body).paged(name, int(offset)))

    return on_page


def _on_filter(rt: Runtime) -> Listener:
    homes = rt.homes

    def on_filter(ack: Ack, body: dict[str, Any]) -> Work:
        ack()
        option = body["actions"][0].get("selected_option") or {}
        value = option.get("value", "")
        return lambda: homes.publish(
            body["user"]["id"], _state(body).filtered("" if value == "all" else value)
        )

    return on_filter


def _on_search(rt: Runtime) -> Listener:
    homes = rt.homes

    def on_search(ack: Ack, body: dict[str, Any]) -> Work:
        ack()
        return lambda: homes.publish(
            body["user"]["id"], _state(body).searched(body["actions"][0].get("value") or "")
        )

    return on_search


def on_open_aws(ack: Ack) -> None:
    """The Open AWS link button: Slack opens the URL, the bot only answers."""
    ack()


def _on_cancel(rt: Runtime) -> Listener:
    def on_cancel(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        ack()
        return lambda: on_button(
            rt, body, client, lambda rid, actor: rt.services.cancel(rid, actor, rt.clock())
        )

    return on_cancel


def _on_release(rt: Runtime) -> Listener:
    def on_release(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        ack()
        return lambda: on_button(
            rt, body, client, lambda rid, actor: rt.services.release(rid, actor, rt.clock())
        )

    return on_release


def _on_revoke(rt: Runtime) -> Listener:
    def on_revoke(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        """Open the confirmation modal, if this person may revoke this session."""
        ack()

        def open_modal(request_id: int, actor: Person) -> None:
            request = rt.services.revocable(request_id, actor)
            view = revoke_modal(request, rt.clock())
            client.views_open(trigger_id=body["trigger_id"], view=view)

        return lambda: on_button(rt, body, client, open_modal)

    return on_revoke


def _on_revoke_submitted(rt: Runtime) -> Listener:
    def on_revoke_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> Work | None:
        return on_reason_form(
            rt,
            ack,
            body,
            view,
            client,
            ids.BLOCK_REVOKE_REASON,
            ids.ACTION_REVOKE_REASON,
            lambda rid, actor, reason: rt.services.revoke(rid, actor, rt.clock(), reason),
        )

    return on_revoke_submitted
