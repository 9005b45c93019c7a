"""Account assignments and the errors of granting them, free of boto3 so the core can
use them; :mod:`workflows.aws` raises these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class AwsError(Exception):
    """An AWS failure the bot could not overcome. ``str()`` is a readable sentence;
    ``code`` is the AWS error code when there was one (e.g. ``AccessDeniedException``)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class AssignmentFailed(AwsError):
    """Identity Center finished the request with status ``FAILED``; ``reason`` is its
    ``FailureReason`` (for instance the role could not be created in the account)."""

    def __init__(self, message: str, *, reason: str, request_id: str | None = None) -> None:
        super().__init__(message, code="FAILED")
        self.reason = reason
        self.request_id = request_id


class AssignmentTimeout(AwsError):
    """The request was still ``IN_PROGRESS`` after ``poll_timeout`` seconds. The change
    may still complete later; ``request_id`` identifies it in AWS."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message, code="IN_PROGRESS")
        self.request_id = request_id


@dataclass(frozen=True)
class Assignment:
    """One account assignment: ``principal_id`` gets ``permission_set_arn`` in AWS
    account ``account_id`` (12 digits). ``principal_type`` is ``"USER"`` (an Identity
    Center user id: every grant of the bot) or ``"GROUP"`` (a group id: only ever found
    by the drift reconciler, :mod:`workflows.reconcile`)."""

    account_id: str
    permission_set_arn: str
    principal_id: str
    principal_type: str = "USER"

    def __str__(self) -> str:
        permission_set = self.permission_set_arn.rsplit("/", 1)[-1]
        who = self.principal_id if self.principal_type == "USER" else f"group {self.principal_id}"
        return f"{who}@{self.account_id}/{permission_set}"


@dataclass(frozen=True)
class OperationStatus:
    """Where one asynchronous assignment operation is, as
    ``DescribeAccountAssignmentCreationStatus`` tells: ``state`` is ``IN_PROGRESS``,
    ``SUCCEEDED`` or ``FAILED``; ``reason`` its ``FailureReason`` (FAILED only)."""

    request_id: str
    state: str
    reason: str | None = None

    @property
    def final(self) -> bool:
        """Whether AWS is done with it (``SUCCEEDED`` or ``FAILED``)."""
        return self.state in ("SUCCEEDED", "FAILED")


@dataclass(frozen=True)
class JitPermissionSet:
    """A ``JIT-`` permission set jitbot created for one request, as found in AWS.

    ``created_at`` is its ``CreatedDate`` (aware UTC; None if AWS gave none);
    ``request_id`` the request it was made for (its ``jitbot:request-id`` tag).
    """

    arn: str
    name: str
    created_at: datetime | None
    request_id: int
