"""The stray assignments of a reconcile run as a plain-text table, for
``jitbot reconcile`` (a terminal, not Slack: no mrkdwn)."""

from __future__ import annotations

from workflows.reconcile.findings import ReconcileReport, StrayAssignment
from workflows.text_table import aligned
from workflows.text_table import cell as _cell

HEADER = ("ACCOUNT", "PERMISSION SET", "TYPE", "PRINCIPAL", "PRINCIPAL ID", "DONE")


def _row(stray: StrayAssignment, done: str) -> tuple[str, ...]:
    a = stray.assignment
    name = stray.principal_name if stray.principal_name != a.principal_id else ""
    return (
        _cell(stray.account_label),
        _cell(stray.permission_set_name),
        a.principal_type,
        _cell(name) or "?",
        a.principal_id,  # never cut: it is what an admin looks up in AWS
        done,
    )


def stray_table(report: ReconcileReport) -> list[str]:
    """The lines of an aligned table of ``report``'s stray assignments (account,
    permission set, principal type, principal name (``?`` when unknown) and id, and
    ``removed`` or ``reported``), header first; no lines when there are none."""
    rows = [_row(s, "removed") for s in report.stray_removed]
    rows += [_row(s, "reported") for s in report.stray_reported]
    return aligned(HEADER, rows)
