"""The permissions boundary every ``JIT-`` set gets (config
``custom_permission_sets.permissions_boundary``), and how an approver is told of it.

A permissions boundary is the most a permission set's roles may ever do, whatever its
own policies allow: an AWS managed policy (by ARN) or a customer managed policy (by name
and path, which must exist in every account the set is provisioned to). jitbot attaches
it with ``PutPermissionsBoundaryToPermissionSet`` right after creating the set, before it
is assigned (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutPermissionsBoundaryToPermissionSet.html,
``PermissionsBoundary``: "Specify either CustomerManagedPolicyReference ... or
ManagedPolicyArn").
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.custom_sets.managed import managed_policy_arn
from workflows.custom_sets.spec import Warning


@dataclass(frozen=True)
class PermissionsBoundary:
    """Exactly one of ``aws_managed`` (an AWS managed policy name, e.g.
    ``"PowerUserAccess"`` or ``"job-function/ViewOnlyAccess"``) and ``customer_managed``
    (an IAM policy name, under ``path``, ``"/"`` by default)."""

    aws_managed: str | None = None
    customer_managed: str | None = None
    path: str = "/"

    def __post_init__(self) -> None:
        if (self.aws_managed is None) == (self.customer_managed is None):
            raise ValueError("a permissions boundary is an AWS or a customer managed policy")

    def managed_policy_arn(self, partition: str) -> str | None:
        """``arn:<partition>:iam::aws:policy/<name>`` of an AWS managed boundary, else
        None; ``partition`` is the Identity Center instance's (``aws``, ``aws-us-gov``,
        ``aws-cn``). Raises ValueError for a partition none of those."""
        return managed_policy_arn(self.aws_managed, partition) if self.aws_managed else None

    @property
    def label(self) -> str:
        """What an approver reads: ``"PowerUserAccess (AWS managed policy)"`` or
        ``"/team/JitBoundary (customer managed policy)"``."""
        if self.aws_managed is not None:
            return f"{self.aws_managed} (AWS managed policy)"
        return f"{self.path}{self.customer_managed} (customer managed policy)"

    def as_record(self) -> tuple[tuple[str, str], ...]:
        """What a request records of it at submit (stored as a JSON object):
        ``(("aws_managed", "PowerUserAccess"),)`` or
        ``(("customer_managed", "JitBoundary"), ("path", "/team/"))``."""
        if self.aws_managed is not None:
            return (("aws_managed", self.aws_managed),)
        assert self.customer_managed is not None
        return (("customer_managed", self.customer_managed), ("path", self.path))

    @classmethod
    def from_record(cls, record: tuple[tuple[str, str], ...]) -> PermissionsBoundary | None:
        """The inverse of :meth:`as_record`; None for ``()`` (the set had no boundary)."""
        return cls(**dict(record)) if record else None

    def warning(self) -> Warning:
        """The line of "Check before approving" that names the boundary."""
        return Warning(
            "info",
            f"Permissions boundary: {self.label}. The set can never allow more than it "
            "does, whatever its own policies say.",
        )


def boundary_record(boundary: PermissionsBoundary | None) -> tuple[tuple[str, str], ...]:
    """:meth:`PermissionsBoundary.as_record`, and ``()`` for no boundary."""
    return boundary.as_record() if boundary is not None else ()
