"""The models of ``identity_center:``, an item of ``accounts:`` and
``custom_permission_sets:``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from workflows.config.defaults import IDENTITY_CENTER_CALLS_PER_SECOND
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
    _pattern_checker,
    _strip_or_none,
)
from workflows.custom_sets.guardrails import DEFAULT_DENY_ACTIONS, DenyRule

_DENY_PATTERN = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9_*?-]+")


class IdentityCenterConfig(BaseModel):
    """Where the IAM Identity Center instance is (``identity_center:``).

    ``instance_arn`` looks like ``arn:aws:sso:::instance/ssoins-0123456789abcdef``
    (partition ``aws``, ``aws-us-gov`` or ``aws-cn``); ``identity_store_id`` like
    ``d-0123456789``; ``portal_url``, the AWS access portal, is an optional http(s) URL.
    Each may be omitted: the instance and its identity store are then found with
    sso-admin ``ListInstances`` (the first instance).

    ``max_calls_per_second`` is jitbot's own limit on its sso-admin and identitystore
    calls together (:mod:`workflows.aws.ratelimit`): by default Identity Center's collective
    quota of 20 calls a second (IAM Identity Center quotas page,
    https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html); set it to
    the quota if AWS raised yours, or lower when other tools share the quota. ``0`` or
    ``null`` turns it off (None). It is the limit of all replicas together: each live
    replica paces itself at its share (:meth:`workflows.aws.IdentityCenter.share_quota`).
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
    max_calls_per_second: Annotated[float | None, BeforeValidator(_check_calls_per_second)] = (
        IDENTITY_CENTER_CALLS_PER_SECOND
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
