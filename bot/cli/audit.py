"""``jitbot audit export``: the audit trail as JSON lines or CSV on stdout."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime

from bot.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``audit`` and its ``export`` subcommand (``--since``, ``--until``,
    ``--format``)."""
    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_sub.add_parser("export", help="write audit events to stdout")
    export.add_argument("--since", help="from this time (ISO 8601, e.g. 2026-11-01)")
    export.add_argument("--until", help="up to, not including, this time")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.set_defaults(func=cmd_audit_export)


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
