"""``jitbot``: serve, check-config, reconcile, db, audit, demo, bench."""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings
from workflows.config import ConfigError, load_config

log = logging.getLogger("jitbot")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``ts`` (ISO 8601 UTC), ``level``, ``logger``, ``message``,
    and ``exc`` when there is a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler()
    if Settings().jitbot_log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    for noisy in ("botocore", "urllib3", "apscheduler", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _Stop(BaseException):
    """Raised by the SIGTERM handler to leave the serving loop (not an error)."""


def cmd_serve(args: argparse.Namespace) -> int:
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


#: Seconds ``jitbot reconcile`` waits for its Slack alert to be delivered before exiting.
RECONCILE_DELIVERY_WAIT = 10.0


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Run drift reconciliation once (:mod:`workflows.reconcile`): print one line per
    finding and a summary. Exit 0, 1 if anything failed, 2 if the config is invalid.
    The admins' alert goes through the outbox: delivered now when Slack answers within
    :data:`RECONCILE_DELIVERY_WAIT` seconds, else by the serving bot later."""
    import time

    from bot.runtime import build_runtime
    from workflows.assignments import AwsError
    from workflows.reconcile import Reconciler

    settings = Settings()
    try:
        config = load_config(settings.jitbot_config)
    except ConfigError as exc:
        print(f"{settings.jitbot_config}: invalid config:\n{exc}", file=sys.stderr)
        return 2
    try:
        rt = build_runtime(settings, config)
    except AwsError as exc:
        print(f"jitbot reconcile: AWS IAM Identity Center not reachable: {exc}", file=sys.stderr)
        return 1
    try:
        reconciler = Reconciler(rt.services, report_only=True if args.report_only else None)
        report = reconciler.run(rt.clock())
        for line in report.lines():
            print(line)
        print(report.summary())
        deadline = time.monotonic() + RECONCILE_DELIVERY_WAIT
        while not rt.outbox_idle() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        rt.close()
    return 1 if report.errors else 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from bot.checks import check_everything

    problems = check_everything(Settings())
    for problem in problems:
        print(f"✗ {problem}")
    if problems:
        print(f"{len(problems)} problem(s) found.")
        return 1
    print("✓ config, AWS and Slack look good.")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import current_revision, make_engine, upgrade

    settings = Settings()
    engine = make_engine(settings.database_url)
    before = current_revision(engine)
    upgrade(engine)
    print(
        f"database {engine.url.render_as_string(hide_password=True)}: "
        f"{before or 'empty'} -> {current_revision(engine)}"
    )
    return 0


def _utc(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def cmd_audit_export(args: argparse.Namespace) -> int:
    """Audit events between --since and --until (ISO 8601, UTC unless a zone is given)."""
    from storage.db import make_engine, upgrade
    from storage.store import SqlStore

    engine = make_engine(Settings().database_url)
    upgrade(engine)
    events = SqlStore(engine).audit_between(_utc(args.since), _utc(args.until))
    out = sys.stdout
    if args.format == "jsonl":
        for e in events:
            out.write(json.dumps(e, default=str, sort_keys=True) + "\n")
    else:
        writer = csv.writer(out)
        writer.writerow(["id", "at", "request_id", "actor", "action", "detail"])
        for e in events:
            writer.writerow(
                [
                    e["id"],
                    e["at"],
                    e["request_id"],
                    e["actor"],
                    e["action"],
                    json.dumps(e["detail"], default=str, sort_keys=True),
                ]
            )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    # sim is not part of the product: loaded only here, and it needs the demo extra
    try:
        from sim.demo import run_demo
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ("bot", "sim", "storage", "workflows"):
            raise
        print(
            f"jitbot demo needs the demo extra ({exc.name} is missing): pip install '.[demo]'",
            file=sys.stderr,
        )
        return 1
    return run_demo(session_seconds=args.session_seconds)


def _benchmarks_main() -> Callable[..., int] | None:
    """``main`` of ``benchmarks/__main__.py``: importable as is, or from the source
    checkout this ``bot`` package (or the current directory) is in; None when there is
    none (a wheel install: the benchmarks are not packaged)."""
    roots = [None, Path(__file__).resolve().parent.parent, Path.cwd()]
    for root in roots:
        if root is not None:
            if not (root / "benchmarks" / "__main__.py").is_file():
                continue
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))  # spawned benchmark processes inherit it
        try:
            module = importlib.import_module("benchmarks.__main__")
        except ImportError:
            continue
        main = getattr(module, "main", None)
        if callable(main):
            return main
    return None


def cmd_bench(args: argparse.Namespace) -> int:
    """``python -m benchmarks`` with the flags given after ``bench``; exit 2 with a
    hint when the benchmarks are not there (they are not in the wheel)."""
    main = _benchmarks_main()
    if main is None:
        print(
            "jitbot bench: the benchmarks are not installed with jitbot; run it from a "
            "source checkout of jitbot (they live in benchmarks/ at the repository root), "
            "e.g. `python -m benchmarks --quick` there.",
            file=sys.stderr,
        )
        return 2
    return int(main(list(args.bench_args), prog="jitbot bench") or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jitbot", description="Just-in-time AWS access through IAM Identity Center, in Slack."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the bot (Socket Mode, or HTTP with --http)")
    serve.add_argument("--http", action="store_true", help="serve Slack's HTTP request URL")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.set_defaults(func=cmd_serve)
    check = sub.add_parser("check-config", help="validate the config against AWS and Slack")
    check.set_defaults(func=cmd_check_config)
    reconcile = sub.add_parser(
        "reconcile",
        help="find access granted or removed outside jitbot, and leftover JIT- permission sets",
    )
    reconcile.add_argument(
        "--report-only",
        action="store_true",
        help="remove and delete nothing in AWS, only report (overrides reconcile.mode)",
    )
    reconcile.set_defaults(func=cmd_reconcile)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_sub.add_parser("upgrade", help="apply schema migrations (also done at start)")
    db_upgrade.set_defaults(func=cmd_db_upgrade)
    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser("export", help="write audit events to stdout")
    export.add_argument("--since", help="from this time (ISO 8601, e.g. 2026-11-01)")
    export.add_argument("--until", help="up to, not including, this time")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.set_defaults(func=cmd_audit_export)
    demo = sub.add_parser("demo", help="the whole lifecycle on moto and a fake Slack")
    demo.add_argument(
        "--session-seconds",
        type=int,
        default=10,
        help="length of the demo's short session (default 10)",
    )
    demo.set_defaults(func=cmd_demo)
    bench = sub.add_parser(
        "bench",
        add_help=False,  # --help and every flag go to the benchmarks' own parser
        help="run the benchmarks (source checkout only): [--quick] [--only NAME] "
        "[--output FILE]; see jitbot bench --help",
    )
    bench.set_defaults(func=cmd_bench, bench_args=[])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        args.bench_args = extra  # its flags are the benchmarks' (python -m benchmarks)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command not in ("demo", "bench"):
        _setup_logging(args.verbose)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
