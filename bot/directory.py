"""People in Slack: Slack user id <-> email, cached.

Uses ``users.info`` (needs ``users:read`` and ``users:read.email``) and
``users.lookupByEmail`` (https://api.slack.com/methods/users.lookupByEmail).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from workflows.domain import Person
from workflows.errors import WorkflowError


class NoSlackEmail(WorkflowError):
    """Slack did not give the person's email (a bot, or the scope is missing)."""


class SlackDirectory:
    """Cached look-ups of people; entries live ``ttl`` seconds."""

    def __init__(
        self, client: WebClient, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._people: dict[str, tuple[float, Person]] = {}
        self._ids: dict[str, tuple[float, str | None]] = {}
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def person(self, slack_id: str) -> Person:
        """The person behind a Slack user id, with their lower-cased email.

        Raises:
            NoSlackEmail: Slack has no email for them.
            SlackApiError: Slack refused (e.g. ``user_not_found``).
        """
        now = self._clock()
        with self._lock:
            hit = self._people.get(slack_id)
        if hit and hit[0] > now:
            return hit[1]
        user = self._client.users_info(user=slack_id)["user"]
        profile = user.get("profile") or {}
        email = (profile.get("email") or "").lower()
        if not email:
            raise NoSlackEmail(
                "jitbot can't see your email address in Slack, so it can't match you to an "
                "AWS Identity Center user. Ask your Slack admin to check the app's "
                "users:read.email scope."
            )
        name = (
            profile.get("real_name")
            or user.get("real_name")
            or profile.get("display_name")
            or user.get("name")
            or email
        )
        person = Person(slack_id, email, name)
        with self._lock:
            self._names[email] = name
            self._people[slack_id] = (now + self._ttl, person)
            self._ids[email] = (now + self._ttl, slack_id)
        return person

    def slack_id_for(self, email: str) -> str | None:
        """The Slack user id of ``email``, or None if no such Slack user."""
        email = email.lower()
        now = self._clock()
        with self._lock:
            hit = self._ids.get(email)
        if hit and hit[0] > now:
            return hit[1]
        try:
            user = self._client.users_lookupByEmail(email=email)["user"]
            slack_id: str | None = user["id"]
            profile = user.get("profile") or {}
            name = profile.get("real_name") or user.get("real_name") or user.get("name")
            if name:
                with self._lock:
                    self._names[email] = name
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                raise
            slack_id = None
        with self._lock:
            self._ids[email] = (now + self._ttl, slack_id)
        return slack_id

    def name_for(self, email: str) -> str:
        """A display name for ``email``: the Slack name once known, else the email."""
        email = email.lower()
        with self._lock:
            known = self._names.get(email)
        if known:
            return known
        try:
            self.slack_id_for(email)
        except SlackApiError:
            return email
        with self._lock:
            return self._names.get(email, email)
