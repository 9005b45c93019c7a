"""``jitbot``: serve, reload, check-config, reconcile, explain, db, audit, demo, bench.

The parser and :func:`main` live here; each command group is a module of this package
that registers its subparser (``add_parser``) and holds its ``cmd_*`` function."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.cli import audit, bench, check_config, db, demo, explain, reconcile, reload, serve
from bot.cli.audit import cmd_audit_export
from bot.cli.bench import benchmarks_main as _benchmarks_main  # noqa: F401 - cmd_bench calls it here
from bot.cli.bench import cmd_bench
from bot.cli.check_config import cmd_check_config
from bot.cli.db import cmd_db_upgrade
from bot.cli.demo import cmd_demo
from bot.cli.logs import JsonFormatter, setup_logging
from bot.cli.reconcile import RECONCILE_DELIVERY_WAIT, cmd_reconcile
from bot.cli.serve import cmd_serve

__all__ = [
    "RECONCILE_DELIVERY_WAIT",
    "JsonFormatter",
    "build_parser",
    "cmd_audit_export",
    "cmd_bench",
    "cmd_check_config",
    "cmd_db_upgrade",
    "cmd_demo",
    "cmd_reconcile",
    "cmd_serve",
    "main",
]

_COMMANDS = (serve, reload, check_config, reconcile, explain, db, audit, demo, bench)


def build_parser() -> argparse.ArgumentParser:
    """The ``jitbot`` parser: ``-v`` and one subcommand, each with ``func`` set."""
    parser = argparse.ArgumentParser(
        prog="jitbot", description="Just-in-time AWS access through IAM Identity Center, in Slack."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jitbot`` with ``argv`` (default ``sys.argv[1:]``); the command's exit code.
    Flags after ``bench`` go to the benchmarks; unknown flags elsewhere exit 2."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        args.bench_args = extra  # its flags are the benchmarks' (python -m benchmarks)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command not in ("demo", "bench"):
        setup_logging(args.verbose)
    return int(args.func(args) or 0)
