"""Events: App Home."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.render.home import home_view

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App, rt: Runtime) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user_id = event["user"]
        client.views_publish(
            user_id=user_id,
            view=home_view(rt.store.requests_of(user_id, 20), rt.config.slash_command),
        )
