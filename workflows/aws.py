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

All durations are in seconds. Every AWS failure that could not be overcome is raised as
:class:`AwsError` (or a subclass) with a human-readable message; botocore exceptions do
not leak out of this module.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import Assignment, AssignmentFailed, AssignmentTimeout, AwsError

__all__ = [
    "Assignment",
    "AssignmentFailed",
    "AssignmentTimeout",
    "AwsError",
    "IdentityCenter",
    "client_config",
]

log = logging.getLogger("jitbot.aws")

DEFAULT_REGION = "us-east-1"
#: Seconds an unknown email stays cached as "no such user" (a user created in Identity
#: Center shortly after is found without restarting the bot).
MISS_CACHE_TTL = 30.0

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
    :param poll_interval: seconds between two status polls of an assignment request.
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
        ``DeleteAccountAssignment`` when AWS answers ``ThrottlingException`` or an
        in-progress ``ConflictException`` (each attempt is itself retried by botocore).
    :param backoff_base: first backoff delay in seconds; it doubles per attempt (capped
        at ``backoff_cap``) and is jittered between half and the full delay.
    :param backoff_cap: longest single backoff delay in seconds.

    Thread-safe: the boto3 clients are, and the caches are guarded by a lock.
    """

    def __init__(
        self,
        *,
        session: boto3.session.Session | None = None,
        region: str | None = None,
        instance_arn: str | None = None,
        identity_store_id: str | None = None,
        poll_interval: float = 1.0,
        poll_timeout: float = 300.0,
        user_cache_ttl: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        clients: Mapping[str, Any] | None = None,
        write_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 20.0,
    ) -> None:
        if poll_interval < 0 or poll_timeout < 0 or user_cache_ttl < 0:
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
        self._clients: dict[str, Any] = dict(clients or {})
        self._lock = threading.RLock()
        self._users: dict[str, _Cached] = {}
        self._permission_sets: dict[str, str] | None = None
        self._account_names: dict[str, str] | None = None

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
                self._clients[service] = client
            return client

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

        :raises AwsError: any other failure (access denied, no instance, network...).
        """
        value = email.strip()
        if not value:
            return None
        key = value.casefold()
        now = self._clock()
        with self._lock:
            cached = self._users.get(key)
            if cached is not None and cached.expires_at > now:
                return cached.value
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

        ``ListPermissionSets`` (paginated) then ``DescribePermissionSet`` for each name.
        Cached until :meth:`refresh_catalog`.

        :raises AwsError: a call failed.
        """
        with self._lock:
            if self._permission_sets is not None:
                return dict(self._permission_sets)
        instance_arn = self.instance_arn
        client = self._client("sso-admin")
        result: dict[str, str] = {}
        try:
            for arn in self._paginate(
                "sso-admin", "list_permission_sets", "PermissionSets", InstanceArn=instance_arn
            ):
                described = client.describe_permission_set(
                    InstanceArn=instance_arn, PermissionSetArn=arn
                )
                result[described["PermissionSet"]["Name"]] = arn
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListPermissionSets/DescribePermissionSet", exc) from exc
        with self._lock:
            self._permission_sets = result
        return dict(result)

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
        """Forget the cached permission sets and account names (read again on next use)."""
        with self._lock:
            self._permission_sets = None
            self._account_names = None

    # ----------------------------------------------------------------- assignments

    def has_assignment(self, assignment: Assignment) -> bool:
        """Whether the user currently has this permission set in this account.

        ``ListAccountAssignments(InstanceArn, AccountId, PermissionSetArn)``, paginated,
        looking for ``PrincipalType == "USER"`` and the ``PrincipalId``.

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
                    item.get("PrincipalType") == "USER"
                    and item.get("PrincipalId") == assignment.principal_id
                ):
                    return True
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListAccountAssignments", exc) from exc
        return False

    def assign(self, assignment: Assignment) -> None:
        """Give the user the permission set in the account, and wait until it is live.

        ``CreateAccountAssignment`` (``TargetType=AWS_ACCOUNT``, ``PrincipalType=USER``),
        then ``DescribeAccountAssignmentCreationStatus`` every ``poll_interval`` seconds.
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
        :meth:`has_assignment` is False) counts as done.

        :raises AssignmentFailed: the deletion ended ``FAILED`` and the assignment is
            still there.
        :raises AssignmentTimeout: still ``IN_PROGRESS`` after ``poll_timeout`` seconds.
        :raises AwsError: any other failure.
        """
        self._change(assignment, create=False)

    def _change(self, assignment: Assignment, *, create: bool) -> None:
        verb = "assign" if create else "unassign"
        operation = "CreateAccountAssignment" if create else "DeleteAccountAssignment"
        client = self._client("sso-admin")
        call = client.create_account_assignment if create else client.delete_account_assignment
        status_key = (
            "AccountAssignmentCreationStatus" if create else "AccountAssignmentDeletionStatus"
        )
        instance_arn = self.instance_arn
        params = {
            "InstanceArn": instance_arn,
            "TargetId": assignment.account_id,
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": assignment.permission_set_arn,
            "PrincipalType": "USER",
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
        status = self._wait(status, create=create)
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

    def _wait(self, status: dict[str, Any], *, create: bool) -> dict[str, Any]:
        """Poll the request until it leaves IN_PROGRESS or ``poll_timeout`` passes;
        returns the last status (still IN_PROGRESS on timeout)."""
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
        while status.get("Status") not in ("SUCCEEDED", "FAILED"):
            if not request_id:
                raise AwsError(f"sso-admin {operation}: AWS returned no request id")
            remaining = self.poll_timeout - (self._clock() - started)
            if remaining <= 0:
                return status
            self._sleep(min(self.poll_interval, remaining))
            try:
                status = describe(InstanceArn=self.instance_arn, **{id_param: request_id})[key]
            except (ClientError, BotoCoreError) as exc:
                raise _wrap(f"sso-admin {operation} ({request_id})", exc) from exc
        return status

    def _backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: exponential, capped, jittered into
        [delay/2, delay]."""
        delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    # ----------------------------------------------------------------- health

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
