"""``jitbot reconcile``: one drift reconciliation run from the command line."""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings
from workflows.config import ConfigError, load_config

#: Seconds ``jitbot reconcile`` waits for its Slack alert to be delivered before exiting.
RECONCILE_DELIVERY_WAIT = 10.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``reconcile`` (``--report-only``)."""
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


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Run drift reconciliation once (:mod:`workflows.reconcile`): print the stray
    assignments as a table (:func:`~workflows.reconcile.table.stray_table`), then one
    line per finding and a summary. Exit 0, 1 if anything failed, 2 if the config is invalid.
    The admins' alert goes through the outbox: delivered now when Slack answers within
    :data:`RECONCILE_DELIVERY_WAIT` seconds, else by the serving bot later."""
    import time

    from bot.runtime import build_runtime, make_reconciler
    from workflows.assignments import AwsError
    from workflows.reconcile.table import stray_table

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
        reconciler = make_reconciler(
            rt.config, rt.services, rt.aws, report_only=True if args.report_only else None
        )
        report = reconciler.run(rt.clock())
        table = stray_table(report)
        for line in table:
            print(line)
        if table:
            print()
        for line in report.lines():
            print(line)
        print(report.summary())
        deadline = time.monotonic() + RECONCILE_DELIVERY_WAIT
        while not rt.outbox_idle() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        rt.close()
    return 1 if report.errors else 0
