"""What the drift reconciler and the custom-set cleanup read: assignments of a set in an
account, and the permission sets jitbot created (known by their tags)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from workflows.assignments import Assignment, JitPermissionSet
from workflows.aws.catalog import describe_permission_set
from workflows.aws.clients import Clients
from workflows.aws.errors import AWS_ERRORS, gone, wrap
from workflows.aws.naming import JIT_PREFIX, MANAGED_TAG, REQUEST_TAG

log = logging.getLogger("jitbot.aws")


def permission_set_tags(clients: Clients, arn: str) -> dict[str, str]:
    """``{key: value}`` from ``ListTagsForResource`` (paginated). Raises botocore's errors.
    https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListTagsForResource.html"""
    return {
        tag["Key"]: tag.get("Value", "")
        for tag in clients.paginate(
            "sso-admin",
            "list_tags_for_resource",
            "Tags",
            InstanceArn=clients.instance_arn,
            ResourceArn=arn,
        )
    }


def tagged_request_id(arn: str, tags: dict[str, str]) -> int | None:
    """The request id of a set tagged ``jitbot:managed=true``, else None (a managed tag
    with a request id that is not a number is logged)."""
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


def _utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Listings:
    """Assignments and jitbot's permission sets, read fresh (not cached)."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients

    def account_assignments(self, account_id: str, permission_set_arn: str) -> list[Assignment]:
        """Every assignment of ``permission_set_arn`` in account ``account_id``, users and
        groups alike (``principal_type`` ``"USER"`` / ``"GROUP"``), in AWS's order.

        ``ListAccountAssignments(InstanceArn, AccountId, PermissionSetArn)``, paginated.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountAssignments.html

        :raises AwsError: the call failed (the message names the account).
        """
        try:
            return [
                Assignment(
                    account_id=item.get("AccountId") or account_id,
                    permission_set_arn=item.get("PermissionSetArn") or permission_set_arn,
                    principal_id=item["PrincipalId"],
                    principal_type=item.get("PrincipalType") or "USER",
                )
                for item in self._clients.paginate(
                    "sso-admin",
                    "list_account_assignments",
                    "AccountAssignments",
                    InstanceArn=self._clients.instance_arn,
                    AccountId=account_id,
                    PermissionSetArn=permission_set_arn,
                )
                if item.get("PrincipalId")
            ]
        except AWS_ERRORS as exc:
            raise wrap(f"sso-admin ListAccountAssignments ({account_id})", exc) from exc

    def has_assignment(self, assignment: Assignment) -> bool:
        """Whether the principal currently has this permission set in this account
        (``ListAccountAssignments``, matching ``PrincipalType`` and ``PrincipalId``).

        :raises AwsError: the call failed.
        """
        found = self.account_assignments(assignment.account_id, assignment.permission_set_arn)
        return any(
            a.principal_type == assignment.principal_type
            and a.principal_id == assignment.principal_id
            for a in found
        )

    def custom_permission_sets(self) -> dict[str, int]:
        """``{ARN: request id}`` of every permission set tagged ``jitbot:managed=true``
        with a numeric ``jitbot:request-id``, for cleaning up sets whose request is over.

        ``ListPermissionSets`` then ``ListTagsForResource`` of each (not cached).

        :raises AwsError: a call failed.
        """
        try:
            arns = self._clients.list_permission_sets()
        except AWS_ERRORS as exc:
            raise wrap("sso-admin ListPermissionSets", exc) from exc
        result: dict[str, int] = {}
        for arn in arns:
            try:
                tags = permission_set_tags(self._clients, arn)
            except AWS_ERRORS as exc:
                if gone(exc):
                    continue
                raise wrap(f"sso-admin ListTagsForResource ({arn})", exc) from exc
            request_id = tagged_request_id(arn, tags)
            if request_id is not None:
                result[arn] = request_id
        return result

    def jit_permission_sets(self) -> list[JitPermissionSet]:
        """The ``JIT-`` permission sets jitbot created, with their creation time and
        request id, for the drift reconciler (orphan sets). Not cached.

        ``ListPermissionSets``, then ``DescribePermissionSet`` of each (name,
        ``CreatedDate``) and, for the ``JIT-`` ones, ``ListTagsForResource``: a set is
        jitbot's when tagged ``jitbot:managed=true`` with a numeric
        ``jitbot:request-id`` (``source="tags"``), whatever its description says. Sets
        deleted meanwhile are skipped.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribePermissionSet.html

        :returns: the sets, in ``ListPermissionSets`` order; ``created_at`` is aware UTC.
        :raises AwsError: a call failed (the message names it).
        """
        found: list[JitPermissionSet] = []
        step = "sso-admin ListPermissionSets"
        try:
            for arn in self._clients.list_permission_sets():
                step = f"sso-admin DescribePermissionSet ({arn})"
                described = describe_permission_set(self._clients, arn)
                if described is None or not str(described.get("Name", "")).startswith(JIT_PREFIX):
                    continue
                step = f"sso-admin ListTagsForResource ({arn})"
                try:
                    tags = permission_set_tags(self._clients, arn)
                except AWS_ERRORS as exc:
                    if gone(exc):
                        continue
                    raise
                request_id = tagged_request_id(arn, tags)
                if request_id is not None:
                    created = _utc(described.get("CreatedDate"))
                    found.append(
                        JitPermissionSet(arn, described["Name"], created, request_id, "tags")
                    )
        except AWS_ERRORS as exc:
            raise wrap(step, exc) from exc
        return found
