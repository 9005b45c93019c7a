"""The fake Slack's user groups: ``usergroups.list`` and ``usergroups.users.list``
(https://docs.slack.dev/reference/methods/usergroups.list,
https://docs.slack.dev/reference/methods/usergroups.users.list), kept as
handle -> (``S…`` id, member user ids)."""

from __future__ import annotations

from typing import Any

from sim.slack_records import SlackError
from sim.slack_state import SlackState

__all__ = ["UserGroupMethods"]


class UserGroupMethods(SlackState):
    """User groups a test or the demo sets up with :meth:`add_usergroup`."""

    def add_usergroup(self, handle: str, members: list[str], *, disabled: bool = False) -> str:
        """Make (or replace) the user group ``handle`` with ``members`` (Slack user ids);
        returns its ``S…`` id."""
        with self._lock:
            groups = self.__dict__.setdefault("_usergroups", {})
            old = groups.get(handle)
            group_id = old["id"] if old else f"S{next(self._ids):08d}"
            groups[handle] = {"id": group_id, "users": list(members), "disabled": disabled}
            return group_id

    def _groups(self) -> dict[str, dict[str, Any]]:
        return self.__dict__.setdefault("_usergroups", {})

    def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        with_disabled = str(args.get("include_disabled", "")).lower() in ("1", "true")
        with_users = str(args.get("include_users", "")).lower() in ("1", "true")
        listed = []
        for handle, group in self._groups().items():
            if group["disabled"] and not with_disabled:
                continue
            entry: dict[str, Any] = {
                "id": group["id"],
                "team_id": self.team_id,
                "handle": handle,
                "name": handle,
                "date_delete": 1 if group["disabled"] else 0,
                "user_count": len(group["users"]),
            }
            if with_users:
                entry["users"] = list(group["users"])
            listed.append(entry)
        return {"usergroups": listed}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = str(args.get("usergroup", ""))
        for group in self._groups().values():
            if group["id"] == wanted:
                if group["disabled"] and str(args.get("include_disabled", "")) not in ("1", "true"):
                    raise SlackError("no_such_subteam")
                return {"users": list(group["users"])}
        raise SlackError("no_such_subteam")
