"""``reminders:`` of the config (:class:`RemindersConfig`): when an approver who has not
acted is reminded, and when the request also goes to the escalation approvers
(:mod:`workflows.reminders`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from workflows.config.fields import _MODEL_CONFIG, Duration
from workflows.reminders import ReminderPlan

__all__ = ["DEFAULT_FIRST_REMINDER", "RemindersConfig"]

#: The first reminder's delay when not configured.
DEFAULT_FIRST_REMINDER = timedelta(minutes=30)


class RemindersConfig(BaseModel):
    """``first`` (a duration; zero is refused, as for every duration), ``backoff``
    (each gap this many times the last, 1 to 100) and ``escalate_after`` (a duration
    below ``approval_timeout``, checked by the config; None: half of it)."""

    model_config = _MODEL_CONFIG

    first: Duration = DEFAULT_FIRST_REMINDER
    backoff: float = Field(default=2.0, ge=1.0, le=100.0)
    escalate_after: Duration | None = None

    def plan(self, approval_timeout: timedelta) -> ReminderPlan:
        """The schedule, with ``escalate_after`` defaulted to half of ``approval_timeout``."""
        after = self.escalate_after if self.escalate_after is not None else approval_timeout / 2
        return ReminderPlan(self.first, self.backoff, after)
