"""The catalogue of the instance: permission sets (ARNs, session durations, policies)
and account names, cached until refreshed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workflows.aws.base import Plumbing
from workflows.aws.errors import (
    _ORGANIZATIONS_UNAVAILABLE,
    _describe,
    _error_code,
    _gone,
    _wrap,
)
from workflows.aws.values import (
    _duration_text,
)

log = logging.getLogger("jitbot.aws")


class Catalog(Plumbing):
    """The instance's permission sets (names, ARNs, session durations, policies) and
    the organization's account names, cached until :meth:`refresh_catalog`."""

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
        """Forget the cached permission sets, session durations, account names and
        sensitive accounts (read again on next use)."""
        with self._lock:
            self._permission_sets = None
            self._session_durations = None
            self._account_names = None
            self._sensitive = None
