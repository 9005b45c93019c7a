"""``jitbot``: serve, check-config, demo."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
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


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.runtime import build_runtime

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
    rt.timekeeper.start()
    stopping: list[Any] = []

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signum)
        for closer in stopping:
            closer()

    signal.signal(signal.SIGTERM, stop)
    try:
        if args.http:
            from bot.http import make_server

            server = make_server(rt, args.host, args.port)
            stopping.append(server.close)
            log.info("serving Slack at http://%s:%s/slack/events", args.host, server.effective_port)
            server.run()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handler = SocketModeHandler(rt.app, settings.slack_app_token, web_client=rt.client)
            stopping.append(handler.close)
            log.info("connecting to Slack in Socket Mode")
            handler.start()
    except KeyboardInterrupt:
        pass
    finally:
        rt.timekeeper.shutdown()
    return 0


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
    from bot.demo import run_demo

    return run_demo(session_seconds=args.session_seconds)


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "demo":
        _setup_logging(args.verbose)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
