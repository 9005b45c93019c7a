"""Default values and allowed ranges of jitbot.yml's durations, and the roles a person
can have (:data:`ROLES`)."""

from __future__ import annotations

from datetime import timedelta

#: Durations offered when the file has no ``durations`` key, in the order shown.
DEFAULT_DURATIONS: tuple[str, ...] = (
    "1h", "2h", "4h", "8h", "12h", "1d", "2d", "3d", "1w", "2w", "1mo",
)  # fmt: skip
#: How long a request may wait for approval before it expires, when not configured.
DEFAULT_APPROVAL_TIMEOUT = timedelta(hours=24)
#: How often the scheduler looks for due work, when not configured.
DEFAULT_SWEEP_INTERVAL = timedelta(seconds=5)
SWEEP_INTERVAL_MIN = timedelta(seconds=1)
SWEEP_INTERVAL_MAX = timedelta(minutes=5)
#: How often drift reconciliation runs, when not configured, and the range allowed
#: (each run lists the assignments of every managed account and permission set).
DEFAULT_RECONCILE_INTERVAL = timedelta(minutes=10)
RECONCILE_INTERVAL_MIN = timedelta(minutes=1)
RECONCILE_INTERVAL_MAX = timedelta(days=1)
#: How old a ``JIT-`` permission set must be before the reconciler may call it an
#: orphan, and the range allowed: a grant in progress creates its set before assigning
#: it, and an assignment may take minutes (the AWS adapter waits up to 300 s).
DEFAULT_ORPHAN_GRACE = timedelta(minutes=15)
ORPHAN_GRACE_MIN = timedelta(minutes=5)
ORPHAN_GRACE_MAX = timedelta(days=1)

#: How often the emails the config names are looked up again in Slack, and the range
#: allowed (``identity.resolve_interval``; each look-up is one ``users.lookupByEmail``,
#: Tier 3: 50+ a minute).
DEFAULT_RESOLVE_INTERVAL = timedelta(hours=1)
RESOLVE_INTERVAL_MIN = timedelta(seconds=1)
RESOLVE_INTERVAL_MAX = timedelta(days=1)

#: Every role a person can have (:class:`workflows.policy.Roles`).
ROLES = frozenset({"admin", "sso_admin", "owner"})

#: Identity Center's collective API rate, calls per second (IAM Identity Center quotas,
#: https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html); the AWS
#: adapter paces its calls at this unless ``identity_center.max_calls_per_second`` says.
IDENTITY_CENTER_CALLS_PER_SECOND = 20.0
