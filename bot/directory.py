"""People in Slack: Slack user id <-> email, and who they are in the workspace, cached.

Uses ``users.info`` (needs ``users:read`` and ``users:read.email``;
https://docs.slack.dev/reference/methods/users.info) and ``users.lookupByEmail``
(https://docs.slack.dev/reference/methods/users.lookupByEmail). Both answer with a
user object (https://api.slack.com/types/user); every one that arrives is kept, so a
person looked up one way is known the other way without another call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from workflows.domain import Person
from workflows.errors import WorkflowError

log = logging.getLogger("jitbot.directory")

#: How long a user object fetched before a failed look-up may stand in for a fresh
#: one (seconds): while Slack is down or throttling, people it knew a moment ago can
#: still act; a person it never saw is refused.
STALE_FOR = 600.0


class NoSlackEmail(WorkflowError):
    """Slack did not give the person's email (a bot, or the scope is missing)."""


@dataclass(frozen=True)
class SlackMember:
    """What ``users.info`` says of a Slack user, as far as who may use jitbot goes.

    ``team_id`` is the user's workspace (an ``E…`` id for some org users);
    ``enterprise_id`` is ``enterprise_user.enterprise_id`` (None outside Enterprise
    Grid). ``is_restricted`` is a multi-channel guest, ``is_ultra_restricted`` a
    single-channel guest; ``is_stranger`` a user of another workspace met through
    Slack Connect; ``deleted`` a deactivated account. ``is_email_confirmed`` is
    False when Slack does not say True (a missing field counts as unconfirmed).
    """

    slack_id: str
    team_id: str | None
    enterprise_id: str | None
    is_bot: bool
    deleted: bool
    is_restricted: bool
    is_ultra_restricted: bool
    is_stranger: bool
    is_email_confirmed: bool

    @classmethod
    def of(cls, user: dict[str, Any]) -> SlackMember:
        """From a user object (``users.info``'s ``user``)."""
        enterprise = user.get("enterprise_user")
        return cls(
            slack_id=str(user.get("id") or ""),
            team_id=user.get("team_id") or None,
            enterprise_id=(enterprise.get("enterprise_id") or None)
            if isinstance(enterprise, dict)
            else None,
            is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
            deleted=bool(user.get("deleted")),
            is_restricted=bool(user.get("is_restricted")),
            is_ultra_restricted=bool(user.get("is_ultra_restricted")),
            is_stranger=bool(user.get("is_stranger")),
            is_email_confirmed=user.get("is_email_confirmed") is True,
        )


class SlackDirectory:
    """Cached look-ups of people; a person's email and name live ``ttl`` seconds, and
    :meth:`member` asks for its own, shorter, freshness."""

    def __init__(
        self, client: WebClient, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        # user id -> (fetched at, the user object; None: Slack said user_not_found)
        self._users: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._ids: dict[str, tuple[float, str | None]] = {}
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def _keep(self, now: float, slack_id: str, user: dict[str, Any] | None) -> None:
        with self._lock:
            self._users[slack_id] = (now, user)
            if user is None:
                return
            profile = user.get("profile") or {}
            email = (profile.get("email") or "").lower()
            if email:
                self._ids[email] = (now + self._ttl, slack_id)
                name = _name_of(user, email)
                if name:
                    self._names[email] = name

    def _cached(self, slack_id: str, max_age: float) -> tuple[bool, dict[str, Any] | None]:
        """``(True, user)`` when a user object (or a user_not_found) at most ``max_age``
        seconds old is kept."""
        with self._lock:
            hit = self._users.get(slack_id)
        if hit is not None and self._clock() - hit[0] <= max_age:
            return True, hit[1]
        return False, None

    def _fetch(self, slack_id: str, client: WebClient | None = None) -> dict[str, Any] | None:
        """``users.info``, kept; None when Slack says ``user_not_found``.

        Raises:
            SlackApiError: any other refusal.
        """
        now = self._clock()
        try:
            user: dict[str, Any] | None = (client or self._client).users_info(user=slack_id)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") != "user_not_found":
                raise
            user = None
        self._keep(now, slack_id, user)
        return user

    def member(
        self, slack_id: str, *, max_age: float, client: WebClient | None = None
    ) -> SlackMember | None:
        """Who ``slack_id`` is in Slack, from a user object at most ``max_age`` seconds
        old (else ``users.info`` through ``client``, by default the directory's own).
        None: Slack does not know the id (``user_not_found``). When the look-up fails
        otherwise, a user object up to :data:`STALE_FOR` seconds old answers instead.

        Raises:
            SlackApiError: Slack refused and nothing recent enough is kept.
            Exception: the client's transport errors (a timeout), likewise.
        """
        fresh, user = self._cached(slack_id, max_age)
        if not fresh:
            try:
                user = self._fetch(slack_id, client)
            except Exception:
                stale, user = self._cached(slack_id, STALE_FOR)
                if not stale:
                    raise
                log.warning("users.info %s failed; using what Slack said earlier", slack_id)
        return SlackMember.of(user) if user is not None else None

    def forget(self, slack_id: str) -> None:
        """Drop what is kept about ``slack_id``: the next look-up asks Slack (say, after
        Slack told of a change to the person)."""
        with self._lock:
            self._users.pop(slack_id, None)

    def person(self, slack_id: str) -> Person:
        """The person behind a Slack user id, with their lower-cased email.

        Raises:
            NoSlackEmail: Slack has no email for them.
            SlackApiError: Slack refused (e.g. ``user_not_found``).
        """
        fresh, user = self._cached(slack_id, self._ttl)
        if not fresh or user is None:
            user = self._fetch(slack_id)
            if user is None:
                raise SlackApiError(
                    f"users.info {slack_id}: user_not_found",
                    {"ok": False, "error": "user_not_found"},
                )
        profile = user.get("profile") or {}
        email = (profile.get("email") or "").lower()
        if not email:
            raise NoSlackEmail(
                "jitbot can't see your email address in Slack, so it can't match you to an "
                "AWS Identity Center user. Ask your Slack admin to check the app's "
                "users:read.email scope."
            )
        return Person(slack_id, email, _name_of(user, email))

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
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                raise
            with self._lock:
                self._ids[email] = (now + self._ttl, None)
            return None
        slack_id: str = user["id"]
        self._keep(now, slack_id, user)
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


def _name_of(user: dict[str, Any], email: str) -> str:
    profile = user.get("profile") or {}
    return (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
        or user.get("name")
        or email
    )
