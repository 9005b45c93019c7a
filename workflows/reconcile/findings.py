"""What a drift reconciliation finds (stray assignments, vanished grants, orphan sets)
and its report of one run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.assignments import Assignment, JitPermissionSet


@dataclass(frozen=True)
class StrayAssignment:
    """An assignment no active grant stands behind. ``permission_set_name`` and
    ``account_label`` (``Name (id)``) are for people."""

    assignment: Assignment
    permission_set_name: str
    account_label: str
    principal_name: str = ""  # a user name or a group display name, when known

    @property
    def principal(self) -> str:
        """``USER alice@example.com (9a…)``, or ``GROUP 4f…`` when the name is unknown."""
        a = self.assignment
        if self.principal_name and self.principal_name != a.principal_id:
            return f"{a.principal_type} {self.principal_name} ({a.principal_id})"
        return f"{a.principal_type} {a.principal_id}"

    def __str__(self) -> str:
        return (
            f"{self.principal} has {self.permission_set_name} on "
            f"{self.account_label} with no active jitbot grant"
        )

    def audit_detail(self) -> dict[str, Any]:
        a = self.assignment
        return {
            "account_id": a.account_id,
            "permission_set_arn": a.permission_set_arn,
            "permission_set_name": self.permission_set_name,
            "principal_type": a.principal_type,
            "principal_id": a.principal_id,
            "principal_name": self.principal_name or None,
        }


@dataclass(frozen=True)
class VanishedGrant:
    """An active grant whose assignment was removed outside jitbot."""

    request_id: int
    requester_email: str
    permission_set_name: str
    account_label: str

    def __str__(self) -> str:
        return (
            f"request #{self.request_id} ({self.requester_email}, {self.permission_set_name} "
            f"on {self.account_label}): its assignment was removed outside jitbot"
        )


@dataclass(frozen=True)
class OrphanSet:
    """A ``JIT-`` set of jitbot with no live request. ``request_status`` is the label of
    its request's status, None when the request is unknown."""

    permission_set: JitPermissionSet
    request_status: str | None

    def __str__(self) -> str:
        ps = self.permission_set
        why = (
            f"request #{ps.request_id} is {self.request_status}"
            if self.request_status
            else f"request #{ps.request_id} is unknown"
        )
        return f"permission set {ps.name} ({why})"

    def audit_detail(self) -> dict[str, Any]:
        ps = self.permission_set
        return {
            "permission_set_arn": ps.arn,
            "permission_set_name": ps.name,
            "request_id": ps.request_id,
            "created_at": ps.created_at.isoformat() if ps.created_at else None,
        }


@dataclass
class ReconcileReport:
    """What one :meth:`Reconciler.run` found and did, at ``at`` (UTC), in ``mode``
    (``remove`` or ``report``). ``skipped`` are assignments left alone this round
    because another replica held their lease; ``errors`` are readable sentences."""

    at: datetime
    mode: str
    stray_removed: list[StrayAssignment] = field(default_factory=list)
    stray_reported: list[StrayAssignment] = field(default_factory=list)
    vanished: list[VanishedGrant] = field(default_factory=list)
    orphans_deleted: list[OrphanSet] = field(default_factory=list)
    orphans_reported: list[OrphanSet] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    first_run: bool = False  # the first run on this database: it only reports

    @property
    def found(self) -> bool:
        """Anything found (errors included)."""
        return bool(
            self.stray_removed
            or self.stray_reported
            or self.vanished
            or self.orphans_deleted
            or self.orphans_reported
            or self.errors
        )

    def lines(self) -> list[str]:
        """One line per finding, e.g. ``"removed assignment: USER 9a… has ReadOnlyAccess
        on Sandbox (111111111111) with no active jitbot grant"``."""
        first = (
            ["first run: jitbot only reports on its first run, whatever reconcile.mode says"]
            if self.first_run
            else []
        )
        return [
            *first,
            *(f"removed assignment: {s}" for s in self.stray_removed),
            *(f"found assignment (report only): {s}" for s in self.stray_reported),
            *(f"marked Revoked: {v}" for v in self.vanished),
            *(f"deleted orphan {o}" for o in self.orphans_deleted),
            *(f"found orphan (report only): {o}" for o in self.orphans_reported),
            *(f"skipped (another replica holds it): {s}" for s in self.skipped),
            *(f"error: {e}" for e in self.errors),
        ]

    def summary(self) -> str:
        """One sentence with every count."""
        return (
            f"Drift reconciliation ({self.mode} mode): "
            f"{len(self.stray_removed)} stray assignment(s) removed, "
            f"{len(self.stray_reported)} reported; "
            f"{len(self.vanished)} grant(s) whose assignment vanished marked Revoked; "
            f"{len(self.orphans_deleted)} orphan permission set(s) deleted, "
            f"{len(self.orphans_reported)} reported; "
            f"{len(self.errors)} error(s)."
        )
