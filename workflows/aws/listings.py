"""What the drift reconciler reads: jitbot's custom permission sets (by their tags) and
the assignments of a permission set in an account.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import (
    Assignment,
    JitPermissionSet,
)
from workflows.aws.base import Plumbing
from workflows.aws.errors import (
    _gone,
    _wrap,
)
from workflows.aws.values import (
    JIT_PREFIX,
    MANAGED_TAG,
    REQUEST_TAG,
)

log = logging.getLogger("jitbot.aws")


class Listings(Plumbing):
    """What the drift reconciler lists: :meth:`custom_permission_sets`,
    :meth:`jit_permission_sets` and :meth:`account_assignments`."""

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

    def provisioned_accounts(self, permission_set_arn: str) -> set[str]:
        """The accounts ``permission_set_arn`` is provisioned to: every account that
        holds an assignment of it is among them, so the reconciler lists assignments
        only there (one call per set instead of one per account).

        ``ListAccountsForProvisionedPermissionSet``, paginated.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountsForProvisionedPermissionSet.html

        :raises AwsError: the call failed.
        """
        try:
            return set(
                self._paginate(
                    "sso-admin",
                    "list_accounts_for_provisioned_permission_set",
                    "AccountIds",
                    InstanceArn=self.instance_arn,
                    PermissionSetArn=permission_set_arn,
                )
            )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListAccountsForProvisionedPermissionSet", exc) from exc

    def custom_permission_sets(self) -> dict[str, int]:
        """``{ARN: request id}`` of every permission set tagged ``jitbot:managed=true``,
        for cleaning up sets whose request is over (drift).

        ``ListPermissionSets`` then ``ListTagsForResource`` of each set (not cached). A
        set tagged managed whose ``jitbot:request-id`` is not a number is logged and
        left out; a set deleted meanwhile is skipped. See
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListTagsForResource.html

        :raises AwsError: a call failed.
        """
        instance_arn = self.instance_arn
        result: dict[str, int] = {}
        for arn in self._permission_set_arns(instance_arn):
            try:
                tags = self._permission_set_tags(instance_arn, arn)
            except (ClientError, BotoCoreError) as exc:
                if _gone(exc):
                    continue
                raise _wrap(f"sso-admin ListTagsForResource ({arn})", exc) from exc
            request_id = _tagged_request_id(arn, tags)
            if request_id is not None:
                result[arn] = request_id
        return result

    def jit_permission_sets(self) -> list[JitPermissionSet]:
        """The ``JIT-`` permission sets jitbot created, with their creation time and
        request id, for the drift reconciler (orphan sets). Not cached.

        ``ListPermissionSets``, then for each set ``DescribePermissionSet`` (name,
        ``CreatedDate``) and, for the ``JIT-`` ones, ``ListTagsForResource``: a set is
        jitbot's when tagged ``jitbot:managed=true`` with a numeric
        ``jitbot:request-id``. A ``JIT-`` set without them is left out, whatever its
        description says. Sets deleted meanwhile are skipped.

        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribePermissionSet.html

        :returns: the sets, in ``ListPermissionSets`` order; ``created_at`` is aware UTC.
        :raises AwsError: a call failed.
        """
        instance_arn = self.instance_arn
        arns = self._permission_set_arns(instance_arn)
        found: list[JitPermissionSet] = []
        for arn in arns:
            jit = self._jit_permission_set(instance_arn, arn)
            if jit is not None:
                found.append(jit)
        return found

    def _jit_permission_set(self, instance_arn: str, arn: str) -> JitPermissionSet | None:
        """:meth:`jit_permission_sets`' answer for one set: None when it is not a ``JIT-``
        set of jitbot's, or gone. Raises :class:`AwsError` naming the failed call."""
        step = f"sso-admin DescribePermissionSet ({arn})"
        try:
            described = self._describe_permission_set(instance_arn, arn)
            if described is None or not str(described.get("Name", "")).startswith(JIT_PREFIX):
                return None
            step = f"sso-admin ListTagsForResource ({arn})"
            tags = self._permission_set_tags(instance_arn, arn)
        except (ClientError, BotoCoreError) as exc:
            if _gone(exc):
                return None
            raise _wrap(step, exc) from exc
        request_id = _tagged_request_id(arn, tags)
        if request_id is None:
            return None
        created = _utc(described.get("CreatedDate"))
        return JitPermissionSet(arn, described["Name"], created, request_id)

    def _permission_set_tags(self, instance_arn: str, arn: str) -> dict[str, str]:
        """``{key: value}`` from ``ListTagsForResource`` (paginated). Raises botocore's
        exceptions."""
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


def _tagged_request_id(arn: str, tags: dict[str, str]) -> int | None:
    """The request id of a set tagged ``jitbot:managed=true``; None when it is not so
    tagged, or its ``jitbot:request-id`` is not a number (logged)."""
    if tags.get(MANAGED_TAG) != "true":
        return None
    try:
        return int(tags.get(REQUEST_TAG, ""))
    except ValueError:
        log.warning(
            "permission set %s is tagged %s=true but %s=%r is not a request id",
            arn,
            MANAGED_TAG,
            REQUEST_TAG,
            tags.get(REQUEST_TAG),
        )
        return None


def _utc(created: object) -> datetime | None:
    """A ``CreatedDate`` as aware UTC (naive means UTC); None when it is not a datetime."""
    if not isinstance(created, datetime):
        return None
    return created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC)
