"""HTTP mode: Slack's request URL at ``/slack/events`` and ``GET /healthz``, served by
waitress (a production WSGI server), not Bolt's development server."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from waitress.server import create_server

from bot.runtime import Runtime

log = logging.getLogger("jitbot.http")

EVENTS_PATH = "/slack/events"
StartResponse = Callable[..., Any]


def make_wsgi_app(rt: Runtime) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI app: commands, interactivity, options and events all POST to
    ``/slack/events``; ``GET /healthz`` answers 200 when the database answers."""
    slack = SlackRequestHandler(rt.app)

    def health() -> tuple[str, dict[str, Any]]:
        try:
            with rt.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any database failure makes the replica unhealthy
            return "503 Service Unavailable", {"status": "unhealthy", "database": str(exc)}
        return "200 OK", {"status": "ok", "database": "ok"}

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH and method == "POST":
            return slack(environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            status, body = health()
            payload = json.dumps(body).encode()
            start_response(
                status,
                [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
            )
            return [payload]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app


def make_server(rt: Runtime, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server bound to ``host:port`` (port 0 picks a free one; see
    ``server.effective_port``). Call ``run()`` to serve, ``close()`` to stop."""
    return create_server(make_wsgi_app(rt), host=host, port=port, threads=threads, ident="jitbot")
