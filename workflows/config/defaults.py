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
#: How long before a session's end its requester is warned (``expiry_warning``), when
#: not configured; sessions shorter than twice this get no warning.
DEFAULT_EXPIRY_WARNING = timedelta(minutes=15)
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

#: Identity Center's quotas (IAM Identity Center quotas page,
#: https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html, "Throttle
#: limits"; the same table is on https://docs.aws.amazon.com/IAM/latest/UserGuide/aam-quotas.html):
#: a collective 20 API calls a second, and 15 outstanding asynchronous calls of the
#: write APIs (``CreateAccountAssignment``, ``DeleteAccountAssignment``), per instance.
IDENTITY_CENTER_QUOTA_CALLS_PER_SECOND = 20.0
IDENTITY_CENTER_QUOTA_OUTSTANDING_OPERATIONS = 15
#: What the AWS adapter uses of them unless ``identity_center.max_calls_per_second`` /
#: ``max_outstanding_operations`` say: 15 of the 20 calls a second (the console,
#: Terraform and Control Tower share the quota), and the 15 outstanding operations
#: (an operation refused for the quota is retried, see ``conflict_retry_seconds``).
IDENTITY_CENTER_CALLS_PER_SECOND = 15.0
IDENTITY_CENTER_OUTSTANDING_OPERATIONS = 15
#: How long a write AWS answers ``ConflictException`` (another change to the account's
#: permission sets under way) or ``ServiceQuotaExceededException`` is retried, and the
#: range allowed (``identity_center.conflict_retry_seconds``). AWS's own TEAM solution
#: retries for about 90 s.
DEFAULT_CONFLICT_RETRY_SECONDS = 120.0
CONFLICT_RETRY_SECONDS_MIN = 0.0
CONFLICT_RETRY_SECONDS_MAX = 3600.0
#: How long a grant whose ``CreateAccountAssignment`` AWS had not finished within the
#: adapter's poll timeout is followed by the sweep before it is undone and Failed
#: (``identity_center.pending_grant_timeout``), and the range allowed.
DEFAULT_PENDING_GRANT_TIMEOUT = timedelta(hours=1)
PENDING_GRANT_TIMEOUT_MIN = timedelta(minutes=5)
PENDING_GRANT_TIMEOUT_MAX = timedelta(days=1)


#: Share of the client-side Identity Center rate a reconcile run may use
#: (``reconcile.rate_share``; :mod:`workflows.aws.paced`).
DEFAULT_RECONCILE_SHARE = 0.25
