"""The fake Slack's views: modals (in a stack of at most 3 per person) and App Home tabs,
the records ``views.*`` answer with, and the queries tests and simulated people use.

Record shape and stack rules: https://docs.slack.dev/reference/views and
https://docs.slack.dev/surfaces/modals (``previous_view_id``, ``root_view_id``, ``hash``).
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from sim.block_ids import prune_state, with_ids
from sim.slack_records import SlackError
from sim.slack_state import SlackState

__all__ = ["MAX_VIEW_STACK", "ViewStore"]

MAX_VIEW_STACK = 3


class ViewStore(SlackState):
    """Views by id, each person's modal stack, latest modal and App Home."""

    # ---- queries -------------------------------------------------------------------

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Snapshot of every view by id (modals and homes), each with ``user_id``."""
        with self._lock:
            return copy.deepcopy(self._views)

    def view(self, view_id: str) -> dict[str, Any] | None:
        """Snapshot of one view, or None."""
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found else None

    def latest_view(self, user_id: str) -> dict[str, Any] | None:
        """The modal most recently opened, pushed or updated for ``user_id`` (even if closed)."""
        with self._lock:
            view_id = self._latest_modal.get(user_id)
            return self.view(view_id) if view_id else None

    def latest_view_id(self, user_id: str) -> str | None:
        """Id of the view :meth:`latest_view` would return (no copy), or None."""
        with self._lock:
            return self._latest_modal.get(user_id)

    def wait_for_modal(self, user_id: str, other_than: str | None, timeout: float) -> str | None:
        """Block until ``user_id``'s latest modal (opened, pushed or updated) is a view
        other than ``other_than``; its id, or None after ``timeout`` seconds. Woken by
        each change instead of polling, so many waiters cost the server nothing."""
        with self._modal_changed:
            found = self._modal_changed.wait_for(
                lambda: self._latest_modal.get(user_id) not in (None, other_than), timeout
            )
            return self._latest_modal.get(user_id) if found else None

    def open_modals(self, user_id: str) -> list[dict[str, Any]]:
        """The user's open modal stack, root first (empty when no modal is open)."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._stacks.get(user_id, [])]

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view published for ``user_id``, or None."""
        with self._lock:
            view_id = self._homes.get(user_id)
            return self.view(view_id) if view_id else None

    def set_view_state(self, view_id: str, values: dict[str, Any]) -> None:
        """Store a view's client-side ``state.values`` (what the person has entered)."""
        with self._lock:
            if view_id in self._views:
                self._views[view_id]["state"] = {"values": copy.deepcopy(values)}

    # ---- records -------------------------------------------------------------------

    def _view_record(self, view: dict[str, Any], view_id: str, user_id: str | None) -> dict:
        record: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": with_ids(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata") or "",
            "callback_id": view.get("callback_id") or "",
            "external_id": view.get("external_id") or "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            "user_id": user_id,
        }
        for key in ("title", "submit", "close"):
            if view.get(key) is not None:
                record[key] = copy.deepcopy(view[key])
        return record

    def _register_external_id(self, record: dict[str, Any]) -> None:
        external = record.get("external_id")
        if external:
            owner = self._external_ids.get(external)
            if owner is not None and owner != record["id"]:
                raise SlackError("duplicate_external_id", f"external_id {external!r} is in use")
            self._external_ids[external] = record["id"]

    def _new_view_id(self) -> str:
        return f"V{next(self._ids):08X}"

    def _new_modal(self, view: dict[str, Any], user_id: str | None, stack: list[str]) -> dict:
        record = self._view_record(view, self._new_view_id(), user_id)
        self._register_external_id(record)
        if stack:
            record["previous_view_id"] = stack[-1]
            record["root_view_id"] = stack[0]
        stack.append(record["id"])
        self._views[record["id"]] = record
        if user_id:
            with self._modal_changed:
                self._latest_modal[user_id] = record["id"]
                self._modal_changed.notify_all()
        return record

    def _replace_view(self, current: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
        record = self._view_record(view, current["id"], current["user_id"])
        record["previous_view_id"] = current["previous_view_id"]
        record["root_view_id"] = current["root_view_id"]
        if current.get("external_id") and not record["external_id"]:
            record["external_id"] = current["external_id"]
        self._register_external_id(record)
        record["state"] = {"values": prune_state(current.get("state"), record["blocks"])}
        self._views[current["id"]] = record
        if record["type"] == "modal" and record["user_id"]:
            with self._modal_changed:
                self._latest_modal[record["user_id"]] = record["id"]
                self._modal_changed.notify_all()
        return record

    def _close(self, user_id: str, view_ids: list[str]) -> None:
        stack = self._stacks.get(user_id, [])
        self._stacks[user_id] = [v for v in stack if v not in view_ids]

    @staticmethod
    def _view_api(record: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(record)
        out.pop("user_id", None)
        return out
