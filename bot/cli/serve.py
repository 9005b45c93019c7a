"""``jitbot serve``: the bot, in Socket Mode or behind Slack's HTTP request URL."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from bot.settings import Settings
from workflows.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("jitbot")


class _Stop(BaseException):
    """Raised by the SIGTERM handler to leave the serving loop (not an error)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` (``--http``, ``--host``, ``--port``, ``--metrics-port``,
    ``--metrics-host``)."""
    serve = sub.add_parser("serve", help="run the bot (Socket Mode, or HTTP with --http)")
    serve.add_argument("--http", action="store_true", help="serve Slack's HTTP request URL")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    serve.add_argument(
        "--port",
        type=int,
        default=3000,
        help="HTTP port (default 3000); in Socket Mode it answers /healthz and /metrics only",
    )
    serve.add_argument(
        "--metrics-port",
        type=int,
        help="serve GET /metrics on this port of its own (then not on --port)",
    )
    serve.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="bind address of --metrics-port (default 127.0.0.1: this host only)",
    )
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or Ctrl-C, then finish the work in progress; SIGHUP (or
    ``jitbot reload``) re-reads the config (:mod:`bot.reload`). Exit 0, or 2 when a
    setting is missing or the config is invalid."""
    from bot.reload import LiveRuntime, Reloader
    from bot.runtime import build_runtime, settle_heap

    settings = Settings()
    config = _config_to_serve(settings, args)
    if config is None:
        return 2
    rt = build_runtime(settings, config)
    settle_heap()
    rt.timekeeper.start()
    closers: list[Any] = []
    swapped: list[Callable[[Runtime], None]] = []  # told each runtime a reload puts in force
    in_force = LiveRuntime(rt)
    live = cast("Runtime", in_force)  # the servers read the runtime in force at each request
    reloader = Reloader(
        settings,
        in_force,
        build_runtime,
        on_swap=lambda new: _tell_all(swapped, new),
        on_closed=refreeze_heap,
    )

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signum)
        raise _Stop  # ends server.run() / handler.start() in the main thread

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, lambda _signum, _frame: reloader.request())
    reloader.start()
    try:
        _run(live, settings, args, closers, swapped)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        for close in closers:  # no new requests
            close()
        reloader.stop()  # a reload in progress ends; replaced runtimes finish their work
        # graceful: the listeners, the sweep and the outbox round in progress finish
        # (their leases are released as each assignment is done)
        log.info("finishing the work in progress")
        in_force.current.close()
        log.info("stopped")
    return 0


def _serve_health(
    rt: Runtime, args: argparse.Namespace, closers: list[Any], *, metrics: bool, connected: Any
) -> None:
    """Socket Mode's HTTP listener on ``--host``/``--port``: ``GET /healthz`` (with the
    websocket's state) and ``/metrics`` (unless they have ``--metrics-port``), no
    ``/slack/events``; in a thread of its own, stopped through ``closers``."""
    from bot.http import make_server

    server = make_server(
        rt, args.host, args.port, threads=4, metrics=metrics, events=False, connected=connected
    )
    _in_thread(server, "jitbot-health", closers)
    what = "healthz and metrics" if metrics else "healthz"
    log.info("serving %s at http://%s:%s/healthz", what, args.host, server.effective_port)


def _serve_metrics(rt: Runtime, host: str, port: int, closers: list[Any]) -> None:
    """Start the ``/metrics`` listener in a thread of its own; ``closers`` gets what
    stops it (close the listener, then wait a little for the thread)."""
    from bot.http import make_metrics_server

    server = make_metrics_server(rt, host, port)
    _in_thread(server, "jitbot-metrics", closers)
    log.info("serving metrics at http://%s:%s/metrics", host, server.effective_port)


def _in_thread(server: Any, name: str, closers: list[Any]) -> None:
    """Run a waitress ``server`` in a daemon thread; ``closers`` gets its stop."""

    def run() -> None:
        # close() from the main thread may end a select() in progress with EBADF
        with contextlib.suppress(OSError, ValueError):
            server.run()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()

    def close() -> None:
        server.close()
        thread.join(timeout=5)

    closers.append(close)


def _config_to_serve(settings: Settings, args: argparse.Namespace) -> Config | None:
    """The config to serve, or None after one line on stderr: a setting the mode needs
    is missing, the config is invalid, or Slack refuses the app token (Socket Mode;
    checked before migrations and the scheduler)."""
    mode = "http" if args.http else "socket"
    missing = settings.missing_for(mode)
    if missing:
        hint = "" if args.http else " (or use --http)"
        print(f"jitbot serve ({mode} mode) needs: {', '.join(missing)}{hint}", file=sys.stderr)
        return None
    try:
        config = load_config(settings.jitbot_config)
    except ConfigError as exc:
        print(f"{settings.jitbot_config}: invalid config:\n{exc}", file=sys.stderr)
        return None
    if not args.http:
        from bot.checks_socket import app_token_problem

        problem = app_token_problem(settings)
        if problem is not None:
            print(f"jitbot serve: {problem}", file=sys.stderr)
            return None
    return config


def _tell_all(swapped: list[Callable[[Runtime], None]], new: Runtime) -> None:
    for tell in swapped:
        tell(new)


def refreeze_heap() -> None:
    """After a reload closed the old runtime: let the collector free it (it was frozen
    with the rest at start, :func:`bot.runtime.settle_heap`), then freeze what lives."""
    import gc

    from bot.runtime import settle_heap

    gc.unfreeze()
    settle_heap()


def _run(
    rt: Runtime,
    settings: Settings,
    args: argparse.Namespace,
    closers: list[Any],
    swapped: list[Callable[[Runtime], None]],
) -> None:
    own_metrics = args.metrics_port is not None
    if own_metrics:
        _serve_metrics(rt, args.metrics_host, args.metrics_port, closers)
    if args.http:
        from bot.http import make_server

        server = make_server(rt, args.host, args.port, metrics=not own_metrics)
        closers.insert(0, server.close)  # Slack's port first: no new requests
        log.info("serving Slack at http://%s:%s/slack/events", args.host, server.effective_port)
        server.run()
    else:
        from bot.socket_client import SocketModeHandler

        handler = SocketModeHandler(rt.app, settings.slack_app_token or "", rt.client)
        _serve_health(rt, args, closers, metrics=not own_metrics, connected=handler.client.is_open)
        closers.insert(0, handler.close)
        swapped.append(lambda new: setattr(handler, "app", new.app))
        log.info("connecting to Slack in Socket Mode")
        handler.connect()
        log.info("connected to Slack in Socket Mode")
        # Not handler.start(): it blocks the main thread in Event().wait(), and a SIGTERM
        # the kernel delivers to another thread is only acted on when the main thread
        # runs Python code again (Python's signal docs: handlers run in the main thread),
        # which it then never did. Waking twice a second lets the handler run.
        while True:
            time.sleep(0.5)
