"""``jitbot audit export``: the audit trail as JSON lines or CSV on stdout;
``jitbot audit verify``: check its hash chain (exit 1 at the first broken link)."""

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
    verify = audit_sub.add_parser(
        "verify", help="check the audit hash chain; exit 1 naming the first broken link"
    )
    verify.set_defaults(func=cmd_audit_verify)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Walk the chain (:func:`storage.auditchain.verify`): 0 and the chain's end when it
    holds, 1 and the first altered or removed event when it does not."""
    from storage.auditchain import verify
    from storage.db import make_engine, upgrade

    engine = make_engine(Settings().database_url)
    upgrade(engine)
    verdict = verify(engine)
    end = f"last event #{verdict.last_id}, hash {verdict.last_hash}"
    if verdict.problem is not None:
        print(f"audit chain broken: {verdict.problem} ({verdict.checked} events check out; {end})")
        return 1
    print(f"audit chain holds: {verdict.checked} events, {end}")
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
