"""How the reconciler tells what it found: errors into the report (and the audit
trail), report-mode findings audited once while they persist, one alert to the admins
per run with what is new."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from workflows.assignments import AwsError
from workflows.domain import Outgoing
from workflows.reconcile.findings import ReconcileReport
from workflows.services import Services

log = logging.getLogger("jitbot.reconcile")

#: Most finding lines in one admin alert; the rest are counted.
ALERT_LINES = 20

ACTOR = "jitbot"


class Telling:
    """Remembers, from one run to the next, which report-mode findings and errors were
    already alerted and audited (a finding that goes and comes back is told again)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._alerted: set[str] = set()
        self._audited: set[str] = set()
        self._audited_now: set[str] = set()

    def start(self) -> None:
        """A run begins: what it audits is collected afresh."""
        self._audited_now = set()

    def finish(self, report: ReconcileReport, now: datetime) -> None:
        """A run ended: alert its findings (:meth:`alert`) and remember what it audited."""
        self.alert(report, now)
        self._audited = self._audited_now

    def error(
        self,
        report: ReconcileReport,
        now: datetime,
        what: str,
        exc: AwsError,
        action: str | None = None,
        detail: dict[str, Any] | None = None,
        request_id: int | None = None,
    ) -> None:
        """Record ``what`` failed with ``exc`` in the report; audit it as ``action``."""
        text = f"{what} failed: {exc}"
        report.errors.append(text)
        log.error("drift: %s", text)
        if action is not None:
            self._services.store.audit(
                request_id, ACTOR, action, now, {**(detail or {}), "reason": str(exc)}
            )

    def audit_once(
        self, now: datetime, request_id: int | None, action: str, detail: dict[str, Any]
    ) -> None:
        """Audit a report-mode finding unless the previous run already did (it is
        audited again once it went away and came back)."""
        key = f"{action}:{sorted(detail.items())}"
        self._audited_now.add(key)
        if key not in self._audited:
            self._services.store.audit(request_id, ACTOR, action, now, detail)

    def alert(self, report: ReconcileReport, now: datetime) -> None:
        """One alert to the admins with the run's findings, unless the only ones are
        report-mode findings and errors the previous run already alerted."""
        lines = [line for line in report.lines() if not line.startswith("skipped")]
        repeatable = {line for line in lines if line.startswith(("found ", "error: "))}
        fresh = [line for line in lines if line not in repeatable or line not in self._alerted]
        self._alerted = repeatable
        if not fresh:
            return
        shown = lines[:ALERT_LINES]
        more = len(lines) - len(shown)
        text = "\n".join(
            [
                f":mag: {report.summary()}",
                *(f"• {line}" for line in shown),
                *(
                    [
                        f"…and {more} more (see the audit log, or run `jitbot reconcile --report-only`)"
                    ]
                    if more
                    else []
                ),
            ]
        )
        self._services.tell(None, [Outgoing.alert(text)], now)
