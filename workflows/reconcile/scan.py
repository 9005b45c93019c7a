"""What the reconciler looks at and how it judges it: the managed (account, permission
set) pairs, whether a request stands behind an assignment, whether a grant may have
vanished, whether a ``JIT-`` set is an orphan. Pure functions of what was read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from workflows.assignments import Assignment, JitPermissionSet
from workflows.catalog import Catalog
from workflows.domain import AccessRequest
from workflows.reconcile.findings import OrphanSet
from workflows.states import LABELS, Status

#: A grant younger than this is not judged vanished (Identity Center's lists may lag
#: a change that just completed).
SETTLE = timedelta(minutes=1)
#: Statuses of a request that stand behind its assignment (and its ``JIT-`` set).
BACKING = (Status.ACTIVE, Status.APPROVED)


def managed_pairs(
    catalog: Catalog, active: Iterable[AccessRequest], orphans: Iterable[OrphanSet]
) -> dict[tuple[str, str], tuple[str, str]]:
    """``{(account id, permission set ARN): (set name, account label)}`` to scan: every
    pair of the catalog, each active request's, and every account for each orphan set."""
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for account in catalog.accounts:
        for name, arn in account.permission_sets.items():
            pairs[(account.id, arn)] = (name, account.label)
    for request in active:
        if request.permission_set_arn:
            pairs.setdefault(
                (request.account_id, request.permission_set_arn),
                (request.permission_set_name, request.account_label),
            )
    for orphan in orphans:
        ps = orphan.permission_set
        for account in catalog.accounts:
            pairs.setdefault((account.id, ps.arn), (ps.name, account.label))
    return pairs


def backed(assignment: Assignment, requests: Iterable[AccessRequest]) -> bool:
    """Whether a request stands behind the assignment (only users have requests)."""
    return assignment.principal_type == "USER" and any(
        r.principal_id == assignment.principal_id
        and r.account_id == assignment.account_id
        and r.permission_set_arn == assignment.permission_set_arn
        for r in requests
    )


def may_have_vanished(request: AccessRequest, now: datetime, settle: timedelta) -> bool:
    """A session not ended nor due, granted at least ``settle`` before ``now``."""
    session = request.session
    return (
        session is not None
        and session.ended_at is None
        and session.expires_at > now
        and session.granted_at <= now - settle
    )


def orphan_of(
    ps: JitPermissionSet, request: AccessRequest | None, now: datetime, grace: timedelta
) -> OrphanSet | None:
    """The set as an orphan given its ``request`` (None: unknown), or None while a
    request stands behind it or it is younger than ``grace`` (or its age is unknown)."""
    if ps.created_at is None or ps.created_at > now - grace:
        return None
    if request is None:
        return OrphanSet(ps, None)
    if request.status in BACKING and request.permission_set_arn in ("", ps.arn):
        return None
    status = LABELS[request.status]
    if request.status in BACKING:  # the request uses another set (a retried creation)
        status += f" with another permission set ({request.permission_set_name})"
    return OrphanSet(ps, status)
