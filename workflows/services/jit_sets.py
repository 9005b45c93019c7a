"""A custom request's own ``JIT-`` permission set: created before its grant, deleted
when its access ends (or its grant failed)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from workflows.access_granter import AccessGranter
from workflows.assignments import AwsError
from workflows.custom_sets import managed_policy_arn
from workflows.custom_sets.boundary import PermissionsBoundary
from workflows.domain import AccessRequest, Outgoing
from workflows.durations import iso8601_duration
from workflows.ports import Store
from workflows.services.authority import Authority

log = logging.getLogger("jitbot.workflows")


@dataclass(frozen=True)
class JitSets:
    """Creates and deletes requests' ``JIT-`` sets in ``aws``, recorded in ``store``;
    each gets ``boundary`` (config ``custom_permission_sets.permissions_boundary``)."""

    store: Store
    aws: AccessGranter
    authority: Authority
    boundary: PermissionsBoundary | None = None

    def create(self, request: AccessRequest) -> AccessRequest:
        """Create the request's ``JIT-`` permission set and record its ARN (before the
        assignment, so a crash leaves a set the sweep reuses rather than a second one).
        Returns the request as stored now.

        Raises:
            AwsError: Identity Center did not create it.
        """
        assert request.custom is not None
        spec = request.custom
        arn = self.aws.create_custom_permission_set(
            name=spec.name,
            session_duration=iso8601_duration(spec.session_duration),
            description=(
                f"Created by jitbot for request #{request.id} of {request.requester.email}"
            ),
            request_id=request.id,
            managed_policy_arns=[managed_policy_arn(n) for n in spec.managed_policies],
            inline_policy=spec.inline_policy,
            permissions_boundary=self.boundary,
        )
        self.store.set_permission_set_arn(request.id, arn)
        return self.authority.get(request.id)

    def delete(self, request: AccessRequest, now: datetime) -> None:
        """Delete the request's ``JIT-`` set; a failure is audited and told to the admins
        (the access itself is already gone), never raised."""
        detail = {"permission_set_arn": request.permission_set_arn}
        try:
            self.aws.delete_custom_permission_set(
                request.permission_set_arn,
                request_id=request.id,
                account_ids=[request.account_id],
            )
            self.store.audit(request.id, "jitbot", "custom_set_deleted", now, detail)
        except AwsError as exc:
            log.error("deleting the custom set of request %s failed: %s", request.id, exc)
            alert = Outgoing.alert(
                f"The permission set {request.custom.name if request.custom else ''} of "
                f"request #{request.id} could not be deleted and is left over: {exc}"
            )
            self.store.audit(
                request.id,
                "jitbot",
                "custom_set_delete_failed",
                now,
                {**detail, "reason": str(exc)},
                outbox=[alert],
            )
