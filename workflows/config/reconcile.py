"""The model of ``reconcile:``, drift reconciliation's settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from workflows.config.defaults import (
    DEFAULT_ORPHAN_GRACE,
    DEFAULT_RECONCILE_INTERVAL,
    DEFAULT_RECONCILE_SHARE,
    ORPHAN_GRACE_MAX,
    ORPHAN_GRACE_MIN,
    RECONCILE_INTERVAL_MAX,
    RECONCILE_INTERVAL_MIN,
)
from workflows.config.fields import _MODEL_CONFIG, Duration, _error, _in_range, _kind


class ReconcileConfig(BaseModel):
    """``reconcile:``: drift reconciliation (:mod:`workflows.reconcile`), run every
    ``interval`` and by ``jitbot reconcile``.

    ``mode``: ``report`` (default) only audits what no active grant stands behind and
    tells the admins, changing nothing in AWS; ``remove`` deletes such account
    assignments of managed permission sets, and orphan ``JIT-`` permission sets. Real
    organizations have standing assignments (Control Tower's ``AWSControlTowerAdmins``,
    break-glass groups): removing is a choice an admin makes after reading a report.
    The first run on a new database only reports, whatever the mode.
    ``groups``: ``report`` (default) or ``remove``: GROUP assignments are removed only
    with ``groups: remove`` (and ``mode: remove``).
    ``keep``: principals never removed nor reported: Identity Center group display
    names, user names or emails.
    In both modes a grant whose assignment was removed outside jitbot is marked
    Revoked and its requester and approvers are told (that only records what AWS
    already did). ``interval``: 1 minute to 1 day, default 10 minutes.
    ``orphan_grace``: a ``JIT-`` set younger than this (by its AWS creation time) may
    belong to a grant in progress and is left alone; 5 minutes to 1 day, default 15
    minutes.
    ``rate_share``: the share of the client-side Identity Center rate
    (``identity_center.max_calls_per_second``) a run may use, more than 0 and at most 1,
    default 0.25: a run over a thousand accounts never delays grants and revokes, which
    use the rest (:mod:`workflows.aws.paced`).
    """

    model_config = _MODEL_CONFIG

    mode: Literal["remove", "report"] = "report"
    groups: Literal["remove", "report"] = "report"
    keep: list[str] = Field(default_factory=list)
    interval: Duration = DEFAULT_RECONCILE_INTERVAL
    orphan_grace: Duration = DEFAULT_ORPHAN_GRACE
    rate_share: float = Field(default=DEFAULT_RECONCILE_SHARE, gt=0, le=1)

    @field_validator("mode", "groups", mode="before")
    @classmethod
    def _remove_or_report(cls, value: object, info: ValidationInfo) -> str:
        text = value.strip().lower() if isinstance(value, str) else None
        if text not in ("remove", "report"):
            shown = f'"{value}"' if isinstance(value, str) else _kind(value)
            raise _error(f"reconcile_{info.field_name}", f"must be remove or report, got {shown}")
        return text

    @field_validator("keep", mode="before")
    @classmethod
    def _names(cls, value: object) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _error(
                "reconcile_keep",
                "must be a list of group names, user names or emails, e.g. [BreakGlass]",
            )
        return [v.strip() for v in value]

    @field_validator("interval")
    @classmethod
    def _interval_in_range(cls, value: timedelta) -> timedelta:
        return _in_range(
            "reconcile_interval", value, RECONCILE_INTERVAL_MIN, RECONCILE_INTERVAL_MAX
        )

    @field_validator("orphan_grace")
    @classmethod
    def _grace_in_range(cls, value: timedelta) -> timedelta:
        return _in_range("orphan_grace", value, ORPHAN_GRACE_MIN, ORPHAN_GRACE_MAX)

    @property
    def report_only(self) -> bool:
        """True in ``report`` mode: nothing is changed in AWS."""
        return self.mode == "report"

    @property
    def removes_groups(self) -> bool:
        """True when GROUP assignments may be removed (``groups: remove``)."""
        return self.groups == "remove"
