"""A custom request's own ``JIT-`` permission set: created before its grant, deleted
when its access ends (or its grant failed)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from workflows.access_granter import AccessGranter
from workflows.assignments import AwsError
from workflows.custom_sets.boundary import PermissionsBoundary, boundary_record
from workflows.domain import AccessRequest, Outgoing
from workflows.durations import iso8601_duration
from workflows.ports import Store
from workflows.services.authority import Authority

log = logging.getLogger("jitbot.workflows")

_BOUNDARY_LINE = "Permissions boundary: "


class BoundaryChanged(Exception):
    """The configured permissions boundary is not the one the request's approvers were
    shown at submit; ``str()`` is the sentence the requester and approvers read."""


def _label(boundary: PermissionsBoundary | None) -> str:
    return boundary.label if boundary is not None else "none"


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

        The set gets the permissions boundary recorded at submit (what the approvers
        were shown), and only while the config still names it: a boundary changed in
        between was approved by nobody, so nothing is created.

        Raises:
            AwsError: Identity Center did not create it.
            BoundaryChanged: the configured boundary is not the one approved.
        """
        assert request.custom is not None
        spec = request.custom
        boundary = self.approved_boundary(request)
        arn = self.aws.create_custom_permission_set(
            name=spec.name,
            session_duration=iso8601_duration(spec.session_duration),
            description=(
                f"Created by jitbot for request #{request.id} of {request.requester.email}"
            ),
            request_id=request.id,
            managed_policies=list(spec.managed_policies),
            inline_policy=spec.inline_policy,
            permissions_boundary=boundary,
        )
        self.store.set_permission_set_arn(request.id, arn)
        return self.authority.get(request.id)

    def approved_boundary(self, request: AccessRequest) -> PermissionsBoundary | None:
        """The boundary the approvers of ``request`` were shown, when it is still the
        configured one (``self.boundary``). A request submitted before the boundary was
        recorded is judged by the "Permissions boundary: ..." line of its warnings.

        Raises:
            BoundaryChanged: they differ.
        """
        assert request.custom is not None
        recorded = request.custom.boundary
        if recorded is not None:
            approved = PermissionsBoundary.from_record(recorded)
            same = recorded == boundary_record(self.boundary)
            shown = _label(approved)
        else:
            lines = [t for _s, t in request.custom.warnings if t.startswith(_BOUNDARY_LINE)]
            now_line = self.boundary.warning().text if self.boundary is not None else None
            approved, same = self.boundary, (lines[0] if lines else None) == now_line
            shown = lines[0][len(_BOUNDARY_LINE) :].split(". ", 1)[0] if lines else "none"
        if not same:
            raise BoundaryChanged(
                "the permissions boundary changed since approval (the approvers saw "
                f"{shown}; it is now {_label(self.boundary)}); ask again."
            )
        return approved

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
