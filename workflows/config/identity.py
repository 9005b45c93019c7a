"""``identity:``: how the people the config names by email stay bound to Slack user ids
(:mod:`workflows.people`)."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from workflows.config.defaults import (
    DEFAULT_RESOLVE_INTERVAL,
    RESOLVE_INTERVAL_MAX,
    RESOLVE_INTERVAL_MIN,
)
from workflows.config.fields import _MODEL_CONFIG, Duration, _error, _in_range

#: a DNS domain name, as email domains are written
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def _key(text: str) -> str:
    """An override's key: a Slack user id as is (``U…``), an email lower-cased."""
    text = text.strip()
    return text if "@" not in text else text.lower()


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
    (``users.lookupByEmail``; 1m to 1d, 1h by default).

    How a Slack person is found in Identity Center, where an external IdP and SCIM give
    other addresses than Slack's: ``overrides`` (a Slack email or user id -> the
    Identity Center user name or email to look up, tried first: an admin's explicit
    word is never shadowed by a guess), then the Slack email, then the email with each
    ``email_domains`` mapping applied (``corp.com: corp.io`` looks ``a@corp.com`` up
    as ``a@corp.io``). See :meth:`lookups`.
    """

    model_config = _MODEL_CONFIG

    rebind: Rebind = Rebind.ALERT
    resolve_interval: Duration = DEFAULT_RESOLVE_INTERVAL
    email_domains: dict[str, str] = Field(default_factory=dict)
    overrides: dict[str, str] = Field(default_factory=dict)

    @field_validator("email_domains", mode="before")
    @classmethod
    def _domains(cls, value: object) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str)
            and isinstance(v, str)
            and _DOMAIN.fullmatch(k.strip().lower())
            and _DOMAIN.fullmatch(v.strip().lower())
            for k, v in value.items()
        ):
            raise _error(
                "email_domains",
                "must map a Slack email domain to an Identity Center one, e.g. {corp.com: corp.io}",
            )
        return {k.strip().lower(): v.strip().lower() for k, v in value.items()}

    @field_validator("overrides", mode="before")
    @classmethod
    def _overrides(cls, value: object) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
            for k, v in value.items()
        ):
            raise _error(
                "identity_overrides",
                "must map a Slack email or user id to an Identity Center user name, e.g. "
                "{U0123ABCD: alice.archer}",
            )
        return {_key(k): v.strip() for k, v in value.items()}

    def lookups(self, email: str, slack_id: str = "") -> list[str]:
        """The values to look a person up by in Identity Center, in order, each once:
        the override of their Slack user id or email, their email, their email with
        each mapped domain. ``email`` as Slack gives it (any case)."""
        found: list[str] = []
        for key in (slack_id, email):
            override = self.overrides.get(_key(key)) if key else None
            if override:
                found.append(override)
        address = email.strip()
        if address:
            found.append(address)
            local, _, domain = address.rpartition("@")
            mapped = self.email_domains.get(domain.lower())
            if local and mapped:
                found.append(f"{local}@{mapped}")
        return list(dict.fromkeys(found))

    @field_validator("resolve_interval")
    @classmethod
    def _interval_in_range(cls, value: timedelta) -> timedelta:
        return _in_range("resolve_interval", value, RESOLVE_INTERVAL_MIN, RESOLVE_INTERVAL_MAX)
