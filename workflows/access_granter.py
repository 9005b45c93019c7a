"""The port of Identity Center as the services and the reconciler need it
(:mod:`workflows.aws` is its adapter; ``tests/fakes.py`` has a hand-written fake)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from workflows.assignments import Assignment, JitPermissionSet, OperationStatus
from workflows.custom_sets.boundary import PermissionsBoundary


class AccessGranter(Protocol):
    """Identity Center as the services need it (see :mod:`workflows.aws`)."""

    def find_user_id(self, email: str) -> str | None: ...

    def assign(self, assignment: Assignment) -> None: ...

    def unassign(self, assignment: Assignment) -> None: ...

    def assignment_creation_status(self, request_id: str) -> OperationStatus:
        """Where an earlier ``CreateAccountAssignment`` (``AssignmentTimeout.request_id``)
        is now; raises ``AwsError`` when it cannot be read."""
        ...

    def create_custom_permission_set(
        self,
        *,
        name: str,
        session_duration: str,
        description: str,
        request_id: int,
        managed_policies: Sequence[str],
        inline_policy: str | None,
        permissions_boundary: PermissionsBoundary | None = None,
    ) -> str:
        """A request's ``JIT-`` set; ``managed_policies`` are AWS managed policy names
        (``ReadOnlyAccess``), whose ARNs the adapter builds in the instance's partition."""
        ...

    def delete_custom_permission_set(
        self,
        permission_set_arn: str,
        *,
        request_id: int,
        account_ids: Sequence[str] = (),
    ) -> None: ...

    # -- the drift reconciler (workflows.reconcile) --

    def has_assignment(self, assignment: Assignment) -> bool:
        """Whether the assignment exists."""
        ...

    def account_assignments(self, account_id: str, permission_set_arn: str) -> list[Assignment]:
        """Every assignment (users and groups) of a permission set in an account."""
        ...

    def jit_permission_sets(self) -> list[JitPermissionSet]:
        """jitbot's ``JIT-`` permission sets (known by their tags)."""
        ...

    def provisioned_accounts(self, permission_set_arn: str) -> set[str]:
        """The accounts a permission set is provisioned to (each holding an assignment
        of it is among them)."""
        ...

    def find_group_id(self, display_name: str) -> str | None:
        """The Identity Center group id of a group display name, or None."""
        ...

    def principal_name(self, principal_type: str, principal_id: str) -> str:
        """A USER's user name or a GROUP's display name; the id when unknown."""
        ...

    # -- ending open sign-ins (workflows.services.live_sessions) --

    def inline_policy(self, permission_set_arn: str) -> str:
        """The set's inline policy; ``""`` when it has none."""
        ...

    def put_inline_policy(self, permission_set_arn: str, policy: str | None) -> None:
        """Replace the set's inline policy (None: delete it)."""
        ...

    def is_provisioned(self, permission_set_arn: str, account_id: str) -> bool: ...

    def session_duration(self, permission_set_arn: str) -> timedelta | None: ...

    def provision_to_account(self, permission_set_arn: str, account_id: str) -> None: ...
