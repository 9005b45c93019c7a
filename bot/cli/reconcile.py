"""``jitbot reconcile``: one drift reconciliation run from the command line."""

from __future__ import annotations

import argparse

from bot.cli.starting import start_runtime

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

    from bot.runtime import make_reconciler
    from workflows.reconcile.table import stray_table

    rt = start_runtime("reconcile")
    if isinstance(rt, int):
        return rt
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
