"""IAM Identity Center adapter: :class:`IdentityCenter`, the facade the services use,
made of the parts in this package (one module per responsibility).

It wraps four services:

* ``sso-admin`` - the Identity Center instance, its permission sets and account
  assignments (the grants this bot creates and removes);
* ``identitystore`` - mapping a Slack email to an Identity Center user id;
* ``organizations`` - account names, for display, and which account is the
  organization's management account (custom sets are refused there);
* ``sts`` - which account jitbot runs in (custom sets are refused there too).

Account assignments are asynchronous in AWS. ``CreateAccountAssignment`` and
``DeleteAccountAssignment`` only *start* the change and answer with a request id and
status ``IN_PROGRESS``; the outcome is read with ``DescribeAccountAssignmentCreationStatus``
/ ``DescribeAccountAssignmentDeletionStatus`` (``IN_PROGRESS`` | ``SUCCEEDED`` |
``FAILED`` + ``FailureReason``). See the IAM Identity Center API reference:

* https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html
* https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribeAccountAssignmentCreationStatus.html
* https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DeleteAccountAssignment.html
* https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribeAccountAssignmentDeletionStatus.html

The API reference recommends retrying ``ConflictException`` (a write racing an earlier
one) and ``ThrottlingException`` with backoff. The IAM Identity Center quotas page
(https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html) says only one
IAM role (permission set) per account can be updated at a time, so two changes to one
account collide. This adapter queues its own assignment changes to one account behind
each other (:mod:`workflows.aws.turns`: one at a time per account, from the write to
its final status; other accounts run in parallel), and retries a conflict with
someone else's change (the console, Terraform, Control Tower) with exponential backoff
and jitter for ``conflict_retry_seconds`` (AWS's own TEAM solution retries for about
90 s), on top of botocore's own retries.

Custom permission sets (one per request that asks for policies no standard set has) are
created, filled and deleted here too, see :meth:`IdentityCenter.create_custom_permission_set`.
jitbot marks them with the tags ``jitbot:managed=true`` and ``jitbot:request-id=<id>``,
gives them the configured permissions boundary before they are ever assigned, and never
deletes a set that lacks the tags. Permission set writes are retried like the
assignment writes: Identity Center allows one operation on a permission set at a time
and answers ``ConflictException`` meanwhile.

The adapter talks to AWS as AWS behaves; the tests and the demo run it on moto made as
strict as AWS by ``sim/moto_fixes.py``. One fallback remains that a stand-in reaches:
batched status polling polls each operation alone when
``ListAccountAssignment{Creation,Deletion}Status`` is refused or not implemented.

All durations are in seconds. Every AWS failure that could not be overcome is raised as
:class:`AwsError` (or a subclass) with a human-readable message; botocore exceptions do
not leak out of this package.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from workflows.assignments import (
    Assignment,
    AssignmentFailed,
    AssignmentTimeout,
    AwsError,
    JitPermissionSet,
)
from workflows.aws import ratelimit
from workflows.aws.assignments import Assignments
from workflows.aws.base import _SERVICES
from workflows.aws.catalog import Catalog
from workflows.aws.custom_sets import CustomSetCreation
from workflows.aws.errors import client_config
from workflows.aws.health import Health
from workflows.aws.identity import UserDirectory, _Cached
from workflows.aws.listings import Listings
from workflows.aws.live_sessions import LiveSessions
from workflows.aws.memberships import GroupsAndOus
from workflows.aws.operations import OperationBoard
from workflows.aws.organization import OrganizationFacts
from workflows.aws.paced import SharePacer
from workflows.aws.permission_sets import CustomSetDeletion
from workflows.aws.polling import Polling
from workflows.aws.quota import QuotaShare
from workflows.aws.turns import AccountTurns
from workflows.aws.values import (
    JIT_PREFIX,
    MANAGED_TAG,
    REQUEST_TAG,
)
from workflows.config.defaults import DEFAULT_CONFLICT_RETRY_SECONDS
from workflows.custom_sets.sensitive import SensitiveAccounts

__all__ = [
    "Assignment",
    "AssignmentFailed",
    "AssignmentTimeout",
    "AwsError",
    "IdentityCenter",
    "JIT_PREFIX",
    "JitPermissionSet",
    "MANAGED_TAG",
    "REQUEST_TAG",
    "client_config",
]


class IdentityCenter(
    UserDirectory,
    GroupsAndOus,
    LiveSessions,
    Catalog,
    Assignments,
    Polling,
    QuotaShare,
    CustomSetCreation,
    CustomSetDeletion,
    Listings,
    OrganizationFacts,
    Health,
):
    """IAM Identity Center through boto3.

    :param session: boto3 session the clients are made from (default: a new
        ``boto3.session.Session()``, i.e. the standard credential chain). The endpoint
        comes from the standard AWS environment too: ``AWS_ENDPOINT_URL`` (or the
        per-service variants) point the clients at another endpoint (a stand-in, say).
    :param region: region of the Identity Center instance; default the session's region,
        else ``us-east-1``.
    :param instance_arn: ARN of the Identity Center instance; discovered with
        ``ListInstances`` (first instance) when not given.
    :param identity_store_id: id of its identity store (``d-…``); discovered likewise.
    :param poll_interval: fixed seconds before each status poll of an assignment
        request; default None: the schedule of :meth:`_wait` (right away, then backing
        off to :data:`~workflows.aws.polling.POLL_INTERVAL_MAX`, early polls only from spare quota).
    :param poll_timeout: seconds after which a request still ``IN_PROGRESS`` raises
        :class:`AssignmentTimeout`.
    :param user_cache_ttl: seconds an email -> user id answer is cached (unknown emails:
        :data:`~workflows.aws.identity.MISS_CACHE_TTL`, or less if ``user_cache_ttl`` is smaller).
    :param sleep: ``sleep(seconds)``, replaced in tests.
    :param clock: monotonic clock in seconds, replaced in tests.
    :param clients: prebuilt clients by service name (``"sso-admin"``,
        ``"identitystore"``, ``"organizations"``, ``"sts"``), for tests (botocore ``Stubber``); the
        missing ones are made from the session.
    :param write_attempts: attempts of ``CreateAccountAssignment`` /
        ``DeleteAccountAssignment`` and of the permission set writes
        (``CreatePermissionSet``, ``AttachManagedPolicyToPermissionSet``,
        ``PutInlinePolicyToPermissionSet``, ``DeletePermissionSet``) when AWS answers
        ``ThrottlingException`` (each attempt is itself retried by botocore).
    :param conflict_retry_seconds: seconds (of ``clock``) those writes are retried
        while AWS answers an in-progress ``ConflictException`` or, for the assignment
        writes, ``ServiceQuotaExceededException`` (:meth:`_write`); default 120.
    :param backoff_base: first backoff delay in seconds; it doubles per attempt (capped
        at ``backoff_cap``) and is jittered between half and the full delay.
    :param backoff_cap: longest single backoff delay in seconds.
    :param max_calls_per_second: client-side limit on the ``sso-admin`` and
        ``identitystore`` calls together (every attempt, pages and botocore's retries
        included): 15 by default, of Identity Center's collective quota of 20/s (IAM
        Identity Center quotas page), leaving room for the console and other tools;
        None or 0: no limit. See :mod:`workflows.aws.ratelimit`.
    :param limiter: a prebuilt :class:`~workflows.ratelimit.TokenBucket` to use instead
        (shared between adapters, or running on a test clock).
    :param max_outstanding: most assignment changes (``CreateAccountAssignment`` /
        ``DeleteAccountAssignment`` until their status is final) this adapter has in
        flight at once, Identity Center's quota of 15 outstanding asynchronous write
        calls by default (IAM Identity Center quotas page); None: no cap. Further
        :meth:`assign` / :meth:`unassign` calls wait for a slot (after their account's
        turn, :mod:`workflows.aws.turns`); a write AWS refuses gives its slot back
        while it waits to retry.
    :param batch_polls: while two or more creations (or deletions) are outstanding,
        poll them together with ``ListAccountAssignment{Creation,Deletion}Status``
        (one call for all, from spare quota) instead of one ``Describe...`` call each,
        and give an outstanding slot back as soon as its operation left the running
        list (:mod:`workflows.operations`). False: every operation polls alone.

    Thread-safe: the boto3 clients are, and the caches are guarded by a lock.
    """

    def __init__(
        self,
        *,
        session: boto3.session.Session | None = None,
        region: str | None = None,
        instance_arn: str | None = None,
        identity_store_id: str | None = None,
        poll_interval: float | None = None,
        poll_timeout: float = 300.0,
        user_cache_ttl: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        clients: Mapping[str, Any] | None = None,
        write_attempts: int = 5,
        conflict_retry_seconds: float = DEFAULT_CONFLICT_RETRY_SECONDS,
        backoff_base: float = 1.0,
        backoff_cap: float = 20.0,
        max_calls_per_second: float | None = ratelimit.IDENTITY_CENTER_CALLS_PER_SECOND,
        limiter: ratelimit.TokenBucket | None = None,
        max_outstanding: int | None = ratelimit.IDENTITY_CENTER_OUTSTANDING_OPERATIONS,
        batch_polls: bool = True,
    ) -> None:
        if (poll_interval or 0) < 0 or poll_timeout < 0 or user_cache_ttl < 0:
            raise ValueError("poll_interval, poll_timeout and user_cache_ttl must be >= 0")
        if write_attempts < 1 or not conflict_retry_seconds >= 0:
            raise ValueError("write_attempts must be >= 1 and conflict_retry_seconds >= 0")
        unknown = set(clients or ()) - set(_SERVICES)
        if unknown:
            raise ValueError(f"unknown client names {sorted(unknown)}; expected {_SERVICES}")
        if max_outstanding is not None and max_outstanding < 1:
            raise ValueError("max_outstanding must be >= 1 (or None)")
        self._session = session
        self._region = region
        self._instance_arn = instance_arn
        self._identity_store_id = identity_store_id
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.user_cache_ttl = user_cache_ttl
        self._sleep = sleep
        self._clock = clock
        self._write_attempts = write_attempts
        self.conflict_retry_seconds = conflict_retry_seconds
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._init_quota(limiter, max_calls_per_second, max_outstanding, batch_polls)
        self._clients: dict[str, Any] = dict(clients or {})
        for service, prebuilt in self._clients.items():
            self._limit(service, prebuilt)
        self._init_caches()

    def _init_quota(
        self,
        limiter: ratelimit.TokenBucket | None,
        max_calls_per_second: float | None,
        max_outstanding: int | None,
        batch_polls: bool,
    ) -> None:
        """The rate limiter, the outstanding slots and the in-flight counts."""
        #: the client-side limit shared by the sso-admin and identitystore clients (on
        #: the real clock: ``sleep`` and ``clock`` above are for polls and backoff)
        self.limiter = limiter or ratelimit.identity_center_limiter(max_calls_per_second)
        #: the reconciler's share of :attr:`limiter` (:mod:`workflows.aws.paced`)
        self.reconcile_pacer = SharePacer(lambda: self.limiter)
        self._outstanding: ratelimit.Slots | None = (
            ratelimit.Slots(max_outstanding) if max_outstanding else None
        )
        self._max_outstanding = max_outstanding or ratelimit.IDENTITY_CENTER_OUTSTANDING_OPERATIONS
        # the whole quota, as configured: share_quota gives this replica its part of it
        self._quota = (
            None if self.limiter is None else (self.limiter.rate, self.limiter.burst),
            self._max_outstanding,
        )
        self.replicas = 1
        self._in_flight = 0  # assignment changes under way (holding a slot or not)
        self._kind_in_flight = {True: 0, False: 0}  # the same, creations / deletions
        self._in_flight_lock = threading.Lock()
        #: one assignment change at a time per account (see :mod:`workflows.aws.turns`)
        self._turns = AccountTurns()
        #: creations (True) and deletions (False) waited on together while several
        #: are outstanding (see :mod:`workflows.operations`); None: each polls alone
        self._boards: dict[bool, OperationBoard] | None = (
            {create: self._board(create) for create in (True, False)} if batch_polls else None
        )

    def _init_caches(self) -> None:
        """The caches of users and the catalogue."""
        self._lock = threading.RLock()
        self._users: dict[str, _Cached] = {}
        #: email key -> the lock of its lookup under way (one lookup per email at a time)
        self._user_lookups: dict[str, threading.Lock] = {}
        self._permission_sets: dict[str, str] | None = None
        self._session_durations: dict[str, str] | None = None
        self._account_names: dict[str, str] | None = None
        self._sensitive: SensitiveAccounts | None = None
        # Permission set names never change, so ARN -> name is remembered for good.
        self._names_by_arn: dict[str, str] = {}
