"""Slack user groups for access rules (``usergroup:HANDLE``): is a Slack user in one.

``usergroups.list`` maps handles to ``S…`` ids and ``usergroups.users.list`` gives a
group's members (both need the ``usergroups:read`` scope;
https://docs.slack.dev/reference/methods/usergroups.list,
https://docs.slack.dev/reference/methods/usergroups.users.list). Answers are kept for
``ttl`` seconds, so a known person's ``/jit`` costs no call while they are fresh. A
failed call is raised and not remembered: the caller refuses rather than guesses. A
disabled group, or a handle that names none, has no members.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from workflows.errors import WorkflowError

__all__ = ["SlackUserGroups", "UserGroupsUnavailable"]


class UserGroupsUnavailable(WorkflowError):
    """Slack did not say who is in a user group (down, throttled, or the scope is
    missing); the message says which and is fit to show."""


class SlackUserGroups:
    """``in_usergroup(slack_id, handle)``, cached for ``ttl`` seconds of ``clock``."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._ids: tuple[float, dict[str, str]] | None = None
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def in_usergroup(self, slack_id: str, handle: str) -> bool:
        """Whether ``slack_id`` is a member of the user group with this handle (or
        ``S…`` id).

        :raises UserGroupsUnavailable: Slack did not answer.
        """
        group_id = handle if handle.startswith("S") and handle.isupper() else self._id_of(handle)
        return group_id is not None and slack_id in self._users_of(group_id)

    def find(self, handle: str) -> str | None:
        """The ``S…`` id of the enabled user group with this handle (or that id), or
        None, for ``check-config``.

        :raises UserGroupsUnavailable: Slack did not answer.
        """
        self._id_of("")  # fills the handle -> id map
        with self._lock:
            ids = dict(self._ids[1]) if self._ids else {}
        return handle if handle in ids.values() else ids.get(handle)

    def members(self, handle: str) -> tuple[str, ...]:
        """The Slack user ids in the user group (handle or ``S…`` id), for DMing a
        rule's approvers; empty for a disabled or unknown group.

        :raises UserGroupsUnavailable: Slack did not answer.
        """
        group_id = handle if handle.startswith("S") and handle.isupper() else self._id_of(handle)
        return tuple(sorted(self._users_of(group_id))) if group_id else ()

    def _id_of(self, handle: str) -> str | None:
        now = self._clock()
        with self._lock:
            cached = self._ids
        if cached is None or cached[0] <= now:
            answer = self._call("usergroups.list", include_disabled=False)
            ids = {str(g["handle"]): str(g["id"]) for g in answer.get("usergroups", [])}
            with self._lock:
                self._ids = cached = (now + self._ttl, ids)
        return cached[1].get(handle)

    def _users_of(self, group_id: str) -> frozenset[str]:
        now = self._clock()
        with self._lock:
            cached = self._members.get(group_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            answer = self._call("usergroups.users.list", usergroup=group_id)
        except UserGroupsUnavailable as exc:
            if "no_such_subteam" in str(exc):
                return frozenset()
            raise
        members = frozenset(str(u) for u in answer.get("users", []))
        with self._lock:
            self._members[group_id] = (now + self._ttl, members)
        return members

    def _call(self, method: str, **args: object) -> dict:
        try:
            response = self._client.api_call(method, params=args)
        except SlackApiError as exc:
            error = exc.response.get("error", "error") if exc.response is not None else "error"
            hint = " (the app needs the usergroups:read scope)" if error == "missing_scope" else ""
            raise UserGroupsUnavailable(
                f"Slack didn't say who is in a user group ({method}: {error}){hint}."
            ) from exc
        return dict(response.data) if isinstance(response.data, dict) else {}
