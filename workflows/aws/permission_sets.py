"""Deleting a ``JIT-`` custom permission set: only jitbot's own (by its tags), only
once unassigned everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import (
    AwsError,
)
from workflows.aws.base import Plumbing
from workflows.aws.errors import (
    _describe,
    _error_code,
    _gone,
    _wrap,
)
from workflows.aws.values import (
    MANAGED_TAG,
    REQUEST_TAG,
)

log = logging.getLogger("jitbot.aws")


class CustomSetDeletion(Plumbing):
    """Deletes a request's ``JIT-`` permission set (:meth:`delete_custom_permission_set`)."""

    def delete_custom_permission_set(
        self,
        permission_set_arn: str,
        *,
        request_id: int,
        account_ids: Iterable[str] = (),
    ) -> None:
        """Delete a permission set jitbot created for request ``request_id``.

        1. ``ListTagsForResource``: the set must carry ``jitbot:managed=true`` and
           ``jitbot:request-id=<request_id>``; tags that cannot be read (an access
           error, say) refuse the deletion;
        2. no account assignment of it may remain: ``ListAccountsForProvisionedPermissionSet``
           names the accounts it is provisioned to (``CreateAccountAssignment``
           provisions a set to its account), plus ``account_ids``, then
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
        if self._check_owner(instance_arn, arn, request_id):
            return
        if self._check_unassigned(instance_arn, arn, set(account_ids), what):
            return
        if self._delete_now(instance_arn, arn, what):
            return
        self._forget(arn)
        log.info("%s: deleted", what)

    def _check_owner(self, instance_arn: str, arn: str, request_id: int) -> bool:
        """Step 1 of :meth:`delete_custom_permission_set`: True when the set is gone
        already; raises :class:`AwsError` when it is not jitbot's for ``request_id``."""
        what = f"delete permission set {arn} of request {request_id}"
        try:
            tags = self._permission_set_tags(instance_arn, arn)
        except (ClientError, BotoCoreError) as exc:
            if _gone(exc) or not self._permission_set_exists(instance_arn, arn):
                return self._already_gone(arn, what, exc)
            raise AwsError(
                f"{_refusal(request_id)}: {arn} (its tags could not be read: "
                f"sso-admin ListTagsForResource: {_describe(exc)})",
                code=_error_code(exc) or None,
            ) from exc
        managed, owner = tags.get(MANAGED_TAG), tags.get(REQUEST_TAG)
        if managed != "true" or owner != str(request_id):
            raise AwsError(
                f"{_refusal(request_id)}: {arn} is tagged "
                f"{MANAGED_TAG}={managed!r}, {REQUEST_TAG}={owner!r}"
            )
        return False

    def _check_unassigned(self, instance_arn: str, arn: str, accounts: set[str], what: str) -> bool:
        """Step 2: True when the set is gone already; raises :class:`AwsError` when an
        account assignment of it remains (in ``accounts`` or where it is provisioned)."""
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
                return self._already_gone(arn, what, exc)
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
                    return self._already_gone(arn, what, exc)
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
        return False

    def _delete_now(self, instance_arn: str, arn: str, what: str) -> bool:
        """Step 3, ``DeletePermissionSet`` (retried): True when the set was gone
        already; raises :class:`AwsError` when it failed."""
        try:
            self._delete_permission_set(instance_arn, arn, what)
        except (ClientError, BotoCoreError) as exc:
            if _gone(exc):
                return self._already_gone(arn, what, exc)
            log.warning("%s: DeletePermissionSet failed: %s", what, _describe(exc))
            raise _wrap("sso-admin DeletePermissionSet", exc) from exc
        return False

    def _already_gone(self, arn: str, what: str, exc: BaseException) -> bool:
        """Log and forget a set found gone; True."""
        log.info("%s: already gone (%s)", what, _describe(exc))
        self._forget(arn)
        return True

    def _permission_set_exists(self, instance_arn: str, arn: str) -> bool:
        """Whether ``DescribePermissionSet`` finds the set (True when it cannot tell)."""
        try:
            return self._describe_permission_set(instance_arn, arn) is not None
        except (ClientError, BotoCoreError):
            return True

    def _forget(self, arn: str) -> None:
        """Drop a deleted permission set from every cache and record."""
        with self._lock:
            self._names_by_arn.pop(arn, None)
            if self._permission_sets is not None:
                for name in [n for n, a in self._permission_sets.items() if a == arn]:
                    del self._permission_sets[name]
                    if self._session_durations is not None:
                        self._session_durations.pop(name, None)


def _refusal(request_id: int) -> str:
    return f"refusing to delete a permission set jitbot did not create for request {request_id}"
