"""The models of ``identity_center:``, an item of ``accounts:`` and
``custom_permission_sets:`` (with its ``permissions_boundary:``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from workflows.config.approval_channel import ApprovalChannel, NotifyApprovers
from workflows.config.defaults import (
    CONFLICT_RETRY_SECONDS_MAX,
    CONFLICT_RETRY_SECONDS_MIN,
    DEFAULT_CONFLICT_RETRY_SECONDS,
    DEFAULT_PENDING_GRANT_TIMEOUT,
    IDENTITY_CENTER_CALLS_PER_SECOND,
    IDENTITY_CENTER_OUTSTANDING_OPERATIONS,
    IDENTITY_CENTER_QUOTA_OUTSTANDING_OPERATIONS,
    PENDING_GRANT_TIMEOUT_MAX,
    PENDING_GRANT_TIMEOUT_MIN,
)
from workflows.config.fields import (
    _IDENTITY_STORE_ID,
    _INSTANCE_ARN,
    _MODEL_CONFIG,
    AccountId,
    Duration,
    PermissionSetName,
    PersonEntry,
    _check_calls_per_second,
    _check_url,
    _error,
    _in_range,
    _pattern_checker,
    _strip_or_none,
)
from workflows.custom_sets.boundary import PermissionsBoundary
from workflows.custom_sets.guardrails import DEFAULT_DENY_ACTIONS, DenyRule
from workflows.custom_sets.managed import managed_policy_name

_DENY_PATTERN = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9_*?-]+")
# CustomerManagedPolicyReference Name and Path (API_CustomerManagedPolicyReference.html)
_POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
_POLICY_PATH = re.compile(r"(?:/[A-Za-z0-9.,+@=_-]+)*/")


_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")


def _check_region(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _REGION.fullmatch(text):
        raise _error("region", f"not an AWS Region (e.g. eu-west-1), got {value!r}")
    return text


class IdentityCenterConfig(BaseModel):
    """Where the IAM Identity Center instance is (``identity_center:``).

    ``instance_arn`` looks like ``arn:aws:sso:::instance/ssoins-0123456789abcdef``
    (partition ``aws``, ``aws-us-gov`` or ``aws-cn``); ``identity_store_id`` like
    ``d-0123456789``; ``portal_url``, the AWS access portal, is an optional http(s) URL.
    ``region`` is the instance's home Region (``eu-west-1``), where assignments can be
    written; default the AWS default Region of the environment, else ``us-east-1``.
    Each may be omitted: the instance and its identity store are then found with
    sso-admin ``ListInstances`` (the one ACTIVE instance; several are an error).

    ``max_calls_per_second`` is jitbot's own limit on its sso-admin and identitystore
    calls together (:mod:`workflows.aws.ratelimit`): by default 15, leaving a quarter of
    Identity Center's collective quota of 20 calls a second (IAM Identity Center quotas
    page, https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html) to the
    console, Terraform and Control Tower; raise it if AWS raised yours, lower it when
    other tools use more. ``0`` or ``null`` turns it off (None).
    ``max_outstanding_operations`` (1 to 15, default 15) is how many assignment
    changes jitbot has under way at once: the same page allows 15 outstanding
    asynchronous calls of the write APIs, and that cannot be raised. Both are the limits
    of all replicas together: each live replica uses its share
    (:meth:`workflows.aws.IdentityCenter.share_quota`).

    ``conflict_retry_seconds`` (0 to 3600, default 120) is how long an assignment or
    permission set write AWS answers ``ConflictException`` (another change to the
    account's permission sets under way) or ``ServiceQuotaExceededException`` (the
    outstanding calls are all taken) is retried before the grant fails.
    ``pending_grant_timeout`` (5m to 1d, default 1h) is how long a grant AWS has not
    finished (still ``IN_PROGRESS`` after the adapter's poll timeout) stays Approved
    while the sweep follows its request id, before it is undone and Failed.
    """

    model_config = _MODEL_CONFIG

    instance_arn: (
        Annotated[
            str,
            BeforeValidator(
                _pattern_checker(
                    _INSTANCE_ARN, "arn:aws:sso:::instance/ssoins-0123456789abcdef", "instance_arn"
                )
            ),
        ]
        | None
    ) = None
    identity_store_id: (
        Annotated[
            str,
            BeforeValidator(
                _pattern_checker(_IDENTITY_STORE_ID, "d-0123456789", "identity_store_id")
            ),
        ]
        | None
    ) = None
    portal_url: Annotated[str, BeforeValidator(_check_url)] | None = None
    region: Annotated[str, BeforeValidator(_check_region)] | None = None
    max_calls_per_second: Annotated[float | None, BeforeValidator(_check_calls_per_second)] = (
        IDENTITY_CENTER_CALLS_PER_SECOND
    )
    max_outstanding_operations: int = Field(
        default=IDENTITY_CENTER_OUTSTANDING_OPERATIONS,
        ge=1,
        le=IDENTITY_CENTER_QUOTA_OUTSTANDING_OPERATIONS,
    )
    conflict_retry_seconds: float = Field(
        default=DEFAULT_CONFLICT_RETRY_SECONDS,
        ge=CONFLICT_RETRY_SECONDS_MIN,
        le=CONFLICT_RETRY_SECONDS_MAX,
        allow_inf_nan=False,
    )
    pending_grant_timeout: Duration = DEFAULT_PENDING_GRANT_TIMEOUT

    @field_validator("pending_grant_timeout")
    @classmethod
    def _pending_in_range(cls, value: timedelta) -> timedelta:
        return _in_range(
            "pending_grant_timeout", value, PENDING_GRANT_TIMEOUT_MIN, PENDING_GRANT_TIMEOUT_MAX
        )

    @model_validator(mode="after")
    def _both_ids_or_neither(self) -> IdentityCenterConfig:
        if (self.instance_arn is None) != (self.identity_store_id is None):
            raise PydanticCustomError(
                "both_or_neither",
                "give both instance_arn and identity_store_id, or neither (found with "
                "ListInstances)",
            )
        return self


class AccountConfig(BaseModel):
    """One AWS account people may ask for access to (an item of ``accounts:``).

    ``id`` is the 12-digit account id as text; ``name`` is ``None`` when it should come
    from AWS Organizations; ``owners`` are the people who approve requests for it
    (lower-cased emails or Slack user ids, :mod:`workflows.people`); ``permission_sets`` name the standard permission sets requestable
    in it, in the order given.
    """

    model_config = _MODEL_CONFIG

    id: AccountId
    name: Annotated[str | None, BeforeValidator(_strip_or_none)] = None
    owners: list[PersonEntry] = Field(default_factory=list)
    permission_sets: list[PermissionSetName] = Field(default_factory=list)
    custom_permission_sets: bool = True  # may custom sets be requested here (when enabled)
    # custom sets even though this is the organization's management account or the account
    # jitbot runs in (refused there by default: workflows.custom_sets.sensitive)
    allow_custom_on_sensitive: bool = False
    # where its requests are posted for the approvers instead of DMs, and whether they
    # are DM'd too (workflows.config.approval_channel; an access rule's own keys win)
    approval_channel: ApprovalChannel = None
    notify_approvers: NotifyApprovers | None = None

    @model_validator(mode="after")
    def _notify_needs_a_channel(self) -> AccountConfig:
        if self.notify_approvers == "none" and self.approval_channel is None:
            raise PydanticCustomError(
                "notify_approvers",
                "notify_approvers: none needs an approval_channel (else nobody is told "
                "of a request)",
            )
        return self


class BoundaryConfig(BaseModel):
    """``custom_permission_sets.permissions_boundary:``, the boundary of every ``JIT-``
    set: an AWS managed policy name (``PowerUserAccess``, or the mapping
    ``{aws_managed: PowerUserAccess}``) or a customer managed policy
    (``{customer_managed: JitBoundary, path: /team/}``; ``path`` defaults to ``/`` and
    the policy must exist in every account custom sets are requested on)."""

    model_config = _MODEL_CONFIG

    aws_managed: str | None = None
    customer_managed: str | None = None
    path: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, value: object) -> object:
        return {"aws_managed": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_policy(self) -> BoundaryConfig:
        if (self.aws_managed is None) == (self.customer_managed is None):
            raise PydanticCustomError(
                "boundary_kind",
                "give an AWS managed policy name (PowerUserAccess) or "
                "{customer_managed: name, path: /}, one of them",
            )
        if self.aws_managed is not None:
            if self.path is not None:
                raise PydanticCustomError(
                    "boundary_path", "path belongs to a customer_managed policy only"
                )
            try:
                managed_policy_name(self.aws_managed)
            except ValueError as exc:
                raise PydanticCustomError("boundary_name", str(exc)) from None
            return self
        if not _POLICY_NAME.fullmatch(self.customer_managed or ""):
            raise PydanticCustomError(
                "boundary_name",
                "customer_managed must be an IAM policy name (1 to 128 of "
                "letters, digits and _+=,.@-)",
            )
        if self.path is not None and not _POLICY_PATH.fullmatch(self.path):
            raise PydanticCustomError(
                "boundary_path", 'path must start and end with "/", like /team/ (IAM paths)'
            )
        return self

    def boundary(self) -> PermissionsBoundary:
        """The domain value (``path`` ``/`` when not given)."""
        if self.aws_managed is not None:
            return PermissionsBoundary(aws_managed=self.aws_managed.strip().strip("/"))
        return PermissionsBoundary(customer_managed=self.customer_managed, path=self.path or "/")


class CustomSetsConfig(BaseModel):
    """``custom_permission_sets:``: may people build a one-off ``JIT-`` permission set,
    from which AWS managed policies, and how long may its sessions last (1 to 12 h,
    IAM Identity Center's range)."""

    model_config = _MODEL_CONFIG

    enabled: bool = False
    managed_policies: list[PermissionSetName] = Field(default_factory=list)
    max_session_duration: Duration = timedelta(hours=12)
    # action patterns no inline policy may allow (workflows.custom_sets.guardrails)
    deny_actions: list[str] = Field(default_factory=lambda: list(DEFAULT_DENY_ACTIONS))
    permissions_boundary: BoundaryConfig | None = None

    @property
    def boundary(self) -> PermissionsBoundary | None:
        """The boundary every ``JIT-`` set gets, or None."""
        return self.permissions_boundary.boundary() if self.permissions_boundary else None

    @field_validator("deny_actions")
    @classmethod
    def _action_patterns(cls, value: list[str]) -> list[str]:
        for entry in value:
            pattern = DenyRule.parse(entry).pattern
            if not _DENY_PATTERN.fullmatch(pattern):
                raise PydanticCustomError(
                    "deny_action",
                    'each entry must be an IAM action pattern like "sso:*" or '
                    '"identitystore:* except reads", not {entry!r}',
                    {"entry": entry},
                )
        return value

    @field_validator("max_session_duration")
    @classmethod
    def _one_to_twelve_hours(cls, value: timedelta) -> timedelta:
        if not timedelta(hours=1) <= value <= timedelta(hours=12) or value.total_seconds() % 3600:
            raise PydanticCustomError(
                "session_range", "must be whole hours from 1h to 12h (IAM Identity Center's range)"
            )
        return value
