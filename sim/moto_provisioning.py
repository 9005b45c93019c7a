"""moto's permission set provisioning and inline policies made as strict as AWS where
ending open sign-ins relies on them (installed by :func:`sim.moto_fixes.install`):

7. ``ProvisionPermissionSet`` honours ``TargetType`` / ``TargetId`` (``AWS_ACCOUNT``
   needs a ``TargetId``), answers ``IN_PROGRESS`` with a request id, and copies the set's
   inline policy to the IAM role in the account(s) (:func:`role_policy`);
   ``DescribePermissionSetProvisioningStatus`` (missing in moto 5.2) answers
   ``SUCCEEDED`` for a request it made, ``ResourceNotFoundException`` otherwise. See
   https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ProvisionPermissionSet.html
   and
   https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribePermissionSetProvisioningStatus.html
   (moto ignores the target, answers ``SUCCEEDED`` at once, and lists the set as
   provisioned to its own account for good).
8. ``PutInlinePolicyToPermissionSet`` refuses a policy over 32,768 characters, over
   10,240 non-whitespace bytes, or not JSON (``ValidationException``; the message
   texts are moto's own). The API reference gives the length limit,
   https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutInlinePolicyToPermissionSet.html,
   the quotas page the other, https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html.
   A policy changed this way reaches an account's role only when provisioned there.
9. ``DeleteAccountAssignment`` of the last assignment of a set in an account takes the
   set (its role) out of that account: ``ListAccountsForProvisionedPermissionSet`` no
   longer names it. This is the behaviour jitbot assumes of AWS (the role of a set is
   there while the set is assigned there), not a documented sentence.

Test and demo code only.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.ssoadmin.exceptions import ResourceNotFoundException
from moto.ssoadmin.models import SSOAdminBackend
from moto.ssoadmin.responses import SSOAdminResponse

INLINE_POLICY_LIMIT = 32768
NON_WHITESPACE_LIMIT = 10240


class ValidationException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


def _state(backend: SSOAdminBackend, name: str) -> dict:
    found = backend.__dict__.get(name)
    if found is None:
        found = backend.__dict__[name] = {}
    return found


def role_policy(backend: SSOAdminBackend, permission_set_arn: str, account_id: str) -> str:
    """The inline policy the set's IAM role in ``account_id`` holds (as last provisioned
    there; ``""`` for none)."""
    return _state(backend, "_jitbot_role_policies").get((permission_set_arn, account_id), "")


def patch(provisioned: Any) -> None:
    """Install 7-9; ``provisioned(backend)`` is moto_fixes' ``(instance, set) ->
    accounts`` map."""
    _patch_backend(provisioned)
    _patch_responses(provisioned)


def _patch_backend(provisioned: Any) -> None:
    put_policy = SSOAdminBackend.put_inline_policy_to_permission_set
    create_assignment = SSOAdminBackend.create_account_assignment
    delete_assignment = SSOAdminBackend.delete_account_assignment

    def create_account_assignment(self: SSOAdminBackend, **kw: Any) -> Any:
        result = create_assignment(self, **kw)
        found = self._find_permission_set(kw["instance_arn"], kw["permission_set_arn"])
        key = (kw["permission_set_arn"], kw["target_id"])
        _state(self, "_jitbot_role_policies")[key] = found.inline_policy or ""
        return result

    def put_inline_policy_to_permission_set(
        self: SSOAdminBackend, instance_arn: str, permission_set_arn: str, inline_policy: str
    ) -> None:
        if len(inline_policy) > INLINE_POLICY_LIMIT:
            raise ValidationException(
                f"Member must have length less than or equal to {INLINE_POLICY_LIMIT}"
            )
        if len("".join(inline_policy.split()).encode()) > NON_WHITESPACE_LIMIT:
            raise ValidationException("The inline policy exceeds the maximum policy size.")
        try:
            json.loads(inline_policy)
        except ValueError as exc:
            raise ValidationException("The policy is not in the valid JSON format.") from exc
        put_policy(self, instance_arn, permission_set_arn, inline_policy)

    def delete_account_assignment(self: SSOAdminBackend, **kw: Any) -> Any:
        result = delete_assignment(self, **kw)
        instance, arn, account = kw["instance_arn"], kw["permission_set_arn"], kw["target_id"]
        if not any(
            (a.instance_arn, a.permission_set_arn, a.target_id) == (instance, arn, account)
            for a in self.account_assignments
        ):
            provisioned(self).get((instance, arn), set()).discard(account)
        return result

    SSOAdminBackend.put_inline_policy_to_permission_set = put_inline_policy_to_permission_set  # type: ignore[method-assign]
    SSOAdminBackend.create_account_assignment = create_account_assignment  # type: ignore[method-assign]
    SSOAdminBackend.delete_account_assignment = delete_account_assignment  # type: ignore[method-assign]


def _patch_responses(provisioned: Any) -> None:
    def provision_permission_set(self: SSOAdminResponse) -> str:
        params = json.loads(self.body or "{}")
        backend = self.ssoadmin_backend
        instance, arn = params.get("InstanceArn"), params.get("PermissionSetArn")
        found = backend._find_permission_set(instance, arn)
        accounts = provisioned(backend).setdefault((instance, arn), set())
        if params.get("TargetType") == "AWS_ACCOUNT":
            if not params.get("TargetId"):
                raise ValidationException("TargetId is required for TargetType AWS_ACCOUNT")
            accounts.add(params["TargetId"])
            targets = [params["TargetId"]]
        else:
            targets = sorted(accounts)
        for account in targets:
            _state(backend, "_jitbot_role_policies")[(arn, account)] = found.inline_policy or ""
        status = {
            "AccountId": params.get("TargetId"),
            "CreatedDate": unix_time(),
            "PermissionSetArn": arn,
            "RequestId": str(uuid.uuid4()),
            "Status": "IN_PROGRESS",
        }
        _state(backend, "_jitbot_provisionings")[status["RequestId"]] = status
        return json.dumps({"PermissionSetProvisioningStatus": status})

    def describe_permission_set_provisioning_status(self: SSOAdminResponse) -> str:
        params = json.loads(self.body or "{}")
        found = _state(self.ssoadmin_backend, "_jitbot_provisionings").get(
            params.get("ProvisionPermissionSetRequestId")
        )
        if found is None:
            raise ResourceNotFoundException("Provisioning request not found")
        found["Status"] = "SUCCEEDED"
        return json.dumps({"PermissionSetProvisioningStatus": found})

    SSOAdminResponse.provision_permission_set = provision_permission_set  # type: ignore[method-assign]
    SSOAdminResponse.describe_permission_set_provisioning_status = (  # type: ignore[attr-defined]
        describe_permission_set_provisioning_status
    )
