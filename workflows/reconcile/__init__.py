"""Drift reconciliation: make IAM Identity Center agree with the grants jitbot made.

The promise (design §1) is that nobody holds standing access to an account the bot
manages. Access can drift from the database outside the bot: someone assigns a managed
permission set by hand in the console, removes a grant's assignment there, or a crash
leaves a ``JIT-`` permission set behind. :class:`Reconciler` finds and fixes these, from
``jitbot reconcile`` and from a periodic job (every ``reconcile.interval``):

* **stray assignment**: an account assignment (user *or* group) of a managed permission
  set on a managed account with no ACTIVE request of that principal, account and set
  behind it is removed (``reconcile.mode: remove``) or only reported (``report``), and
  audited (``drift_assignment_removed`` / ``drift_assignment_found``). Managed pairs
  are every (account, permission set) of the catalog, each ACTIVE request's (custom
  ones included), and every account of the catalog for each orphan ``JIT-`` set (so
  its assignments go before it does). An APPROVED request of the same principal also
  stands behind an assignment: its grant is in progress (or half-done, and the sweep
  finishes it). AWS does not say when an assignment was made, so instead of a grace
  period the store is read again, under the assignment's lease
  (:meth:`Services.assignment_guard`), right before anything is removed.
* **vanished grant**: an ACTIVE request whose session has not ended, granted more than
  :data:`SETTLE` ago, whose assignment is no longer in AWS (checked again under the
  lease) is marked Revoked (``assignment_vanished``, end reason "access removed outside
  jitbot"), and its requester and approvers are told in their threads
  (:attr:`NoticeKind.ASSIGNMENT_VANISHED`). Two ACTIVE requests sharing one assignment
  (overlapping grants) are both marked when it goes. This is done in both modes: it
  records what AWS already did. A custom request's set is then an orphan (below).
* **orphan set**: a ``JIT-`` set of jitbot (known by its tags, see
  :meth:`workflows.aws.IdentityCenter.jit_permission_sets`) whose request is not
  APPROVED or ACTIVE, is unknown, or now uses another set, and which is older than
  ``reconcile.orphan_grace`` (a grant in progress creates its set before assigning it),
  is deleted (``orphan_permission_set_deleted``) or only reported
  (``orphan_permission_set_found``).

An AWS failure on one item is recorded in the report (and audited) and does not stop
the others; a failed listing skips only what depended on it (never is a grant judged
vanished from a listing that failed). The admins get one summary alert per run, through
the outbox, when something new was found (a finding reported by this reconciler before,
in ``report`` mode say, is not alerted again; it is still in every report).

All datetimes are aware UTC.
"""

from workflows.reconcile.findings import (
    OrphanSet,
    ReconcileReport,
    StrayAssignment,
    VanishedGrant,
)
from workflows.reconcile.fixes import VANISHED_REASON
from workflows.reconcile.reconciler import Reconciler
from workflows.reconcile.scan import BACKING, SETTLE
from workflows.reconcile.telling import ACTOR, ALERT_LINES

__all__ = [
    "ACTOR",
    "ALERT_LINES",
    "BACKING",
    "SETTLE",
    "VANISHED_REASON",
    "OrphanSet",
    "ReconcileReport",
    "Reconciler",
    "StrayAssignment",
    "VanishedGrant",
]
