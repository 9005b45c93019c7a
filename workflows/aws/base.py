"""What every part of :class:`~workflows.aws.IdentityCenter` stands on: the boto3
session and clients (paced by the rate limiter), the Identity Center instance,
pagination, and the one retry-with-backoff helper for writes.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import (
    AwsError,
)
from workflows.aws import ratelimit
from workflows.aws.errors import (
    _error_code,
    _wrap,
    client_config,
)

log = logging.getLogger("jitbot.aws")


DEFAULT_REGION = "us-east-1"
_SERVICES = ("sso-admin", "identitystore", "organizations", "sts")


class Plumbing:
    """Clients, instance discovery, pagination and write retries (state set up by
    :class:`~workflows.aws.IdentityCenter`)."""

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
        """Pace ``client`` with :attr:`limiter` if it calls Identity Center (and, inside
        :meth:`~workflows.aws.paced.SharePacer.running`, with the reconciler's share)."""
        if self.limiter is not None and service in ratelimit.LIMITED_SERVICES:
            self.reconcile_pacer.attach(client)
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
        else:
            chosen = _the_active_instance(instances, self.region)
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

    def _permission_set_arns(self, instance_arn: str) -> list[str]:
        """Every permission set ARN in the instance (``ListPermissionSets``, paginated).

        :raises AwsError: the call failed.
        """
        try:
            return list(
                self._paginate(
                    "sso-admin", "list_permission_sets", "PermissionSets", InstanceArn=instance_arn
                )
            )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListPermissionSets", exc) from exc

    def _delete_permission_set(self, instance_arn: str, arn: str, what: str) -> None:
        """``DeletePermissionSet``, retried by :meth:`_write`; raises botocore's
        exceptions (the callers tell "already gone" apart themselves)."""
        client = self._client("sso-admin")
        self._write(
            "DeletePermissionSet",
            lambda: client.delete_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn),
            what=what,
        )

    def _backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: exponential, capped, jittered into
        [delay/2, delay]."""
        delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    def _write(
        self,
        operation: str,
        call: Callable[[], Any],
        *,
        what: str,
        retry_conflict: Callable[[ClientError], bool] = lambda exc: True,
        retry_quota: bool = False,
    ) -> Any:
        """``call()``, retried with jittered exponential backoff (:meth:`_backoff`):

        * ``ThrottlingException``: up to ``write_attempts`` attempts in all;
        * ``ConflictException`` for which ``retry_conflict`` is true (another change to
          a permission set in this account is under way: Identity Center allows one at
          a time, IAM Identity Center quotas page), and ``ServiceQuotaExceededException``
          when ``retry_quota`` (the assignment writes: the instance's 15 outstanding
          asynchronous write calls, shared with the console and other tools, are all
          taken): for ``conflict_retry_seconds`` of ``clock`` from the first attempt,
          however many attempts that takes (the last backoff is cut to end then, and
          one more attempt is made).

        Raises botocore's exception of the last attempt.
        """
        started = self._clock()
        attempt = throttled = 0
        while True:
            attempt += 1
            try:
                return call()
            except ClientError as exc:
                code = _error_code(exc)
                if code == "ThrottlingException":
                    throttled += 1
                    if throttled >= self._write_attempts:
                        raise
                    delay = self._backoff(attempt)
                elif (code == "ConflictException" and retry_conflict(exc)) or (
                    code == "ServiceQuotaExceededException" and retry_quota
                ):
                    left = self.conflict_retry_seconds - (self._clock() - started)
                    if left <= 0:
                        raise
                    delay = min(self._backoff(attempt), left)
                else:
                    raise
                log.info(
                    "%s: %s answered %s, retrying in %.1f s (attempt %d, %.0f s so far)",
                    what,
                    operation,
                    code,
                    delay,
                    attempt,
                    self._clock() - started,
                )
                self._sleep(delay)


def _the_active_instance(instances: list[dict[str, Any]], region: str) -> dict[str, Any]:
    """The one ``ACTIVE`` instance of ``ListInstances`` (an instance being created or
    deleted has no usable identity store). Several active ones (an organization
    instance and account instances, say) are not guessed between: the admin names one.

    :raises AwsError: none, or several, are active.
    """
    active = [i for i in instances if i.get("Status", "ACTIVE") == "ACTIVE"]
    if not active:
        states = ", ".join(f"{i.get('InstanceArn')} {i.get('Status')}" for i in instances)
        raise AwsError(
            f"sso-admin ListInstances: no ACTIVE Identity Center instance in {region} ({states})"
        )
    if len(active) > 1:
        listed = ", ".join(
            f"{i.get('InstanceArn')} (owner {i.get('OwnerAccountId', '?')})" for i in active
        )
        raise AwsError(
            f"sso-admin ListInstances: {len(active)} ACTIVE Identity Center instances in "
            f"{region} ({listed}); set identity_center.instance_arn to the organization's"
        )
    return active[0]
