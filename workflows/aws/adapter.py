"""IAM Identity Center adapter: the only module of the core that talks to AWS.

It wraps three services:

* ``sso-admin`` - the Identity Center instance, its permission sets and account
  assignments (the grants this bot creates and removes);
* ``identitystore`` - mapping a Slack email to an Identity Center user id;
* ``organizations`` - account names, for display only.

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
IAM role (permission set) per account can be updated at a time, so two grants touching
the same account and permission set collide; this module retries those writes with
exponential backoff and jitter on top of botocore's own retries.

Custom permission sets (one per request that asks for policies no standard set has) are
created, filled and deleted here too, see :meth:`IdentityCenter.create_custom_permission_set`.
jitbot marks them with the tags ``jitbot:managed=true`` and ``jitbot:request-id=<id>``
and never deletes a set that lacks them. Permission set writes are retried like the
assignment writes: Identity Center allows one operation on a permission set at a time
and answers ``ConflictException`` meanwhile.

What moto (5.2) does differently from AWS, and how this module copes:

* ``CreatePermissionSet`` accepts a duplicate name (AWS: ``ConflictException``
  "PermissionSet with name X already exists."), so names are checked with
  ``ListPermissionSets`` + ``DescribePermissionSet`` before creating;
* ``ListTagsForResource`` is not implemented (in-process ``mock_aws`` raises
  ``NotImplementedError``; moto's server answers HTTP 500). Tags are still sent and
  stored. Without readable tags only the sets *this process* created are known: they may
  be deleted (for the request they were created for) and are what
  :meth:`IdentityCenter.custom_permission_sets` returns; any other set is refused.
  The drift reconciler falls back to the description jitbot writes on every set it
  creates ("Created by jitbot for request #<id> of <email>"), see
  :meth:`IdentityCenter.jit_permission_sets` and ``trust_description`` of
  :meth:`IdentityCenter.delete_custom_permission_set`. AWS always implements the call,
  so there the tags alone decide;
* ``CreateAccountAssignment`` does not provision the permission set, so
  ``ListAccountsForProvisionedPermissionSet`` does not name the accounts it is assigned
  in. Before deleting a set, the accounts this process assigned it in (and those the
  caller names) are checked too;
* ``DeletePermissionSet`` deletes a set that still has assignments (AWS refuses).

All durations are in seconds. Every AWS failure that could not be overcome is raised as
:class:`AwsError` (or a subclass) with a human-readable message; botocore exceptions do
not leak out of this module.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import (
    Assignment,
    AssignmentFailed,
    AssignmentTimeout,
    AwsError,
    JitPermissionSet,
)
from workflows.aws import ratelimit
from workflows.aws.operations import ListUnavailable, OperationBoard

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

log = logging.getLogger("jitbot.aws")

DEFAULT_REGION = "us-east-1"
#: Seconds an unknown email stays cached as "no such user" (a user created in Identity
#: Center shortly after is found without restarting the bot).
MISS_CACHE_TTL = 30.0

#: Tag key (value ``"true"``) on every permission set jitbot creates.
MANAGED_TAG = "jitbot:managed"
#: Tag key whose value is the id of the request a jitbot permission set was created for.
REQUEST_TAG = "jitbot:request-id"
#: Longest permission set name AWS accepts (CreatePermissionSet ``Name``).
MAX_PERMISSION_SET_NAME = 32
#: Longest permission set description AWS accepts (CreatePermissionSet ``Description``).
MAX_PERMISSION_SET_DESCRIPTION = 700
#: Session duration of a permission set that has none (AWS's default, one hour).
DEFAULT_SESSION_DURATION = "PT1H"
#: Highest name suffix tried when a custom permission set name is taken (``-2`` … ``-100``).
MAX_NAME_SUFFIX = 100
#: How an assignment change is polled (see :meth:`IdentityCenter._wait`): seconds to
#: wait before each of the first polls, and whether it is an early one (made only from
#: spare quota); after them, a poll every :data:`POLL_INTERVAL_MAX` seconds.
POLL_SCHEDULE: tuple[tuple[float, bool], ...] = (
    (0.0, True),
    (0.25, True),
    (0.25, True),
    (0.5, False),
)
POLL_INTERVAL_MAX = 1.0

# The request syntax of CreatePermissionSet: Name, SessionDuration (ISO 8601) and the
# characters allowed in Description.
_NAME_RE = re.compile(r"[\w+=,.@-]+", re.ASCII)
_DURATION_RE = re.compile(
    r"(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_DESCRIPTION_FORBIDDEN = re.compile(r"[^\t\n\r\x20-\x7e\xa1-\xff]")
#: Name prefix of every custom permission set jitbot creates.
JIT_PREFIX = "JIT-"
# The description jitbot writes on a custom set (workflows.services), whose request id
# stands in for the tags where ListTagsForResource is not implemented (moto).
_JITBOT_DESCRIPTION = re.compile(r"Created by jitbot for request #(\d+)(?= of |$)")

_SERVICES = ("sso-admin", "identitystore", "organizations")
_RETRYABLE_WRITE_ERRORS = frozenset({"ThrottlingException", "ConflictException"})
_ORGANIZATIONS_UNAVAILABLE = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "AWSOrganizationsNotInUseException",
        "AccessDeniedForDependencyException",
    }
)


def client_config(max_attempts: int = 8) -> botocore.config.Config:
    """The botocore configuration of every client this module makes: standard retry
    mode (retries throttling and transient errors with backoff), 5 s connect timeout,
    20 s read timeout."""
    return botocore.config.Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=20,
    )


# --------------------------------------------------------------------------- errors


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "") or "")
    return ""


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", "") or "")
    return str(exc)


def _describe(exc: BaseException) -> str:
    """``"AccessDeniedException: User ... is not authorized ..."`` or botocore's text."""
    if isinstance(exc, ClientError):
        code, message = _error_code(exc), _error_message(exc)
        return f"{code}: {message}" if message else code or str(exc)
    return str(exc) or type(exc).__name__


def _wrap(operation: str, exc: BaseException) -> AwsError:
    return AwsError(f"{operation}: {_describe(exc)}", code=_error_code(exc) or None)


def _gone(exc: BaseException) -> bool:
    return _error_code(exc) == "ResourceNotFoundException"


def _already_exists(exc: BaseException) -> bool:
    """A ``ConflictException`` that says the thing exists (not "operation in progress")."""
    return (
        _error_code(exc) == "ConflictException" and "already exist" in _error_message(exc).lower()
    )


#: Error codes that mean this caller cannot use ``ListAccountAssignment*Status``.
_LIST_UNAVAILABLE = frozenset(
    {"AccessDeniedException", "UnknownOperationException", "InvalidAction", "ValidationException"}
)


def _not_implemented(exc: BaseException) -> bool:
    """The endpoint does not implement the operation: in-process moto raises
    ``NotImplementedError``; moto's server answers a bare HTTP 500 page, which botocore
    reports with the status as error code (AWS always sends a named error)."""
    return isinstance(exc, NotImplementedError) or (
        isinstance(exc, ClientError) and _error_code(exc).isdigit()
    )


# --------------------------------------------------------------------------- permission sets


def _duration_text(value: Any) -> str:
    """A permission set's ``SessionDuration`` as ISO 8601 text. AWS always answers a
    string; moto answers the number of seconds 3600 when the set was created without
    one; absent means AWS's default of one hour."""
    if value is None or value == "":
        return DEFAULT_SESSION_DURATION
    if isinstance(value, str):
        return value
    seconds = int(value)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or not text:
        text += f"{seconds}S"
    return "PT" + text


def _clean_description(description: str) -> str | None:
    """``description`` made acceptable to CreatePermissionSet: characters outside its
    pattern (tab, newlines, printable ASCII, U+00A1-U+00FF) become ``?``, and it is cut to
    :data:`MAX_PERMISSION_SET_DESCRIPTION` characters (ending ``...``). None when empty
    (AWS wants at least one character, so the parameter is left out)."""
    text = _DESCRIPTION_FORBIDDEN.sub("?", description.strip())
    if len(text) > MAX_PERMISSION_SET_DESCRIPTION:
        text = text[: MAX_PERMISSION_SET_DESCRIPTION - 3].rstrip() + "..."
    return text or None


def _described_request_id(described: Mapping[str, Any]) -> int | None:
    """The request id in a ``JIT-`` set's jitbot description, else None."""
    if not str(described.get("Name", "")).startswith(JIT_PREFIX):
        return None
    match = _JITBOT_DESCRIPTION.match(str(described.get("Description") or ""))
    return int(match.group(1)) if match else None


def _candidate_names(name: str) -> Iterator[str]:
    """``name``, then ``name-2`` … ``name-100``, each trimmed at the end of ``name`` so
    the whole stays within :data:`MAX_PERMISSION_SET_NAME` characters."""
    yield name
    for number in range(2, MAX_NAME_SUFFIX + 1):
        suffix = f"-{number}"
        yield name[: MAX_PERMISSION_SET_NAME - len(suffix)] + suffix


# --------------------------------------------------------------------------- values


@dataclass
class _Cached:
    value: str | None
    expires_at: float


# --------------------------------------------------------------------------- adapter


class IdentityCenter:
    """IAM Identity Center through boto3.

    :param session: boto3 session the clients are made from (default: a new
        ``boto3.session.Session()``, i.e. the standard credential chain). The endpoint
        comes from the standard AWS environment too: ``AWS_ENDPOINT_URL`` (or the
        per-service variants) point the clients at e.g. moto's server.
    :param region: region of the Identity Center instance; default the session's region,
        else ``us-east-1``.
    :param instance_arn: ARN of the Identity Center instance; discovered with
        ``ListInstances`` (first instance) when not given.
    :param identity_store_id: id of its identity store (``d-…``); discovered likewise.
    :param poll_interval: fixed seconds before each status poll of an assignment
        request; default None: the schedule of :meth:`_wait` (right away, then backing
        off to :data:`POLL_INTERVAL_MAX`, early polls only from spare quota).
    :param poll_timeout: seconds after which a request still ``IN_PROGRESS`` raises
        :class:`AssignmentTimeout`.
    :param user_cache_ttl: seconds an email -> user id answer is cached (unknown emails:
        :data:`MISS_CACHE_TTL`, or less if ``user_cache_ttl`` is smaller).
    :param sleep: ``sleep(seconds)``, replaced in tests.
    :param clock: monotonic clock in seconds, replaced in tests.
    :param clients: prebuilt clients by service name (``"sso-admin"``,
        ``"identitystore"``, ``"organizations"``), for tests (botocore ``Stubber``); the
        missing ones are made from the session.
    :param write_attempts: attempts of ``CreateAccountAssignment`` /
        ``DeleteAccountAssignment`` and of the permission set writes
        (``CreatePermissionSet``, ``AttachManagedPolicyToPermissionSet``,
        ``PutInlinePolicyToPermissionSet``, ``DeletePermissionSet``) when AWS answers
        ``ThrottlingException`` or an in-progress ``ConflictException`` (each attempt is
        itself retried by botocore).
    :param backoff_base: first backoff delay in seconds; it doubles per attempt (capped
        at ``backoff_cap``) and is jittered between half and the full delay.
    :param backoff_cap: longest single backoff delay in seconds.
    :param max_calls_per_second: client-side limit on the ``sso-admin`` and
        ``identitystore`` calls together (every attempt, pages and botocore's retries
        included), Identity Center's collective quota of 20/s by default; None or 0: no
        limit. See :mod:`workflows.ratelimit`.
    :param limiter: a prebuilt :class:`~workflows.ratelimit.TokenBucket` to use instead
        (shared between adapters, or running on a test clock).
    :param max_outstanding: most assignment changes (``CreateAccountAssignment`` /
        ``DeleteAccountAssignment`` until their status is final) this adapter has in
        flight at once, Identity Center's quota of 10 outstanding asynchronous
        operations by default (IAM Identity Center quotas page); None: no cap. Further
        :meth:`assign` / :meth:`unassign` calls wait for a slot.
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
        backoff_base: float = 1.0,
        backoff_cap: float = 20.0,
        max_calls_per_second: float | None = ratelimit.IDENTITY_CENTER_CALLS_PER_SECOND,
        limiter: ratelimit.TokenBucket | None = None,
        max_outstanding: int | None = ratelimit.IDENTITY_CENTER_OUTSTANDING_OPERATIONS,
        batch_polls: bool = True,
    ) -> None:
        if (poll_interval or 0) < 0 or poll_timeout < 0 or user_cache_ttl < 0:
            raise ValueError("poll_interval, poll_timeout and user_cache_ttl must be >= 0")
        if write_attempts < 1:
            raise ValueError("write_attempts must be >= 1")
        unknown = set(clients or ()) - set(_SERVICES)
        if unknown:
            raise ValueError(f"unknown client names {sorted(unknown)}; expected {_SERVICES}")
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
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        #: the client-side limit shared by the sso-admin and identitystore clients (on
        #: the real clock: ``sleep`` and ``clock`` above are for polls and backoff)
        self.limiter = limiter or ratelimit.identity_center_limiter(max_calls_per_second)
        if max_outstanding is not None and max_outstanding < 1:
            raise ValueError("max_outstanding must be >= 1 (or None)")
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
        #: creations (True) and deletions (False) waited on together while several
        #: are outstanding (see :mod:`workflows.operations`); None: each polls alone
        self._boards: dict[bool, OperationBoard] | None = (
            {create: self._board(create) for create in (True, False)} if batch_polls else None
        )
        self._clients: dict[str, Any] = dict(clients or {})
        for service, prebuilt in self._clients.items():
            self._limit(service, prebuilt)
        self._lock = threading.RLock()
        self._users: dict[str, _Cached] = {}
        #: email key -> the lock of its lookup under way (one lookup per email at a time)
        self._user_lookups: dict[str, threading.Lock] = {}
        self._permission_sets: dict[str, str] | None = None
        self._session_durations: dict[str, str] | None = None
        self._account_names: dict[str, str] | None = None
        # Permission set names never change, so ARN -> name is remembered for good.
        self._names_by_arn: dict[str, str] = {}
        # Custom permission sets this process created and has not deleted: ARN -> request
        # id, and the accounts it assigned them in (what moto cannot tell, see above).
        self._created: dict[str, int] = {}
        self._assigned_accounts: dict[str, set[str]] = {}
        self._tagging_unsupported = False
        self._create_lock = threading.Lock()

    # ----------------------------------------------------------------- plumbing

    @property
    def region(self) -> str:
        """Region the clients use: the argument, else the session's, else us-east-1."""
        return self._region or self._get_session().region_name or DEFAULT_REGION

    def _get_session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session

    def _client(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._get_session().client(
                    service, region_name=self.region, config=client_config()
                )
                self._limit(service, client)
                self._clients[service] = client
            return client

    def _limit(self, service: str, client: Any) -> None:
        """Pace ``client`` with :attr:`limiter` if it calls Identity Center."""
        if self.limiter is not None and service in ratelimit.LIMITED_SERVICES:
            ratelimit.attach(client, self.limiter)

    def _discover_instance(self) -> None:
        """Fill in the instance ARN / identity store id from ``ListInstances``."""
        operation = "sso-admin ListInstances"
        try:
            instances = list(self._paginate("sso-admin", "list_instances", "Instances"))
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(operation, exc) from exc
        if not instances:
            raise AwsError(f"{operation}: no IAM Identity Center instance in {self.region}")
        chosen = instances[0]
        if self._instance_arn or self._identity_store_id:
            matching = [
                i
                for i in instances
                if (self._instance_arn is None or i.get("InstanceArn") == self._instance_arn)
                and (
                    self._identity_store_id is None
                    or i.get("IdentityStoreId") == self._identity_store_id
                )
            ]
            if not matching:
                raise AwsError(
                    f"{operation}: no instance matches instance_arn={self._instance_arn!r} "
                    f"identity_store_id={self._identity_store_id!r}"
                )
            chosen = matching[0]
        self._instance_arn = chosen["InstanceArn"]
        self._identity_store_id = chosen["IdentityStoreId"]
        log.info(
            "using Identity Center instance %s (identity store %s)",
            self._instance_arn,
            self._identity_store_id,
        )

    @property
    def instance_arn(self) -> str:
        """ARN of the Identity Center instance (``ListInstances`` when not configured).

        :raises AwsError: ListInstances failed or there is no instance.
        """
        with self._lock:
            if not self._instance_arn:
                self._discover_instance()
            assert self._instance_arn
            return self._instance_arn

    @property
    def identity_store_id(self) -> str:
        """Identity store id of the instance (``ListInstances`` when not configured).

        :raises AwsError: ListInstances failed or there is no instance.
        """
        with self._lock:
            if not self._identity_store_id:
                self._discover_instance()
            assert self._identity_store_id
            return self._identity_store_id

    def _paginate(self, service: str, method: str, key: str, **kwargs: Any) -> Iterator[Any]:
        client = self._client(service)
        if client.can_paginate(method):
            for page in client.get_paginator(method).paginate(**kwargs):
                yield from page.get(key, [])
            return
        while True:  # pragma: no cover - every operation used here has a paginator
            page = getattr(client, method)(**kwargs)
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return
            kwargs["NextToken"] = token

    # ----------------------------------------------------------------- users

    def find_user_id(self, email: str) -> str | None:
        """Identity Center user id of the person with this email, or None.

        Uses identitystore ``GetUserId`` with ``AlternateIdentifier.UniqueAttribute``,
        first ``AttributePath="emails.value"``, then ``"userName"`` with the same string
        (``userName`` and ``emails.value`` are the only unique attribute paths, see
        https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_GetUserId.html).
        ``ResourceNotFoundException`` means "not under this attribute".

        Answers are cached per email, case-insensitively: found ids for
        ``user_cache_ttl`` seconds, unknown emails for :data:`MISS_CACHE_TTL` seconds.
        Callers asking for the same email while its lookup is under way wait for that
        lookup's answer instead of calling AWS again.

        :raises AwsError: any other failure (access denied, no instance, network...).
        """
        value = email.strip()
        if not value:
            return None
        key = value.casefold()
        cached = self._cached_user(key)
        if cached is not None:
            return cached.value
        with self._lock:
            lookup = self._user_lookups.setdefault(key, threading.Lock())
        with lookup:
            cached = self._cached_user(key)  # the lookup this caller waited for
            if cached is not None:
                return cached.value
            try:
                return self._look_up_user(value, key)
            finally:
                with self._lock:
                    self._user_lookups.pop(key, None)

    def _cached_user(self, key: str) -> _Cached | None:
        with self._lock:
            cached = self._users.get(key)
        return cached if cached is not None and cached.expires_at > self._clock() else None

    def _look_up_user(self, value: str, key: str) -> str | None:
        """:meth:`find_user_id`'s calls to AWS for ``value``; the answer cached under
        ``key``."""
        store_id = self.identity_store_id
        user_id: str | None = None
        for path in ("emails.value", "userName"):
            try:
                response = self._client("identitystore").get_user_id(
                    IdentityStoreId=store_id,
                    AlternateIdentifier={
                        "UniqueAttribute": {"AttributePath": path, "AttributeValue": value}
                    },
                )
            except ClientError as exc:
                if _error_code(exc) == "ResourceNotFoundException":
                    continue
                raise _wrap(f"identitystore GetUserId ({path})", exc) from exc
            except BotoCoreError as exc:
                raise _wrap(f"identitystore GetUserId ({path})", exc) from exc
            user_id = response["UserId"]
            break
        ttl = self.user_cache_ttl if user_id else min(MISS_CACHE_TTL, self.user_cache_ttl)
        with self._lock:
            self._users[key] = _Cached(user_id, self._clock() + ttl)
        if user_id is None:
            log.info("no Identity Center user with email or userName %r", value)
        return user_id

    # ----------------------------------------------------------------- catalog

    def permission_set_arns(self) -> dict[str, str]:
        """``{name: ARN}`` of every permission set of the instance.

        ``ListPermissionSets`` (paginated) then ``DescribePermissionSet`` for each ARN
        (a set deleted in between is skipped). Cached, together with
        :meth:`session_durations`, until :meth:`refresh_catalog`.

        :raises AwsError: a call failed.
        """
        return dict(self._catalog()[0])

    def permission_set_policies(
        self, names: Iterable[str]
    ) -> dict[str, tuple[frozenset[str], bool]]:
        """``{name: (AWS managed policy names, has an inline policy)}`` of the named sets.

        ``ListManagedPoliciesInPermissionSet`` and ``GetInlinePolicyForPermissionSet``
        for each; used to tell approvers when a standard set already covers a custom
        request. Sets that do not exist are left out.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListManagedPoliciesInPermissionSet.html

        :raises AwsError: a call failed.
        """
        arns = self.permission_set_arns()
        instance = self.instance_arn
        found: dict[str, tuple[frozenset[str], bool]] = {}
        for name in names:
            arn = arns.get(name)
            if arn is None:
                continue
            try:
                managed = frozenset(
                    p["Name"]
                    for p in self._paginate(
                        "sso-admin",
                        "list_managed_policies_in_permission_set",
                        "AttachedManagedPolicies",
                        InstanceArn=instance,
                        PermissionSetArn=arn,
                    )
                )
                inline = (
                    self._client("sso-admin")
                    .get_inline_policy_for_permission_set(
                        InstanceArn=instance, PermissionSetArn=arn
                    )
                    .get("InlinePolicy")
                )
            except (BotoCoreError, ClientError) as exc:
                raise _wrap(f"sso-admin policies of permission set {name}", exc) from exc
            found[name] = (managed, bool(inline))
        return found

    def session_durations(self) -> dict[str, str]:
        """``{name: session duration}`` of every permission set of the instance.

        The duration is the set's ``SessionDuration``, ISO 8601 text such as ``"PT1H"``
        (one hour) or ``"PT12H"``: how long a console session made with the set lasts
        at most (IAM Identity Center allows 1 to 12 hours). From the same
        ``DescribePermissionSet`` answers as :meth:`permission_set_arns` and cached with
        them. A set without one gets AWS's default :data:`DEFAULT_SESSION_DURATION`.
        See https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PermissionSet.html

        :raises AwsError: a call failed.
        """
        return dict(self._catalog()[1])

    def _catalog(self) -> tuple[dict[str, str], dict[str, str]]:
        with self._lock:
            if self._permission_sets is not None and self._session_durations is not None:
                return self._permission_sets, self._session_durations
        instance_arn = self.instance_arn
        arns: dict[str, str] = {}
        durations: dict[str, str] = {}
        try:
            for arn in self._paginate(
                "sso-admin", "list_permission_sets", "PermissionSets", InstanceArn=instance_arn
            ):
                described = self._describe_permission_set(instance_arn, arn)
                if described is None:
                    continue
                name = described["Name"]
                arns[name] = arn
                durations[name] = _duration_text(described.get("SessionDuration"))
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListPermissionSets/DescribePermissionSet", exc) from exc
        with self._lock:
            self._permission_sets = arns
            self._session_durations = durations
        return arns, durations

    def _describe_permission_set(self, instance_arn: str, arn: str) -> dict[str, Any] | None:
        """``DescribePermissionSet``'s ``PermissionSet``, or None when it is gone.
        Remembers the name. Raises botocore's exceptions."""
        try:
            described = self._client("sso-admin").describe_permission_set(
                InstanceArn=instance_arn, PermissionSetArn=arn
            )["PermissionSet"]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        with self._lock:
            self._names_by_arn[arn] = described["Name"]
        return described

    def account_names(self) -> dict[str, str]:
        """``{account id: account name}`` from organizations ``ListAccounts`` (paginated).

        Names are only for display: when Organizations is not reachable or not allowed
        (``AccessDeniedException``, ``AWSOrganizationsNotInUseException``, network
        errors) this logs a warning and returns ``{}``. Cached, failures included,
        until :meth:`refresh_catalog`.
        """
        with self._lock:
            if self._account_names is not None:
                return dict(self._account_names)
        result: dict[str, str] = {}
        try:
            for account in self._paginate("organizations", "list_accounts", "Accounts"):
                result[account["Id"]] = account.get("Name") or account["Id"]
        except ClientError as exc:
            if _error_code(exc) not in _ORGANIZATIONS_UNAVAILABLE:
                log.warning(
                    "organizations ListAccounts failed, no account names: %s", _describe(exc)
                )
            else:
                log.warning(
                    "organizations ListAccounts not allowed or not in use, no account names: %s",
                    _describe(exc),
                )
            result = {}
        except BotoCoreError as exc:
            log.warning("organizations not reachable, no account names: %s", _describe(exc))
            result = {}
        with self._lock:
            self._account_names = result
        return dict(result)

    def refresh_catalog(self) -> None:
        """Forget the cached permission sets, session durations and account names (read
        again on next use)."""
        with self._lock:
            self._permission_sets = None
            self._session_durations = None
            self._account_names = None

    # ----------------------------------------------------------------- assignments

    def has_assignment(self, assignment: Assignment) -> bool:
        """Whether the user currently has this permission set in this account.

        ``ListAccountAssignments(InstanceArn, AccountId, PermissionSetArn)``, paginated,
        looking for the assignment's ``PrincipalType`` (``USER`` unless it says
        otherwise) and ``PrincipalId``.

        :raises AwsError: the call failed.
        """
        try:
            for item in self._paginate(
                "sso-admin",
                "list_account_assignments",
                "AccountAssignments",
                InstanceArn=self.instance_arn,
                AccountId=assignment.account_id,
                PermissionSetArn=assignment.permission_set_arn,
            ):
                if (
                    item.get("PrincipalType") == assignment.principal_type
                    and item.get("PrincipalId") == assignment.principal_id
                ):
                    return True
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListAccountAssignments", exc) from exc
        return False

    def account_assignments(self, account_id: str, permission_set_arn: str) -> list[Assignment]:
        """Every assignment of ``permission_set_arn`` in account ``account_id``, users and
        groups alike (``Assignment.principal_type`` ``"USER"`` / ``"GROUP"``), in AWS's
        order; for the drift reconciler. Not cached.

        ``ListAccountAssignments(InstanceArn, AccountId, PermissionSetArn)``, paginated.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountAssignments.html

        :raises AwsError: the call failed (the message names the account).
        """
        found: list[Assignment] = []
        try:
            for item in self._paginate(
                "sso-admin",
                "list_account_assignments",
                "AccountAssignments",
                InstanceArn=self.instance_arn,
                AccountId=account_id,
                PermissionSetArn=permission_set_arn,
            ):
                principal_id = item.get("PrincipalId")
                if not principal_id:
                    continue
                found.append(
                    Assignment(
                        account_id=item.get("AccountId") or account_id,
                        permission_set_arn=item.get("PermissionSetArn") or permission_set_arn,
                        principal_id=principal_id,
                        principal_type=item.get("PrincipalType") or "USER",
                    )
                )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(f"sso-admin ListAccountAssignments ({account_id})", exc) from exc
        return found

    def assign(self, assignment: Assignment) -> None:
        """Give the user the permission set in the account, and wait until it is live.

        ``CreateAccountAssignment`` (``TargetType=AWS_ACCOUNT``, ``PrincipalType=USER``),
        then ``DescribeAccountAssignmentCreationStatus``, polled as :meth:`_wait` says.
        ``ThrottlingException`` and ``ConflictException`` (another change to this
        permission set/account in progress) are retried with backoff. Idempotent: a
        conflict saying the assignment already exists counts as success once
        :meth:`has_assignment` confirms it.

        :raises AssignmentFailed: the status ended ``FAILED`` (``.reason``).
        :raises AssignmentTimeout: still ``IN_PROGRESS`` after ``poll_timeout`` seconds.
        :raises AwsError: any other failure.
        """
        self._change(assignment, create=True)

    def unassign(self, assignment: Assignment) -> None:
        """Take the permission set away from the user in the account, and wait.

        ``DeleteAccountAssignment`` then ``DescribeAccountAssignmentDeletionStatus``,
        polled like :meth:`assign`, with the same retries. An assignment that is already
        gone (``ResourceNotFoundException``, or a ``FAILED`` deletion while
        :meth:`has_assignment` is False) counts as done. A ``GROUP`` assignment (found
        by :meth:`account_assignments`) is removed the same way.

        :raises AssignmentFailed: the deletion ended ``FAILED`` and the assignment is
            still there.
        :raises AssignmentTimeout: still ``IN_PROGRESS`` after ``poll_timeout`` seconds.
        :raises AwsError: any other failure.
        """
        self._change(assignment, create=False)

    def _change(self, assignment: Assignment, *, create: bool) -> None:
        """:meth:`_change_now` holding one of the ``max_outstanding`` slots: from before
        the write until its status is final (or polling gave up), so this adapter never
        has more asynchronous operations outstanding than Identity Center allows."""
        slot = self._outstanding
        if slot is not None:
            slot.acquire()
        released = threading.Event()

        def release() -> None:  # once: the status poller may give it back first
            with self._in_flight_lock:
                if released.is_set():
                    return
                released.set()
                self._in_flight -= 1
                self._kind_in_flight[create] -= 1
            if slot is not None:
                slot.release()

        with self._in_flight_lock:
            self._in_flight += 1
            self._kind_in_flight[create] += 1
        try:
            self._change_now(assignment, create=create, release=release)
        finally:
            release()

    def _change_now(
        self, assignment: Assignment, *, create: bool, release: Callable[[], None]
    ) -> None:
        verb = "assign" if create else "unassign"
        operation = "CreateAccountAssignment" if create else "DeleteAccountAssignment"
        client = self._client("sso-admin")
        call = client.create_account_assignment if create else client.delete_account_assignment
        status_key = (
            "AccountAssignmentCreationStatus" if create else "AccountAssignmentDeletionStatus"
        )
        instance_arn = self.instance_arn
        if create:
            with self._lock:
                if assignment.permission_set_arn in self._created:
                    # moto does not say where a set is provisioned; see the module doc.
                    self._assigned_accounts.setdefault(assignment.permission_set_arn, set()).add(
                        assignment.account_id
                    )
        params = {
            "InstanceArn": instance_arn,
            "TargetId": assignment.account_id,
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": assignment.permission_set_arn,
            "PrincipalType": assignment.principal_type,
            "PrincipalId": assignment.principal_id,
        }
        attempt = 0
        while True:
            attempt += 1
            try:
                response = call(**params)
                break
            except ClientError as exc:
                code, message = _error_code(exc), _error_message(exc)
                if (
                    create
                    and code == "ConflictException"
                    and "already exist" in message.lower()
                    and self.has_assignment(assignment)
                ):
                    log.info("%s %s: already in place (%s)", verb, assignment, message)
                    return
                if not create and code == "ResourceNotFoundException":
                    log.info("%s %s: already gone (%s)", verb, assignment, _describe(exc))
                    return
                if code not in _RETRYABLE_WRITE_ERRORS or attempt >= self._write_attempts:
                    log.warning("%s %s: %s failed: %s", verb, assignment, operation, _describe(exc))
                    raise _wrap(f"sso-admin {operation}", exc) from exc
                delay = self._backoff(attempt)
                log.info(
                    "%s %s: %s, retrying in %.1f s (attempt %d of %d)",
                    verb,
                    assignment,
                    code,
                    delay,
                    attempt,
                    self._write_attempts,
                )
                self._sleep(delay)
            except BotoCoreError as exc:
                log.warning("%s %s: %s failed: %s", verb, assignment, operation, exc)
                raise _wrap(f"sso-admin {operation}", exc) from exc

        status = response[status_key]
        request_id = status.get("RequestId")
        log.info(
            "%s %s: request %s started (%s)", verb, assignment, request_id, status.get("Status")
        )
        status = self._wait(status, create=create, release=release)
        state = status.get("Status")
        if state == "SUCCEEDED":
            log.info("%s %s: request %s SUCCEEDED", verb, assignment, request_id)
            return
        if state == "FAILED":
            reason = status.get("FailureReason") or "no reason given"
            if not create and not self.has_assignment(assignment):
                log.info(
                    "%s %s: request %s FAILED (%s) but the assignment is gone",
                    verb,
                    assignment,
                    request_id,
                    reason,
                )
                return
            log.warning("%s %s: request %s FAILED: %s", verb, assignment, request_id, reason)
            raise AssignmentFailed(
                f"IAM Identity Center could not {verb} {assignment}: {reason}",
                reason=reason,
                request_id=request_id,
            )
        log.warning(
            "%s %s: request %s still %s after %.0f s",
            verb,
            assignment,
            request_id,
            state,
            self.poll_timeout,
        )
        raise AssignmentTimeout(
            f"IAM Identity Center did not finish the {verb} of {assignment} within "
            f"{self.poll_timeout:g} s (request {request_id} is {state})",
            request_id=request_id,
        )

    def _board(self, create: bool) -> OperationBoard:
        """The :class:`~workflows.operations.OperationBoard` for creations or deletions,
        calling ``ListAccountAssignment{Creation,Deletion}Status`` on this adapter."""
        kind = "Creation" if create else "Deletion"
        method = f"list_account_assignment_{kind.lower()}_status"
        key = f"AccountAssignments{kind}Status"
        operation = f"sso-admin ListAccountAssignment{kind}Status"

        def listed(status: str, every_page: bool) -> set[str] | None:
            params = {"InstanceArn": self.instance_arn, "Filter": {"Status": status}}
            try:
                if every_page:
                    return {
                        s["RequestId"] for s in self._paginate("sso-admin", method, key, **params)
                    }
                page = getattr(self._client("sso-admin"), method)(MaxResults=100, **params)
            except (ClientError, BotoCoreError, NotImplementedError) as exc:
                if _not_implemented(exc) or _error_code(exc) in _LIST_UNAVAILABLE:
                    raise ListUnavailable(f"{operation}: {_describe(exc)}") from exc
                raise _wrap(operation, exc) from exc
            if page.get("NextToken"):
                return None
            return {s["RequestId"] for s in page.get(key, [])}

        def describe(request_id: str) -> dict[str, Any]:
            client = self._client("sso-admin")
            call = getattr(client, f"describe_account_assignment_{kind.lower()}_status")
            id_param = f"AccountAssignment{kind}RequestId"
            try:
                answer = call(InstanceArn=self.instance_arn, **{id_param: request_id})
            except (ClientError, BotoCoreError) as exc:
                raise _wrap(f"sso-admin DescribeAccountAssignment{kind}Status", exc) from exc
            return answer[f"AccountAssignment{kind}Status"]

        def running() -> set[str]:
            ids = listed("IN_PROGRESS", True)
            assert ids is not None
            return ids

        return OperationBoard(
            kind=kind.lower(),
            list_running=running,
            list_failed=lambda: listed("FAILED", False),
            describe=describe,
            spare=self._spare_for_lists,
        )

    def _spare_for_lists(self) -> bool:
        """Whether a batched status list may be made now: the client-side limiter, if
        any, holds at least half its burst (writes waiting for a slot find a token)."""
        limiter = self.limiter
        return limiter is None or limiter.available() >= limiter.burst / 2

    def _wait(
        self,
        status: dict[str, Any],
        *,
        create: bool,
        release: Callable[[], None] = lambda: None,
    ) -> dict[str, Any]:
        """Poll the request until it leaves IN_PROGRESS or ``poll_timeout`` seconds have
        passed since the write was answered; returns the last status (still IN_PROGRESS
        on timeout; a status already final is returned without a call).

        The schedule (``poll_interval`` None, :data:`POLL_SCHEDULE`): the first poll
        right away, then 0.25, 0.5 and 1 s after the write, then every
        :data:`POLL_INTERVAL_MAX` (1 s). Each poll is an API call against Identity
        Center's collective 20 calls/s, and up to 10 operations are outstanding at once
        (IAM Identity Center quotas page): with operations of about a second, 10 writes
        and 10 polls a second is exactly the quota, so in a mass expiry any extra poll
        delays a revocation. The polls before the first second are therefore *early*
        polls, made only while at most half the outstanding slots are taken and the
        client-side limiter holds at least half its burst (quota nobody is using: a
        lone grant then returns as soon as AWS is done), skipped while either is busy. Polls are never more than 1 s apart, so a finished
        operation gives its outstanding slot back within a second. With
        ``poll_interval`` set, every poll waits that long instead (no early polls).
        """
        client = self._client("sso-admin")
        if create:
            describe = client.describe_account_assignment_creation_status
            id_param, key = "AccountAssignmentCreationRequestId", "AccountAssignmentCreationStatus"
            operation = "DescribeAccountAssignmentCreationStatus"
        else:
            describe = client.describe_account_assignment_deletion_status
            id_param, key = "AccountAssignmentDeletionRequestId", "AccountAssignmentDeletionStatus"
            operation = "DescribeAccountAssignmentDeletionStatus"
        request_id = status.get("RequestId")
        started = self._clock()
        boards = self._boards
        if (
            boards is not None
            and request_id
            and status.get("Status") not in ("SUCCEEDED", "FAILED")
            and self._kind_in_flight[create] >= 2
            and boards[create].available
        ):
            together = boards[create].wait(request_id, release, self.poll_timeout)
            if together is not None:
                return together
        schedule = self._poll_schedule()
        while status.get("Status") not in ("SUCCEEDED", "FAILED"):
            if not request_id:
                raise AwsError(f"sso-admin {operation}: AWS returned no request id")
            remaining = self.poll_timeout - (self._clock() - started)
            if remaining <= 0:
                return status
            delay, early = next(schedule)
            if delay > 0:
                self._sleep(min(delay, remaining))
            if early and not self._spare_quota():
                continue
            try:
                status = describe(InstanceArn=self.instance_arn, **{id_param: request_id})[key]
            except (ClientError, BotoCoreError) as exc:
                raise _wrap(f"sso-admin {operation} ({request_id})", exc) from exc
        return status

    def _poll_schedule(self) -> Iterator[tuple[float, bool]]:
        """``(seconds to wait before the next poll, is it an early poll)``, endless."""
        if self.poll_interval is not None:
            while True:
                yield self.poll_interval, False
        yield from POLL_SCHEDULE
        while True:
            yield POLL_INTERVAL_MAX, False

    def _spare_quota(self) -> bool:
        """Whether an early status poll may be made now: at most half the outstanding
        slots are taken (a mass expiry keeps them all busy, and there every early poll
        would take a token a write or a needed poll waits for) and the client-side
        limiter, if any, is at least half full (nobody else is using the quota)."""
        if self._in_flight > self._max_outstanding // 2:
            return False
        limiter = self.limiter
        return limiter is None or limiter.available() >= limiter.burst / 2

    def share_quota(self, replicas: int) -> None:
        """Take a ``1/replicas`` share of Identity Center's quotas: the client-side rate
        and burst and the outstanding assignment operations, as configured for the whole
        instance (at least 1 call/s's burst and 1 slot each). AWS counts both per
        Identity Center instance, not per client (IAM Identity Center quotas page), so
        replicas of the bot that each used all of it would be throttled together in a
        mass expiry. The lease heartbeat calls this with the number of live replicas
        (:meth:`storage.store.SqlStore.live_replicas`). Idempotent.

        :raises ValueError: ``replicas`` < 1.
        """
        if replicas < 1:
            raise ValueError(f"replicas must be >= 1, got {replicas!r}")
        with self._in_flight_lock:
            if replicas == self.replicas:
                return
            self.replicas = replicas
            bucket, slots = self._quota
            if self.limiter is not None and bucket is not None:
                rate, burst = bucket
                self.limiter.set_rate(rate / replicas, max(1.0, burst / replicas))
            self._max_outstanding = max(1, slots // replicas)
            if self._outstanding is not None:
                self._outstanding.resize(self._max_outstanding)
        log.info(
            "%d live replicas: this one now uses %s and %d outstanding operations",
            replicas,
            self.limiter,
            self._max_outstanding,
        )

    def _backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: exponential, capped, jittered into
        [delay/2, delay]."""
        delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    # ----------------------------------------------------------------- custom permission sets

    def create_custom_permission_set(
        self,
        *,
        name: str,
        session_duration: str,
        description: str,
        request_id: int,
        managed_policy_arns: Sequence[str],
        inline_policy: str | None,
    ) -> str:
        """Create a permission set for one request, fill it, and return its ARN.

        1. ``ListPermissionSets`` + ``DescribePermissionSet`` (only of sets whose name is
           not known yet) to find the names in use;
        2. ``CreatePermissionSet`` with ``Name``, ``SessionDuration``, ``Description`` and
           the tags ``jitbot:managed=true``, ``jitbot:request-id=<request_id>``. Names
           are unique in an instance (AWS answers ``ConflictException`` "PermissionSet
           with name … already exists."): a name in use, or refused so, is retried as
           ``name-2``, ``name-3`` … ``name-100``, ``name`` trimmed so the whole stays
           within 32 characters. An existing set is never reused, not even one of the
           same request;
        3. ``AttachManagedPolicyToPermissionSet`` for each ARN of ``managed_policy_arns``
           (duplicates once, in order);
        4. ``PutInlinePolicyToPermissionSet`` when ``inline_policy`` is given.

        ``ThrottlingException`` and in-progress ``ConflictException`` answers are
        retried with backoff (``write_attempts``; Identity Center allows one operation
        on a permission set at a time). When a step after the creation fails, the set
        is deleted again (``DeletePermissionSet``, best effort, logged) before the
        error is raised. The set is not provisioned to any account here: assigning it
        (:meth:`assign`) does that.

        :param name: 1 to 32 characters of ``[A-Za-z0-9_+=,.@-]``.
        :param session_duration: ISO 8601 duration, e.g. ``"PT1H"``; AWS accepts 1 to
            12 hours.
        :param description: free text shown in the IAM Identity Center console;
            characters AWS does not accept become ``?``, and it is cut to 700
            characters. Left out when empty.
        :param request_id: the jitbot request the set is for (the ``jitbot:request-id``
            tag).
        :param managed_policy_arns: AWS managed policy ARNs
            (``arn:aws:iam::aws:policy/…``). IAM allows 10 managed policies per role by
            default (quota increase up to 20); more fail the attach step.
        :param inline_policy: IAM policy document (JSON text) or None. One inline
            policy per permission set, at most 10,240 bytes (IAM Identity Center quotas).
        :returns: the new permission set's ARN.
        :raises ValueError: ``name`` or ``session_duration`` is malformed.
        :raises AwsError: a step failed; the message names it, e.g.
            ``"sso-admin AttachManagedPolicyToPermissionSet (arn:aws:iam::aws:policy/Foo):
            ValidationException: …"``, and ``code`` is AWS's error code. If the rollback
            failed too the message says so and which set is left over (it carries the
            jitbot tags, so :meth:`custom_permission_sets` finds it).

        AWS API reference:
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreatePermissionSet.html,
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_AttachManagedPolicyToPermissionSet.html,
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutInlinePolicyToPermissionSet.html,
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DeletePermissionSet.html;
        quotas: https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html
        """
        if len(name) > MAX_PERMISSION_SET_NAME or not _NAME_RE.fullmatch(name):
            raise ValueError(
                f"permission set name {name!r} must be 1 to {MAX_PERMISSION_SET_NAME} "
                "characters of letters, digits and _+=,.@-"
            )
        if not _DURATION_RE.fullmatch(session_duration) or session_duration.startswith("-"):
            raise ValueError(f"session duration {session_duration!r} is not ISO 8601 (PT1H)")
        if isinstance(managed_policy_arns, str):
            raise TypeError("managed_policy_arns must be a sequence of ARNs, not one string")
        policies = list(dict.fromkeys(managed_policy_arns))
        inline = inline_policy if inline_policy and inline_policy.strip() else None
        instance_arn = self.instance_arn
        client = self._client("sso-admin")
        what = f"custom permission set {name!r} for request {request_id}"
        params: dict[str, Any] = {
            "InstanceArn": instance_arn,
            "SessionDuration": session_duration,
            "Tags": [
                {"Key": MANAGED_TAG, "Value": "true"},
                {"Key": REQUEST_TAG, "Value": str(request_id)},
            ],
        }
        cleaned = _clean_description(description)
        if cleaned is not None:
            params["Description"] = cleaned

        arn: str | None = None
        chosen = name
        with self._create_lock:  # two creations in this process never race for a name
            try:
                taken = self._permission_set_names(instance_arn)
            except (ClientError, BotoCoreError) as exc:
                raise _wrap("sso-admin ListPermissionSets/DescribePermissionSet", exc) from exc
            for candidate in _candidate_names(name):
                if candidate.casefold() in taken:
                    continue
                try:
                    response = self._write(
                        "CreatePermissionSet",
                        lambda c=candidate: client.create_permission_set(Name=c, **params),
                        what=what,
                        retry_conflict=lambda exc: not _already_exists(exc),
                    )
                except ClientError as exc:
                    if _already_exists(exc):
                        log.info("%s: name %r taken (%s)", what, candidate, _error_message(exc))
                        taken.add(candidate.casefold())
                        continue
                    log.warning("%s: CreatePermissionSet failed: %s", what, _describe(exc))
                    raise _wrap(f"sso-admin CreatePermissionSet ({candidate})", exc) from exc
                except BotoCoreError as exc:
                    log.warning("%s: CreatePermissionSet failed: %s", what, exc)
                    raise _wrap(f"sso-admin CreatePermissionSet ({candidate})", exc) from exc
                arn, chosen = response["PermissionSet"]["PermissionSetArn"], candidate
                break
            if arn is None:
                raise AwsError(
                    f"sso-admin CreatePermissionSet: no free name for {name!r} "
                    f"(tried up to suffix -{MAX_NAME_SUFFIX})"
                )
            with self._lock:
                self._names_by_arn[arn] = chosen
                self._created[arn] = request_id
        log.info("%s: created %s as %r", what, arn, chosen)

        step = "sso-admin CreatePermissionSet"
        try:
            for policy in policies:
                step = f"sso-admin AttachManagedPolicyToPermissionSet ({policy})"
                self._write(
                    "AttachManagedPolicyToPermissionSet",
                    lambda p=policy: client.attach_managed_policy_to_permission_set(
                        InstanceArn=instance_arn, PermissionSetArn=arn, ManagedPolicyArn=p
                    ),
                    what=what,
                )
            if inline is not None:
                step = "sso-admin PutInlinePolicyToPermissionSet"
                self._write(
                    "PutInlinePolicyToPermissionSet",
                    lambda: client.put_inline_policy_to_permission_set(
                        InstanceArn=instance_arn, PermissionSetArn=arn, InlinePolicy=inline
                    ),
                    what=what,
                )
        except (ClientError, BotoCoreError) as exc:
            error = _wrap(step, exc)
            log.warning("%s: %s", what, error)
            problem = self._roll_back(instance_arn, arn, what)
            if problem:
                error = AwsError(
                    f"{error}; rolling back failed too, delete permission set {arn} "
                    f"({chosen}) by hand: {problem}",
                    code=error.code,
                )
            raise error from exc
        except BaseException:
            self._roll_back(instance_arn, arn, what)
            raise

        with self._lock:
            if self._permission_sets is not None and self._session_durations is not None:
                self._permission_sets[chosen] = arn
                self._session_durations[chosen] = session_duration
        log.info(
            "%s: %s ready (%d managed policies, %s inline policy)",
            what,
            chosen,
            len(policies),
            "an" if inline is not None else "no",
        )
        return arn

    def delete_custom_permission_set(
        self,
        permission_set_arn: str,
        *,
        request_id: int,
        account_ids: Iterable[str] = (),
        trust_description: bool = False,
    ) -> None:
        """Delete a permission set jitbot created for request ``request_id``.

        1. ``ListTagsForResource``: the set must carry ``jitbot:managed=true`` and
           ``jitbot:request-id=<request_id>``. When the tags cannot be read (moto does
           not implement the call) only a set this process created for this very
           request passes, or, with ``trust_description`` and only when the endpoint
           does not implement the call, a ``JIT-`` set whose description is the one
           jitbot writes for this request ("Created by jitbot for request
           #<request_id> of …", ``DescribePermissionSet``): how the drift reconciler
           deletes, on moto, a set an earlier process left behind. Tags that can be
           read always decide, and an access error on them never falls back;
        2. no account assignment of it may remain: ``ListAccountsForProvisionedPermissionSet``
           names the accounts it is provisioned to (plus ``account_ids``, and the
           accounts this process assigned it in, which is all moto tells), then
           ``ListAccountAssignments`` for each. The caller unassigns first
           (:meth:`unassign`);
        3. ``DeletePermissionSet``. ``ConflictException`` (an assignment's deletion
           still deprovisioning, or another operation on the set) and
           ``ThrottlingException`` are retried with backoff (``write_attempts``).

        A set that is already gone (``ResourceNotFoundException`` at any step) counts
        as deleted. ``account_ids``: accounts to check for assignments in addition
        (e.g. those of the request).

        :raises AwsError: ``"refusing to delete a permission set jitbot did not create
            for request …"`` when the tags do not match; an assignment remains (the
            message names the account); or a call failed (the message names it).

        AWS API reference:
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListTagsForResource.html,
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountsForProvisionedPermissionSet.html,
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DeletePermissionSet.html
        """
        arn = permission_set_arn
        instance_arn = self.instance_arn
        what = f"delete permission set {arn} of request {request_id}"
        with self._lock:
            created_for = self._created.get(arn)
            accounts = set(account_ids) | self._assigned_accounts.get(arn, set())

        refusal = (
            f"refusing to delete a permission set jitbot did not create for request {request_id}"
        )
        try:
            tags = self._permission_set_tags(instance_arn, arn)
        except (ClientError, BotoCoreError, NotImplementedError) as exc:
            if _gone(exc) or not self._permission_set_exists(instance_arn, arn):
                log.info("%s: already gone (%s)", what, _describe(exc))
                self._forget(arn)
                return
            described_for = None
            if created_for != request_id and trust_description and _not_implemented(exc):
                try:
                    described = self._describe_permission_set(instance_arn, arn)
                except (ClientError, BotoCoreError) as described_exc:
                    raise _wrap("sso-admin DescribePermissionSet", described_exc) from exc
                described_for = _described_request_id(described or {})
            if created_for != request_id and described_for != request_id:
                raise AwsError(
                    f"{refusal}: {arn} (its tags could not be read: "
                    f"sso-admin ListTagsForResource: {_describe(exc)})",
                    code=_error_code(exc) or None,
                ) from exc
            log.warning(
                "%s: tags not readable (%s); %s request %s",
                what,
                _describe(exc),
                "this process created it for"
                if created_for == request_id
                else "its jitbot description names",
                request_id,
            )
        else:
            managed, owner = tags.get(MANAGED_TAG), tags.get(REQUEST_TAG)
            if managed != "true" or owner != str(request_id):
                raise AwsError(
                    f"{refusal}: {arn} is tagged {MANAGED_TAG}={managed!r}, {REQUEST_TAG}={owner!r}"
                )

        try:
            accounts.update(
                self._paginate(
                    "sso-admin",
                    "list_accounts_for_provisioned_permission_set",
                    "AccountIds",
                    InstanceArn=instance_arn,
                    PermissionSetArn=arn,
                )
            )
        except (ClientError, BotoCoreError) as exc:
            if _gone(exc):
                log.info("%s: already gone (%s)", what, _describe(exc))
                self._forget(arn)
                return
            raise _wrap("sso-admin ListAccountsForProvisionedPermissionSet", exc) from exc
        for account in sorted(accounts):
            try:
                remaining = list(
                    self._paginate(
                        "sso-admin",
                        "list_account_assignments",
                        "AccountAssignments",
                        InstanceArn=instance_arn,
                        AccountId=account,
                        PermissionSetArn=arn,
                    )
                )
            except (ClientError, BotoCoreError) as exc:
                if _gone(exc):
                    log.info("%s: already gone (%s)", what, _describe(exc))
                    self._forget(arn)
                    return
                raise _wrap(f"sso-admin ListAccountAssignments ({account})", exc) from exc
            if remaining:
                principals = ", ".join(
                    f"{item.get('PrincipalType', '?')} {item.get('PrincipalId', '?')}"
                    for item in remaining
                )
                raise AwsError(
                    f"permission set {arn} still has {len(remaining)} account assignment(s) "
                    f"in account {account} ({principals}); remove them before deleting it"
                )

        client = self._client("sso-admin")
        try:
            self._write(
                "DeletePermissionSet",
                lambda: client.delete_permission_set(
                    InstanceArn=instance_arn, PermissionSetArn=arn
                ),
                what=what,
            )
        except (ClientError, BotoCoreError) as exc:
            if _gone(exc):
                log.info("%s: already gone (%s)", what, _describe(exc))
                self._forget(arn)
                return
            log.warning("%s: DeletePermissionSet failed: %s", what, _describe(exc))
            raise _wrap("sso-admin DeletePermissionSet", exc) from exc
        self._forget(arn)
        log.info("%s: deleted", what)

    def custom_permission_sets(self) -> dict[str, int]:
        """``{ARN: request id}`` of every permission set tagged ``jitbot:managed=true``,
        for cleaning up sets whose request is over (drift).

        ``ListPermissionSets`` then ``ListTagsForResource`` of each set (not cached). A
        set tagged managed whose ``jitbot:request-id`` is not a number is logged and
        left out. When the endpoint does not implement ``ListTagsForResource`` (moto),
        this logs a warning and returns the sets this process created and has not
        deleted. See
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListTagsForResource.html

        :raises AwsError: a call failed.
        """
        instance_arn = self.instance_arn
        try:
            arns = list(
                self._paginate(
                    "sso-admin", "list_permission_sets", "PermissionSets", InstanceArn=instance_arn
                )
            )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListPermissionSets", exc) from exc
        result: dict[str, int] = {}
        for arn in arns:
            try:
                tags = self._permission_set_tags(instance_arn, arn)
            except (ClientError, BotoCoreError, NotImplementedError) as exc:
                if _gone(exc):
                    continue
                if not _not_implemented(exc):
                    raise _wrap(f"sso-admin ListTagsForResource ({arn})", exc) from exc
                listed = set(arns)
                with self._lock:
                    known = {a: r for a, r in self._created.items() if a in listed}
                log.warning(
                    "sso-admin ListTagsForResource is not implemented by this endpoint (%s); "
                    "only the %d custom permission sets this process created are known",
                    _describe(exc),
                    len(known),
                )
                return known
            if tags.get(MANAGED_TAG) != "true":
                continue
            try:
                result[arn] = int(tags.get(REQUEST_TAG, ""))
            except ValueError:
                log.warning(
                    "permission set %s is tagged %s=true but %s=%r is not a request id",
                    arn,
                    MANAGED_TAG,
                    REQUEST_TAG,
                    tags.get(REQUEST_TAG),
                )
        return result

    def jit_permission_sets(self) -> list[JitPermissionSet]:
        """The ``JIT-`` permission sets jitbot created, with their creation time and
        request id, for the drift reconciler (orphan sets). Not cached.

        ``ListPermissionSets``, then for each set ``DescribePermissionSet`` (name,
        ``CreatedDate``, description) and, for the ``JIT-`` ones, ``ListTagsForResource``:
        a set is jitbot's when tagged ``jitbot:managed=true`` with a numeric
        ``jitbot:request-id`` (``source="tags"``). When the endpoint does not implement
        ``ListTagsForResource`` (moto; never AWS) the description jitbot writes stands
        in: "Created by jitbot for request #<id> of <email>" (``source="description"``).
        A ``JIT-`` set with readable tags that are not jitbot's is left out, whatever its
        description says. Sets deleted meanwhile are skipped.

        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribePermissionSet.html

        :returns: the sets, in ``ListPermissionSets`` order; ``created_at`` is aware UTC.
        :raises AwsError: a call failed (other than ``ListTagsForResource`` being
            unimplemented).
        """
        instance_arn = self.instance_arn
        found: list[JitPermissionSet] = []
        step = "sso-admin ListPermissionSets"
        try:
            arns = list(
                self._paginate(
                    "sso-admin", "list_permission_sets", "PermissionSets", InstanceArn=instance_arn
                )
            )
            for arn in arns:
                step = f"sso-admin DescribePermissionSet ({arn})"
                described = self._describe_permission_set(instance_arn, arn)
                if described is None or not str(described.get("Name", "")).startswith(JIT_PREFIX):
                    continue
                created = described.get("CreatedDate")
                if isinstance(created, datetime):
                    created = (
                        created.replace(tzinfo=UTC)
                        if created.tzinfo is None
                        else created.astimezone(UTC)
                    )
                else:
                    created = None
                step = f"sso-admin ListTagsForResource ({arn})"
                try:
                    tags: dict[str, str] | None = self._permission_set_tags(instance_arn, arn)
                except (ClientError, NotImplementedError) as exc:
                    if _gone(exc):
                        continue
                    if not _not_implemented(exc):
                        raise
                    tags = None
                if tags is not None:
                    if tags.get(MANAGED_TAG) != "true":
                        continue
                    try:
                        request_id = int(tags.get(REQUEST_TAG, ""))
                    except ValueError:
                        log.warning(
                            "permission set %s is tagged %s=true but %s=%r is not a request id",
                            arn,
                            MANAGED_TAG,
                            REQUEST_TAG,
                            tags.get(REQUEST_TAG),
                        )
                        continue
                    source = "tags"
                else:
                    described_id = _described_request_id(described)
                    if described_id is None:
                        continue
                    request_id, source = described_id, "description"
                found.append(JitPermissionSet(arn, described["Name"], created, request_id, source))
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(step, exc) from exc
        return found

    def _permission_set_names(self, instance_arn: str) -> set[str]:
        """Casefolded names of the permission sets now in the instance: a fresh
        ``ListPermissionSets``, ``DescribePermissionSet`` only for ARNs not seen before.
        Raises botocore's exceptions."""
        names: set[str] = set()
        for arn in self._paginate(
            "sso-admin", "list_permission_sets", "PermissionSets", InstanceArn=instance_arn
        ):
            with self._lock:
                name = self._names_by_arn.get(arn)
            if name is None:
                described = self._describe_permission_set(instance_arn, arn)
                if described is None:
                    continue
                name = described["Name"]
            names.add(name.casefold())
        return names

    def _permission_set_exists(self, instance_arn: str, arn: str) -> bool:
        """Whether ``DescribePermissionSet`` finds the set (True when it cannot tell)."""
        try:
            return self._describe_permission_set(instance_arn, arn) is not None
        except (ClientError, BotoCoreError):
            return True

    def _permission_set_tags(self, instance_arn: str, arn: str) -> dict[str, str]:
        """``{key: value}`` from ``ListTagsForResource`` (paginated). Raises botocore's
        exceptions, and ``NotImplementedError`` once the endpoint was found not to
        implement the call (in-process moto; remembered)."""
        if self._tagging_unsupported:
            raise NotImplementedError("ListTagsForResource is not implemented by this endpoint")
        try:
            return {
                tag["Key"]: tag.get("Value", "")
                for tag in self._paginate(
                    "sso-admin",
                    "list_tags_for_resource",
                    "Tags",
                    InstanceArn=instance_arn,
                    ResourceArn=arn,
                )
            }
        except NotImplementedError:
            self._tagging_unsupported = True
            log.warning("ListTagsForResource is not implemented by this endpoint (moto?)")
            raise

    def _roll_back(self, instance_arn: str, arn: str, what: str) -> str | None:
        """Delete a half-made custom permission set; None when done, else the problem
        (logged)."""
        client = self._client("sso-admin")
        try:
            self._write(
                "DeletePermissionSet",
                lambda: client.delete_permission_set(
                    InstanceArn=instance_arn, PermissionSetArn=arn
                ),
                what=what,
            )
        except (ClientError, BotoCoreError) as exc:
            if not _gone(exc):
                log.error(
                    "%s: rolling back, DeletePermissionSet %s failed: %s", what, arn, _describe(exc)
                )
                return f"sso-admin DeletePermissionSet: {_describe(exc)}"
        self._forget(arn)
        log.info("%s: rolled back, deleted %s", what, arn)
        return None

    def _forget(self, arn: str) -> None:
        """Drop a deleted permission set from every cache and record."""
        with self._lock:
            self._created.pop(arn, None)
            self._assigned_accounts.pop(arn, None)
            self._names_by_arn.pop(arn, None)
            if self._permission_sets is not None:
                for name in [n for n, a in self._permission_sets.items() if a == arn]:
                    del self._permission_sets[name]
                    if self._session_durations is not None:
                        self._session_durations.pop(name, None)

    def _write(
        self,
        operation: str,
        call: Callable[[], Any],
        *,
        what: str,
        retry_conflict: Callable[[ClientError], bool] = lambda exc: True,
    ) -> Any:
        """``call()``, retried with backoff up to ``write_attempts`` times while AWS
        answers ``ThrottlingException``, or ``ConflictException`` for which
        ``retry_conflict`` is true. Raises botocore's exception of the last attempt."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except ClientError as exc:
                code = _error_code(exc)
                retryable = code in _RETRYABLE_WRITE_ERRORS and (
                    code != "ConflictException" or retry_conflict(exc)
                )
                if not retryable or attempt >= self._write_attempts:
                    raise
                delay = self._backoff(attempt)
                log.info(
                    "%s: %s answered %s, retrying in %.1f s (attempt %d of %d)",
                    what,
                    operation,
                    code,
                    delay,
                    attempt,
                    self._write_attempts,
                )
                self._sleep(delay)

    # ----------------------------------------------------------------- health

    def ping(self) -> str | None:
        """One cheap call (``sso-admin ListPermissionSets``, one result) to tell whether
        Identity Center answers, for ``/healthz``: None when it does, else the problem."""
        try:
            self._client("sso-admin").list_permission_sets(
                InstanceArn=self.instance_arn, MaxResults=1
            )
        except (ClientError, BotoCoreError, AwsError) as exc:
            return f"sso-admin ListPermissionSets: {_describe(exc)}"
        return None

    def check(self) -> list[str]:
        """Problems reaching what the bot needs in AWS, for ``jitbot check-config``.

        Tries ``sso-admin ListInstances`` (and that the configured instance exists),
        ``ListPermissionSets`` and an identitystore ``GetUserId`` of an address that does
        not exist (``ResourceNotFoundException`` is the healthy answer). Organizations
        is optional (account names only) and is not reported here. Returns ``[]`` when
        all is fine, else lines like ``"sso-admin ListInstances: AccessDeniedException: …"``.
        """
        problems: list[str] = []
        with self._lock:
            fully_configured = bool(self._instance_arn and self._identity_store_id)
            try:
                self._discover_instance()  # also checks that the configured ids exist
            except AwsError as exc:
                # With both ids configured the bot never needs sso:ListInstances.
                if not (fully_configured and exc.code in ("AccessDeniedException", "AccessDenied")):
                    return [str(exc)]
        instance_arn, store_id = self.instance_arn, self.identity_store_id
        try:
            self._client("sso-admin").list_permission_sets(InstanceArn=instance_arn, MaxResults=1)
        except (ClientError, BotoCoreError) as exc:
            problems.append(f"sso-admin ListPermissionSets: {_describe(exc)}")
        try:
            self._client("identitystore").get_user_id(
                IdentityStoreId=store_id,
                AlternateIdentifier={
                    "UniqueAttribute": {
                        "AttributePath": "userName",
                        "AttributeValue": "jitbot-check-config@invalid.example",
                    }
                },
            )
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                problems.append(f"identitystore GetUserId: {_describe(exc)}")
        except BotoCoreError as exc:
            problems.append(f"identitystore GetUserId: {_describe(exc)}")
        return problems
