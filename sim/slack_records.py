"""What the fake Slack keeps and answers with: the records of calls, messages, ephemeral
messages, people and trigger ids, and the error a Web API method answers with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Call", "Ephemeral", "Message", "SlackError", "SlackUserRecord", "Trigger", "present"]


@dataclass
class Call:
    """One Web API call the fake answered (``at`` is ``time.time()``)."""

    method: str
    args: dict[str, Any]
    response: dict[str, Any]
    at: float


@dataclass
class Message:
    """A message the bot posted. Live: ``chat.update`` changes it in place.

    ``updates`` holds one entry per update, the content it replaced:
    ``{"text": ..., "blocks": ..., "at": time.time()}``.
    """

    channel: str
    ts: str
    user_id_of_dm: str | None
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Any] | None = None
    metadata: dict[str, Any] | None = None
    deleted: bool = False

    @property
    def is_reply(self) -> bool:
        """True for a reply in a thread."""
        return self.thread_ts is not None


@dataclass
class Ephemeral:
    """An ephemeral message shown only to ``user``."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    message_ts: str
    thread_ts: str | None = None


@dataclass
class SlackUserRecord:
    """One person (or bot) in the fake workspace's directory.

    ``team_id`` / ``enterprise_id`` None: the fake's own workspace and org; another
    team is a Slack Connect user of another organization. ``is_restricted`` is a
    multi-channel guest, ``is_ultra_restricted`` a single-channel one, ``deleted`` a
    deactivated account (https://api.slack.com/types/user).
    """

    id: str
    email: str | None
    real_name: str
    tz: str = "UTC"
    is_bot: bool = False
    name: str = ""
    team_id: str | None = None
    enterprise_id: str | None = None
    deleted: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_email_confirmed: bool = True

    def api(self, team_id: str, enterprise_id: str | None = None) -> dict[str, Any]:
        """This user as ``users.info`` returns it, in a workspace ``team_id`` (of org
        ``enterprise_id``)."""
        try:
            offset = ZoneInfo(self.tz).utcoffset(datetime.now(UTC))
        except (ZoneInfoNotFoundError, ValueError):
            offset = None
        profile: dict[str, Any] = {"real_name": self.real_name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        home_team = self.team_id or team_id
        org = self.enterprise_id if self.team_id else (self.enterprise_id or enterprise_id)
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": home_team,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "tz": self.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_email_confirmed": self.is_email_confirmed,
            "profile": profile,
        }
        if home_team != team_id:
            user["is_stranger"] = True
        if org:
            user["enterprise_user"] = {
                "id": self.id,
                "enterprise_id": org,
                "enterprise_name": "Fake Org",
                "teams": [home_team],
            }
        return user


@dataclass
class Trigger:
    """A trigger id the fake issued: when (the fake's monotonic ``clock``), for whom, and
    whether a ``views.open``/``views.push`` has used it (once only, within 3 s)."""

    issued_at: float
    user_id: str | None
    used: bool = False


class SlackError(Exception):
    """A Web API method's refusal: ``{"ok": false, "error": error}`` with an optional
    ``detail`` and Block Kit ``messages`` (``response_metadata.messages``)."""

    def __init__(self, error: str, detail: str | None = None, messages: list[str] | None = None):
        super().__init__(error)
        self.error, self.detail, self.messages = error, detail, messages

    def payload(self) -> dict[str, Any]:
        """The JSON body Slack answers with (HTTP 200)."""
        out: dict[str, Any] = {"ok": False, "error": self.error}
        if self.detail:
            out["detail"] = self.detail
        if self.messages:
            out["errors"] = list(self.messages)
            out["response_metadata"] = {"messages": list(self.messages)}
        return out


def present(value: Any) -> bool:
    """Whether a Web API argument counts as given (not missing, ``""`` or ``[]``)."""
    return value is not None and value != "" and value != []
