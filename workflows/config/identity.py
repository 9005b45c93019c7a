"""``identity:``: how the people the config names by email stay bound to Slack user ids
(:mod:`workflows.people`)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, field_validator

from workflows.config.defaults import (
    DEFAULT_RESOLVE_INTERVAL,
    RESOLVE_INTERVAL_MAX,
    RESOLVE_INTERVAL_MIN,
)
from workflows.config.fields import _MODEL_CONFIG, Duration, _in_range


class Rebind(StrEnum):
    """What happens when a configured email starts resolving to another Slack user, or
    a configured person's email changes: the admins are alerted and it is audited
    either way; ``alert`` keeps the old user id until an admin confirms from the alert,
    ``follow`` binds the new one at once."""

    ALERT = "alert"
    FOLLOW = "follow"


class IdentityConfig(BaseModel):
    """``identity:`` ``rebind`` (:class:`Rebind`, ``alert`` by default) and
    ``resolve_interval``, how often the configured emails are looked up again in Slack
    (``users.lookupByEmail``; 1m to 1d, 1h by default)."""

    model_config = _MODEL_CONFIG

    rebind: Rebind = Rebind.ALERT
    resolve_interval: Duration = DEFAULT_RESOLVE_INTERVAL

    @field_validator("resolve_interval")
    @classmethod
    def _interval_in_range(cls, value: timedelta) -> timedelta:
        return _in_range("resolve_interval", value, RESOLVE_INTERVAL_MIN, RESOLVE_INTERVAL_MAX)
