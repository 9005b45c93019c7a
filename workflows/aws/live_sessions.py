"""What ending live sign-ins needs from Identity Center: a permission set's inline policy
(read, written, removed), whether it is provisioned to an account, its session duration,
and ``ProvisionPermissionSet`` to one account, polled to its final status.

AWS's documented way to end the IAM role sessions a permission set opened is a deny in
the set's inline policy, provisioned to the account (IAM Identity Center user guide,
"Revoke active IAM role sessions created by permission sets",
https://docs.aws.amazon.com/singlesignon/latest/userguide/useraccess.html#revoke-user-permissions,
and its deny policy page,
https://docs.aws.amazon.com/singlesignon/latest/userguide/prereqs-revoking-user-permissions.html).
The statement itself is built in :mod:`workflows.services.live_policy`.

API reference:
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_GetInlinePolicyForPermissionSet.html,
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutInlinePolicyToPermissionSet.html
("If the permission set is already referenced by one or more account assignments, you
will need to call ProvisionPermissionSet after this action"),
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ProvisionPermissionSet.html,
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribePermissionSetProvisioningStatus.html.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import AwsError
from workflows.aws.catalog import Catalog
from workflows.aws.errors import _wrap
from workflows.durations import parse_iso8601_duration

log = logging.getLogger("jitbot.aws")

#: Seconds between polls of ``DescribePermissionSetProvisioningStatus``.
PROVISION_POLL_INTERVAL = 1.0


class LiveSessions(Catalog):
    """Inline policies and provisioning of one permission set (state set up by
    :class:`~workflows.aws.IdentityCenter`). Every failure is an :class:`AwsError`
    whose ``code`` is AWS's error code (``ResourceNotFoundException`` for a set gone)."""

    def inline_policy(self, permission_set_arn: str) -> str:
        """The set's inline policy as AWS holds it; ``""`` when it has none (AWS answers
        an empty string then)."""
        try:
            answer = self._client("sso-admin").get_inline_policy_for_permission_set(
                InstanceArn=self.instance_arn, PermissionSetArn=permission_set_arn
            )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin GetInlinePolicyForPermissionSet", exc) from exc
        return str(answer.get("InlinePolicy") or "")

    def put_inline_policy(self, permission_set_arn: str, policy: str | None) -> None:
        """Replace the set's inline policy with ``policy`` (a JSON text of at most
        32,768 characters); None removes it (``DeleteInlinePolicyFromPermissionSet``).
        Throttling and ``ConflictException`` are retried (``write_attempts``)."""
        client = self._client("sso-admin")
        ids = {"InstanceArn": self.instance_arn, "PermissionSetArn": permission_set_arn}
        what = f"inline policy of {permission_set_arn}"
        if policy is None:
            operation = "DeleteInlinePolicyFromPermissionSet"
            call: Any = lambda: client.delete_inline_policy_from_permission_set(**ids)  # noqa: E731
        else:
            operation = "PutInlinePolicyToPermissionSet"
            call = lambda: client.put_inline_policy_to_permission_set(  # noqa: E731
                InlinePolicy=policy, **ids
            )
        try:
            self._write(operation, call, what=what)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(f"sso-admin {operation}", exc) from exc

    def is_provisioned(self, permission_set_arn: str, account_id: str) -> bool:
        """Whether the set is provisioned to ``account_id``, i.e. its IAM role is there
        (``ListAccountsForProvisionedPermissionSet``)."""
        try:
            accounts = self._paginate(
                "sso-admin",
                "list_accounts_for_provisioned_permission_set",
                "AccountIds",
                InstanceArn=self.instance_arn,
                PermissionSetArn=permission_set_arn,
            )
            return account_id in set(accounts)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListAccountsForProvisionedPermissionSet", exc) from exc

    def session_duration(self, permission_set_arn: str) -> timedelta | None:
        """The set's ``SessionDuration`` now; None when AWS does not say."""
        try:
            described = self._describe_permission_set(self.instance_arn, permission_set_arn)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin DescribePermissionSet", exc) from exc
        if described is None:
            raise AwsError(
                f"permission set {permission_set_arn} is gone", code="ResourceNotFoundException"
            )
        return parse_iso8601_duration(str(described.get("SessionDuration") or ""))

    def provision_to_account(self, permission_set_arn: str, account_id: str) -> None:
        """``ProvisionPermissionSet`` to ``account_id`` only (``TargetType
        AWS_ACCOUNT``), then poll ``DescribePermissionSetProvisioningStatus`` every
        :data:`PROVISION_POLL_INTERVAL` s until ``SUCCEEDED``.

        :raises AwsError: the call failed, the status is ``FAILED`` (the message holds
            AWS's ``FailureReason``), or it was still ``IN_PROGRESS`` after
            ``poll_timeout`` seconds.
        """
        client = self._client("sso-admin")
        what = f"provision {permission_set_arn} to {account_id}"
        try:
            status = self._write(
                "ProvisionPermissionSet",
                lambda: client.provision_permission_set(
                    InstanceArn=self.instance_arn,
                    PermissionSetArn=permission_set_arn,
                    TargetType="AWS_ACCOUNT",
                    TargetId=account_id,
                ),
                what=what,
            )["PermissionSetProvisioningStatus"]
            status = self._provisioned(client, status)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ProvisionPermissionSet", exc) from exc
        if status.get("Status") != "SUCCEEDED":
            reason = status.get("FailureReason") or f"still {status.get('Status')}"
            log.warning("%s: %s", what, reason)
            raise AwsError(f"{what}: {reason}", code=_error_code_of(status))
        log.info("%s: SUCCEEDED", what)

    def _provisioned(self, client: Any, status: dict[str, Any]) -> dict[str, Any]:
        """Poll until the provisioning leaves ``IN_PROGRESS`` or ``poll_timeout``."""
        started = self._clock()
        while status.get("Status") not in ("SUCCEEDED", "FAILED"):
            if self._clock() - started >= self.poll_timeout or not status.get("RequestId"):
                return status
            self._sleep(PROVISION_POLL_INTERVAL)
            status = client.describe_permission_set_provisioning_status(
                InstanceArn=self.instance_arn,
                ProvisionPermissionSetRequestId=status["RequestId"],
            )["PermissionSetProvisioningStatus"]
        return status


def _error_code_of(status: dict[str, Any]) -> str | None:
    return "ProvisioningFailed" if status.get("Status") == "FAILED" else None
