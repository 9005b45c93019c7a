"""External select options: the AWS account picker (searchable, ≤ 100 options)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from bot import ids
from bot.listeners.common import guarded
from bot.render.modals import account_options

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register(app: App, rt: Runtime) -> None:
    @app.options(ids.ACTION_ACCOUNT)
    @guarded(rt.listeners)
    def on_account_options(ack: Ack, body: dict[str, Any]) -> None:
        offer = rt.services.offering(body["user"]["id"])
        ack(options=account_options(rt.catalog, body.get("value", ""), offer))
