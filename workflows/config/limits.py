"""The model of ``limits:``, how much one person may ask for at once."""

from __future__ import annotations

from pydantic import BaseModel, Field

from workflows.config.fields import _MODEL_CONFIG


class LimitsConfig(BaseModel):
    """``limits:``: ``pending_per_requester`` (default 5) is how many of one person's
    requests may wait for a decision at once; ``requests_per_minute`` (default 6) is how
    many they may submit in any 60 seconds. Both keep one person (or a script with their
    Slack session) from flooding the approvers; a refused form says the numbers."""

    model_config = _MODEL_CONFIG

    pending_per_requester: int = Field(default=5, ge=1)
    requests_per_minute: int = Field(default=6, ge=1)
