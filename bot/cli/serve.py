"""``jitbot serve``: the bot, in Socket Mode or behind Slack's HTTP request URL."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from bot.settings import Settings
from workflows.config import ConfigError, load_config

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("jitbot")


class _Stop(BaseException):
    """Raised by the SIGTERM handler to leave the serving loop (not an error)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` (``--http``, ``--host``, ``--port``)."""
    serve = sub.add_parser("serve", help="run the bot (Socket Mode, or HTTP with --http)")
    serve.add_argument("--http", action="store_true", help="serve Slack's HTTP request URL")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or Ctrl-C, then finish the work in progress. Exit 0, or 2
    when a setting is missing or the config is invalid."""
    from bot.runtime import build_runtime, settle_heap

    settings = Settings()
    mode = "http" if args.http else "socket"
    missing = settings.missing_for(mode)
    if missing:
        hint = "" if args.http else " (or use --http)"
        print(f"jitbot serve ({mode} mode) needs: {', '.join(missing)}{hint}", file=sys.stderr)
        return 2
    try:
        config = load_config(settings.jitbot_config)
    except ConfigError as exc:
        print(f"{settings.jitbot_config}: invalid config:\n{exc}", file=sys.stderr)
        return 2
    rt = build_runtime(settings, config)
    settle_heap()
    rt.timekeeper.start()
    closers: list[Any] = []

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signum)
        raise _Stop  # ends server.run() / handler.start() in the main thread

    signal.signal(signal.SIGTERM, stop)
    try:
        _run(rt, settings, args, closers)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for close in closers:  # no new requests
            close()
        # graceful: the listeners, the sweep and the outbox round in progress finish
        # (their leases are released as each assignment is done)
        log.info("finishing the work in progress")
        rt.close()
        log.info("stopped")
    return 0


def _run(rt: Runtime, settings: Settings, args: argparse.Namespace, closers: list[Any]) -> None:
    if args.http:
        from bot.http import make_server

        server = make_server(rt, args.host, args.port)
        closers.append(server.close)
        log.info("serving Slack at http://%s:%s/slack/events", args.host, server.effective_port)
        server.run()
    else:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(rt.app, settings.slack_app_token, web_client=rt.client)
        closers.append(handler.close)
        log.info("connecting to Slack in Socket Mode")
        handler.start()
