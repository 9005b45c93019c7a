"""The boto3 clients of the adapter, made in one place, and the Identity Center instance
they talk to.

Clients use botocore's standard retry mode, and the ``sso-admin`` and ``identitystore``
ones are paced by the client-side limiter (:mod:`workflows.aws.ratelimit`). The instance
ARN and identity store id come from configuration or from ``ListInstances``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import botocore.config

from workflows.assignments import AwsError
from workflows.aws import ratelimit
from workflows.aws.errors import AWS_ERRORS, wrap

log = logging.getLogger("jitbot.aws")

DEFAULT_REGION = "us-east-1"
#: The services the adapter uses, by boto3 name.
SERVICES = ("sso-admin", "identitystore", "organizations")


def client_config(max_attempts: int = 8) -> botocore.config.Config:
    """The botocore configuration of every client this package makes: standard retry
    mode (retries throttling and transient errors with backoff), 5 s connect timeout,
    20 s read timeout."""
    return botocore.config.Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=20,
    )


class Clients:
    """One boto3 client per service, made on first use, and the instance they target.

    :param session: boto3 session the clients are made from (default: a new one, the
        standard credential chain and ``AWS_ENDPOINT_URL``).
    :param region: default the session's region, else ``us-east-1``.
    :param instance_arn: / :param identity_store_id: discovered with ``ListInstances``
        (first instance, or the one matching the given id) when not given.
    :param clients: prebuilt clients by service name, for tests (botocore ``Stubber``).
    :param limiter: paces the ``sso-admin`` and ``identitystore`` clients; None: no pace.
    :raises ValueError: a prebuilt client under a name not in :data:`SERVICES`.
    """

    def __init__(
        self,
        *,
        session: boto3.session.Session | None,
        region: str | None,
        instance_arn: str | None,
        identity_store_id: str | None,
        clients: Mapping[str, Any] | None,
        limiter: ratelimit.TokenBucket | None,
    ) -> None:
        unknown = set(clients or ()) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown client names {sorted(unknown)}; expected {SERVICES}")
        self._session = session
        self._region = region
        self._instance_arn = instance_arn
        self._identity_store_id = identity_store_id
        self.limiter = limiter
        self.lock = threading.RLock()
        self._clients: dict[str, Any] = dict(clients or {})
        for service, prebuilt in self._clients.items():
            self._limit(service, prebuilt)

    @property
    def region(self) -> str:
        """Region the clients use: the argument, else the session's, else us-east-1."""
        return self._region or self._get_session().region_name or DEFAULT_REGION

    @property
    def fully_configured(self) -> bool:
        """Both the instance ARN and the identity store id were given (or found)."""
        return bool(self._instance_arn and self._identity_store_id)

    def _get_session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session

    def client(self, service: str) -> Any:
        """The boto3 client of ``service`` (one of :data:`SERVICES`)."""
        with self.lock:
            client = self._clients.get(service)
            if client is None:
                client = self._get_session().client(
                    service, region_name=self.region, config=client_config()
                )
                self._limit(service, client)
                self._clients[service] = client
            return client

    def _limit(self, service: str, client: Any) -> None:
        if self.limiter is not None and service in ratelimit.LIMITED_SERVICES:
            ratelimit.attach(client, self.limiter)

    def paginate(self, service: str, method: str, key: str, **kwargs: Any) -> Iterator[Any]:
        """The items under ``key`` of every page of ``method``. Raises botocore's errors."""
        client = self.client(service)
        for page in client.get_paginator(method).paginate(**kwargs):
            yield from page.get(key, [])

    def list_permission_sets(self) -> list[str]:
        """ARNs of every permission set of the instance. Raises botocore's errors."""
        return list(
            self.paginate(
                "sso-admin", "list_permission_sets", "PermissionSets", InstanceArn=self.instance_arn
            )
        )

    def discover_instance(self) -> None:
        """Fill in the instance ARN / identity store id from ``ListInstances``.

        :raises AwsError: the call failed, there is no instance, or none matches the
            configured ids.
        """
        operation = "sso-admin ListInstances"
        try:
            instances = list(self.paginate("sso-admin", "list_instances", "Instances"))
        except AWS_ERRORS as exc:
            raise wrap(operation, exc) from exc
        if not instances:
            raise AwsError(f"{operation}: no IAM Identity Center instance in {self.region}")
        matching = [
            i
            for i in instances
            if self._instance_arn in (None, i.get("InstanceArn"))
            and self._identity_store_id in (None, i.get("IdentityStoreId"))
        ]
        if not matching:
            raise AwsError(
                f"{operation}: no instance matches instance_arn={self._instance_arn!r} "
                f"identity_store_id={self._identity_store_id!r}"
            )
        self._instance_arn = matching[0]["InstanceArn"]
        self._identity_store_id = matching[0]["IdentityStoreId"]
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
        with self.lock:
            if not self._instance_arn:
                self.discover_instance()
            assert self._instance_arn
            return self._instance_arn

    @property
    def identity_store_id(self) -> str:
        """Identity store id of the instance (``ListInstances`` when not configured).

        :raises AwsError: ListInstances failed or there is no instance.
        """
        with self.lock:
            if not self._identity_store_id:
                self.discover_instance()
            assert self._identity_store_id
            return self._identity_store_id
