"""Settings read from the environment (secrets and where things are), via pydantic-settings.

=======================  ===================================  ================================
variable                 meaning                              default
=======================  ===================================  ================================
SLACK_BOT_TOKEN          bot token, ``xoxb-…``                none (needed in both modes)
SLACK_APP_TOKEN          app-level token, ``xapp-…``          none (needed for Socket Mode)
SLACK_SIGNING_SECRET     request signing secret               none (needed for HTTP mode)
SLACK_API_URL            Slack Web API base URL               ``https://slack.com/api/``
DATABASE_URL             SQLAlchemy database URL              ``sqlite:///jitbot.db``
JITBOT_CONFIG            path of the YAML configuration       ``jitbot.yml``
=======================  ===================================  ================================

``JITBOT_OUTBOX_MAX_BACKOFF`` (seconds, default 30) caps the outbox's backoff while Slack
is down; tests set it low to see a long outage in a short one.

Names are case-insensitive and have no prefix; an empty variable counts as unset.
No ``.env`` file is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Mode", "Settings"]

#: How jitbot talks to Slack: a Socket Mode websocket, or HTTP requests Slack sends.
Mode = Literal["socket", "http"]

_NEEDED: dict[str, tuple[str, ...]] = {
    "socket": ("slack_bot_token", "slack_app_token"),
    "http": ("slack_bot_token", "slack_signing_secret"),
}


class Settings(BaseSettings):
    """jitbot's environment. ``Settings()`` reads it; keyword arguments override it."""

    model_config = SettingsConfigDict(
        env_prefix="",
        case_sensitive=False,
        env_file=None,
        env_ignore_empty=True,
        extra="ignore",
    )

    # Secrets stay out of repr() so printing or logging settings does not leak them.
    slack_bot_token: str | None = Field(default=None, repr=False)
    slack_signing_secret: str | None = Field(default=None, repr=False)
    slack_app_token: str | None = Field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///jitbot.db"
    jitbot_config: Path = Path("jitbot.yml")
    jitbot_log_format: Literal["text", "json"] = "text"  # JITBOT_LOG_FORMAT
    #: seconds: the cap of the outbox's exponential backoff while Slack is down
    #: (:attr:`workflows.outbox.OutboxDispatcher.max_backoff`); JITBOT_OUTBOX_MAX_BACKOFF
    jitbot_outbox_max_backoff: float = Field(default=30.0, gt=0)

    @field_validator("slack_api_url")
    @classmethod
    def _with_trailing_slash(cls, url: str) -> str:
        url = url.strip()
        return url if url.endswith("/") else url + "/"

    def missing_for(self, mode: Mode) -> list[str]:
        """Names of the environment variables ``mode`` needs that are unset, in order.

        Socket Mode needs ``SLACK_BOT_TOKEN`` and ``SLACK_APP_TOKEN``; HTTP mode needs
        ``SLACK_BOT_TOKEN`` and ``SLACK_SIGNING_SECRET``. An empty list means ready.

        Raises:
            ValueError: for a mode other than ``"socket"`` or ``"http"``.
        """
        try:
            fields = _NEEDED[mode]
        except KeyError:
            raise ValueError(f'unknown mode {mode!r} (use "socket" or "http")') from None
        return [name.upper() for name in fields if not getattr(self, name)]
