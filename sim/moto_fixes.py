"""Make moto's IAM Identity Center (``sso-admin``) behave like AWS where jitbot relies on it.

moto 5.2 is lenient where AWS is not; :func:`install` patches its ``SSOAdminBackend``
(``moto.ssoadmin.models``) and ``SSOAdminResponse`` (``moto.ssoadmin.responses``) so
that, in this process (``mock_aws`` and ``ThreadedMotoServer`` alike):

1. ``TagResource`` / ``UntagResource`` / ``ListTagsForResource`` work for permission
   sets; tags given to ``CreatePermissionSet`` are returned. Response shape
   ``{"Tags": [{"Key", "Value"}], "NextToken"?}``, see
   https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListTagsForResource.html
2. ``CreatePermissionSet`` with a name already used in the instance raises
   ``ConflictException`` "PermissionSet with name X already exists.". The API reference
   (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreatePermissionSet.html)
   lists ``ConflictException`` only in general words ("a conflict with a previous
   successful write"); the message is AWS's observed answer (e.g.
   https://github.com/avlcloudtechnologies/terraform-aws-sso/issues/6). That names are
   compared case-insensitively is jitbot's cautious assumption, not documented.
3. ``CreateAccountAssignment`` provisions the permission set to the target account, so
   ``ListAccountsForProvisionedPermissionSet`` and
   ``ListPermissionSetsProvisionedToAccount`` name it, see
   https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html
   ("As part of a successful CreateAccountAssignment call, the specified permission set
   will automatically be provisioned to the account").
4. ``DeletePermissionSet`` of a set that still has account assignments raises
   ``ConflictException``. The API reference
   (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DeletePermissionSet.html)
   lists ``ConflictException`` in the same general words as above and does not say
   this case; the refusal (and its message text here) is what AWS does for a set still
   provisioned, as jitbot relies on it, not a documented sentence.
5. A set created without ``SessionDuration`` describes as ``"PT1H"`` (AWS's default,
   ISO 8601 text; moto answers the number 3600), see the ``SessionDuration`` of
   https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PermissionSet.html
6. ``PutPermissionsBoundaryToPermissionSet`` / ``GetPermissionsBoundaryForPermissionSet``
   / ``DeletePermissionsBoundaryFromPermissionSet`` (missing in moto 5.2), see
   https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutPermissionsBoundaryToPermissionSet.html
   and
   https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_GetPermissionsBoundaryForPermissionSet.html
   (``{"PermissionsBoundary": {"ManagedPolicyArn"} | {"CustomerManagedPolicyReference":
   {"Name", "Path"}}}``; a set without one answers ``ResourceNotFoundException``).
7.-9. Provisioning, inline policies and the last assignment's role: see
   :mod:`sim.moto_provisioning`.

Test and demo code only (``sim`` is never imported by the product).
"""

from __future__ import annotations

import json
from typing import Any

from moto.ssoadmin.exceptions import ConflictException, ResourceNotFoundException
from moto.ssoadmin.models import SSOAdminBackend
from moto.ssoadmin.responses import SSOAdminResponse

from sim import moto_provisioning

_MARK = "_jitbot_moto_fixes"


def _provisioned(backend: SSOAdminBackend) -> dict[tuple[str, str], set[str]]:
    """``(instance_arn, permission_set_arn) -> account ids`` it is provisioned to."""
    found = backend.__dict__.get("_jitbot_provisioned")
    if found is None:
        found = backend.__dict__["_jitbot_provisioned"] = {}
    return found


def _patch_backend() -> None:
    create_set = SSOAdminBackend.create_permission_set
    delete_set = SSOAdminBackend.delete_permission_set
    create_assignment = SSOAdminBackend.create_account_assignment
    accounts_for_set = SSOAdminBackend.list_accounts_for_provisioned_permission_set

    def create_permission_set(self: SSOAdminBackend, **kw: Any) -> Any:
        name = str(kw["name"])
        for existing in self.permission_sets:
            same_instance = existing.instance_arn == kw.get("instance_arn")
            if same_instance and existing.name.lower() == name.lower():
                raise ConflictException(f"PermissionSet with name {name} already exists.")
        if not isinstance(kw.get("session_duration"), str):
            kw["session_duration"] = "PT1H"
        return create_set(self, **kw)

    def delete_permission_set(
        self: SSOAdminBackend, instance_arn: str, permission_set_arn: str
    ) -> Any:
        if any(
            a.instance_arn == instance_arn and a.permission_set_arn == permission_set_arn
            for a in self.account_assignments
        ):
            raise ConflictException(
                "Could not delete because PermissionSet has ApplicationProfile"
                " associated with it or is provisioned to accounts."
            )
        result = delete_set(self, instance_arn, permission_set_arn)
        _provisioned(self).pop((instance_arn, permission_set_arn), None)
        return result

    def create_account_assignment(self: SSOAdminBackend, **kw: Any) -> Any:
        result = create_assignment(self, **kw)
        key = (kw["instance_arn"], kw["permission_set_arn"])
        _provisioned(self).setdefault(key, set()).add(kw["target_id"])
        return result

    def list_accounts_for_provisioned_permission_set(
        self: SSOAdminBackend, instance_arn: str, permission_set_arn: str
    ) -> list[str]:
        listed = accounts_for_set(
            self, instance_arn=instance_arn, permission_set_arn=permission_set_arn
        )
        extra = _provisioned(self).get((instance_arn, permission_set_arn), set())
        return sorted(set(listed) | extra)

    SSOAdminBackend.create_permission_set = create_permission_set  # type: ignore[method-assign]
    SSOAdminBackend.delete_permission_set = delete_permission_set  # type: ignore[method-assign]
    SSOAdminBackend.create_account_assignment = create_account_assignment  # type: ignore[method-assign]
    SSOAdminBackend.list_accounts_for_provisioned_permission_set = (  # type: ignore[method-assign]
        list_accounts_for_provisioned_permission_set
    )


def _tagged_set(response: SSOAdminResponse) -> Any:
    """The permission set named by ``ResourceArn`` (+ ``InstanceArn``) of the request."""
    params = json.loads(response.body or "{}")
    found = response.ssoadmin_backend._find_permission_set(
        params.get("InstanceArn"), params.get("ResourceArn")
    )
    if found.tags is None:
        found.tags = []
    return found, params


def _boundary_responses() -> dict[str, Any]:
    """The three permissions boundary calls, as ``SSOAdminResponse`` methods."""

    def put_permissions_boundary_to_permission_set(self: SSOAdminResponse) -> str:
        params = json.loads(self.body or "{}")
        found = self.ssoadmin_backend._find_permission_set(
            params.get("InstanceArn"), params.get("PermissionSetArn")
        )
        found.permissions_boundary = params["PermissionsBoundary"]
        return "{}"

    def get_permissions_boundary_for_permission_set(self: SSOAdminResponse) -> str:
        params = json.loads(self.body or "{}")
        found = self.ssoadmin_backend._find_permission_set(
            params.get("InstanceArn"), params.get("PermissionSetArn")
        )
        boundary = getattr(found, "permissions_boundary", None)
        if boundary is None:
            raise ResourceNotFoundException("Could not find permissions boundary")
        return json.dumps({"PermissionsBoundary": boundary})

    def delete_permissions_boundary_from_permission_set(self: SSOAdminResponse) -> str:
        params = json.loads(self.body or "{}")
        found = self.ssoadmin_backend._find_permission_set(
            params.get("InstanceArn"), params.get("PermissionSetArn")
        )
        found.permissions_boundary = None
        return "{}"

    return {
        f.__name__: f
        for f in (
            put_permissions_boundary_to_permission_set,
            get_permissions_boundary_for_permission_set,
            delete_permissions_boundary_from_permission_set,
        )
    }


def _patch_responses() -> None:
    def list_tags_for_resource(self: SSOAdminResponse) -> str:
        found, _ = _tagged_set(self)
        return json.dumps({"Tags": [dict(t) for t in found.tags]})

    def tag_resource(self: SSOAdminResponse) -> str:
        found, params = _tagged_set(self)
        new = {t["Key"]: t["Value"] for t in params.get("Tags", [])}
        kept = [t for t in found.tags if t["Key"] not in new]
        found.tags = kept + [{"Key": k, "Value": v} for k, v in new.items()]
        return "{}"

    def untag_resource(self: SSOAdminResponse) -> str:
        found, params = _tagged_set(self)
        gone = set(params.get("TagKeys", []))
        found.tags = [t for t in found.tags if t["Key"] not in gone]
        return "{}"

    def list_permission_sets_provisioned_to_account(self: SSOAdminResponse) -> str:
        params = json.loads(self.body or "{}")
        backend = self.ssoadmin_backend
        account = params.get("AccountId")
        arns = [
            arn
            for (instance, arn), accounts in _provisioned(backend).items()
            if instance == params.get("InstanceArn") and account in accounts
        ]
        if account == self.current_account:
            listed = backend.list_permission_sets_provisioned_to_account(params["InstanceArn"])
            arns += [p.permission_set_arn for p in listed if p.permission_set_arn not in arns]
        return json.dumps({"PermissionSets": arns})

    def list_regions(self: SSOAdminResponse) -> str:
        # an instance without additional Regions: its own Region, primary (AWS's answer)
        region = {"RegionName": self.region, "Status": "ACTIVE", "IsPrimaryRegion": True}
        return json.dumps({"Regions": [region]})

    SSOAdminResponse.list_regions = list_regions  # type: ignore[attr-defined]
    for name, method in _boundary_responses().items():
        setattr(SSOAdminResponse, name, method)
    SSOAdminResponse.list_tags_for_resource = list_tags_for_resource  # type: ignore[attr-defined]
    SSOAdminResponse.tag_resource = tag_resource  # type: ignore[attr-defined]
    SSOAdminResponse.untag_resource = untag_resource  # type: ignore[attr-defined]
    SSOAdminResponse.list_permission_sets_provisioned_to_account = (  # type: ignore[method-assign]
        list_permission_sets_provisioned_to_account
    )


def install() -> None:
    """Patch moto's ``sso-admin`` in this process; calling it again does nothing."""
    if getattr(SSOAdminBackend, _MARK, False):
        return
    _patch_backend()
    _patch_responses()
    moto_provisioning.patch(_provisioned)
    setattr(SSOAdminBackend, _MARK, True)
