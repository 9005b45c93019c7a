"""The Bolt app: built from a :class:`bot.runtime.Runtime`, listeners registered by surface."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse

from bot.listeners import actions, commands, home, options, views

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("jitbot.bolt")


def build_app(rt: Runtime) -> App:
    """A Bolt app on ``rt.client``. Requests are verified with ``SLACK_SIGNING_SECRET``
    (HTTP mode); Socket Mode needs no signing secret."""
    settings = rt.settings
    app = App(
        client=rt.client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=bool(settings.slack_signing_secret),
        process_before_response=False,
        # Bolt runs listeners (and so the ack) in this pool; its default of 5 threads
        # let five slow grants hold up every other click's ack (benchmarks/results.md)
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt"),
    )

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        log.exception(
            "unhandled error in listener (payload type %s)", body.get("type"), exc_info=error
        )
        return None

    for surface in (commands, views, actions, options, home):
        surface.register(app, rt)
    return app
