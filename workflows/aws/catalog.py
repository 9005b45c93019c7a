"""What the instance offers, for the request form: permission sets (ARN, session
duration, policies) and account names. Cached until :meth:`Catalog.refresh`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from workflows.aws.clients import Clients
from workflows.aws.errors import (
    AWS_ERRORS,
    ORGANIZATIONS_UNAVAILABLE,
    describe,
    error_code,
    gone,
    wrap,
)
from workflows.aws.naming import duration_text

log = logging.getLogger("jitbot.aws")


def describe_permission_set(clients: Clients, arn: str) -> dict[str, Any] | None:
    """``DescribePermissionSet``'s ``PermissionSet``, or None when it is gone. Raises
    botocore's other errors."""
    try:
        return clients.client("sso-admin").describe_permission_set(
            InstanceArn=clients.instance_arn, PermissionSetArn=arn
        )["PermissionSet"]
    except ClientError as exc:
        if gone(exc):
            return None
        raise


class Catalog:
    """Permission sets and account names of the instance, cached."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients
        self._lock = clients.lock
        self._sets: tuple[dict[str, str], dict[str, str]] | None = None
        self._account_names: dict[str, str] | None = None

    def permission_set_arns(self) -> dict[str, str]:
        """``{name: ARN}`` of every permission set of the instance.

        ``ListPermissionSets`` (paginated) then ``DescribePermissionSet`` for each ARN
        (a set deleted in between is skipped).

        :raises AwsError: a call failed.
        """
        return dict(self._catalog()[0])

    def session_durations(self) -> dict[str, str]:
        """``{name: session duration}``: each set's ``SessionDuration``, ISO 8601 text
        such as ``"PT1H"`` (IAM Identity Center allows 1 to 12 hours), from the same
        answers as :meth:`permission_set_arns`; AWS's default ``"PT1H"`` when it has none.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PermissionSet.html

        :raises AwsError: a call failed.
        """
        return dict(self._catalog()[1])

    def _catalog(self) -> tuple[dict[str, str], dict[str, str]]:
        with self._lock:
            if self._sets is not None:
                return self._sets
        arns: dict[str, str] = {}
        durations: dict[str, str] = {}
        try:
            for arn in self._clients.list_permission_sets():
                described = describe_permission_set(self._clients, arn)
                if described is None:
                    continue
                arns[described["Name"]] = arn
                durations[described["Name"]] = duration_text(described.get("SessionDuration"))
        except AWS_ERRORS as exc:
            raise wrap("sso-admin ListPermissionSets/DescribePermissionSet", exc) from exc
        with self._lock:
            self._sets = arns, durations
        return arns, durations

    def permission_set_policies(
        self, names: Iterable[str]
    ) -> dict[str, tuple[frozenset[str], bool]]:
        """``{name: (AWS managed policy names, has an inline policy)}`` of the named sets
        (those that do not exist are left out), from ``ListManagedPoliciesInPermissionSet``
        and ``GetInlinePolicyForPermissionSet``: tells approvers when a standard set
        already covers a custom request.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListManagedPoliciesInPermissionSet.html

        :raises AwsError: a call failed.
        """
        arns = self.permission_set_arns()
        instance = self._clients.instance_arn
        found: dict[str, tuple[frozenset[str], bool]] = {}
        for name in names:
            arn = arns.get(name)
            if arn is None:
                continue
            try:
                managed = frozenset(
                    p["Name"]
                    for p in self._clients.paginate(
                        "sso-admin",
                        "list_managed_policies_in_permission_set",
                        "AttachedManagedPolicies",
                        InstanceArn=instance,
                        PermissionSetArn=arn,
                    )
                )
                inline = (
                    self._clients.client("sso-admin")
                    .get_inline_policy_for_permission_set(
                        InstanceArn=instance, PermissionSetArn=arn
                    )
                    .get("InlinePolicy")
                )
            except AWS_ERRORS as exc:
                raise wrap(f"sso-admin policies of permission set {name}", exc) from exc
            found[name] = (managed, bool(inline))
        return found

    def account_names(self) -> dict[str, str]:
        """``{account id: account name}`` from organizations ``ListAccounts`` (paginated).

        Names are only for display: when Organizations is not reachable or not allowed
        (``AccessDeniedException``, ``AWSOrganizationsNotInUseException``, network
        errors) this logs a warning and returns ``{}``. Cached, failures included.
        """
        with self._lock:
            if self._account_names is not None:
                return dict(self._account_names)
        result: dict[str, str] = {}
        try:
            for account in self._clients.paginate("organizations", "list_accounts", "Accounts"):
                result[account["Id"]] = account.get("Name") or account["Id"]
        except AWS_ERRORS as exc:
            if not isinstance(exc, ClientError):
                log.warning("organizations not reachable, no account names: %s", describe(exc))
            elif error_code(exc) in ORGANIZATIONS_UNAVAILABLE:
                log.warning(
                    "organizations ListAccounts not allowed or not in use, no account names: %s",
                    describe(exc),
                )
            else:
                log.warning(
                    "organizations ListAccounts failed, no account names: %s", describe(exc)
                )
            result = {}
        with self._lock:
            self._account_names = result
        return dict(result)

    def add(self, name: str, arn: str, session_duration: str) -> None:
        """Note a permission set just created (if the sets are cached)."""
        with self._lock:
            if self._sets is not None:
                self._sets[0][name] = arn
                self._sets[1][name] = session_duration

    def forget(self, arn: str) -> None:
        """Drop a deleted permission set from the cache."""
        with self._lock:
            if self._sets is not None:
                for name in [n for n, a in self._sets[0].items() if a == arn]:
                    del self._sets[0][name]
                    self._sets[1].pop(name, None)

    def refresh(self) -> None:
        """Forget the cached permission sets, session durations and account names (read
        again on next use)."""
        with self._lock:
            self._sets = None
            self._account_names = None
