"""Looking the config's people up in Slack, at start-up and every
``identity.resolve_interval``, and handing what Slack said to
:class:`workflows.rebinding.Rebinding` (which stores, audits and alerts).

Each look-up goes to Slack itself, not to :class:`bot.directory.SlackDirectory`'s cache,
so a change is seen on the next run: ``users.lookupByEmail`` for an email entry,
``users.info`` for a user id entry (both Tier 3 or 4,
https://api.slack.com/methods/users.lookupByEmail). A deactivated user resolves to
nobody, and so does a bot user. When Slack can't be asked (an outage, a missing scope) the entry's stored
binding stays as it is and the next run tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from workflows.people import is_slack_id
from workflows.rebinding import Rebinding, Seen

log = logging.getLogger("jitbot.identity")

#: Slack's answers meaning "there is no such person" (users.lookupByEmail, users.info).
NOBODY = frozenset({"users_not_found", "user_not_found"})


def _seen(user: dict[str, Any]) -> Seen:
    if user.get("deleted") or user.get("is_bot"):  # nobody the bot serves (design §3)
        return Seen(None, None)
    email = ((user.get("profile") or {}).get("email") or "").lower() or None
    return Seen(user.get("id"), email)


def look_up(client: WebClient, entry: str) -> Seen:
    """What Slack says of one config entry now.

    Raises:
        SlackApiError: Slack refused for another reason than "no such user".
        SlackClientError, OSError: Slack could not be reached.
    """
    try:
        if is_slack_id(entry):
            return _seen(client.users_info(user=entry)["user"])
        return _seen(client.users_lookupByEmail(email=entry)["user"])
    except SlackApiError as exc:
        if exc.response.get("error") in NOBODY:
            return Seen(None, None)
        raise


class Binder:
    """Resolves every person ``rebinding.config`` names through ``client``."""

    def __init__(
        self, client: WebClient, rebinding: Rebinding, clock: Callable[[], datetime]
    ) -> None:
        self._client = client
        self._rebinding = rebinding
        self._clock = clock

    def resolve_all(self) -> list[tuple[str, str]]:
        """Look every configured entry up once and record it; ``(entry, audit action)``
        for each change recorded. An entry Slack could not be asked about is skipped
        (logged) and kept as stored."""
        changes: list[tuple[str, str]] = []
        entries = dict.fromkeys(entry for _path, entry in self._rebinding.config.people())
        for entry in entries:
            try:
                seen = look_up(self._client, entry)
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("could not look %s up in Slack; binding kept: %s", entry, exc)
                continue
            action = self._rebinding.observe(entry, seen, self._clock(), self._email_of)
            if action is not None:
                log.info("identity: %s %s", entry, action)
                changes.append((entry, action))
        return changes

    def _email_of(self, slack_id: str) -> str | None:
        """A user's email as Slack has it now (``users.info``); None if unknown."""
        try:
            return look_up(self._client, slack_id).email
        except (SlackApiError, SlackClientError, OSError):
            return None

    def run(self) -> None:
        """:meth:`resolve_all` as a timed job: never raises (the next run retries)."""
        try:
            self.resolve_all()
        except Exception:
            log.exception("resolving the configured people failed")
