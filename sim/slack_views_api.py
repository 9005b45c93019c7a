"""The fake Slack's ``views.open``, ``views.push``, ``views.update`` and ``views.publish``,
with the trigger ids they need (usable once, within 3 seconds:
https://docs.slack.dev/interactivity/handling-user-interaction#modal_responses).
"""

from __future__ import annotations

import secrets
from typing import Any

from sim.blockkit import view_problems
from sim.blocks_text import text_of
from sim.slack_records import SlackError, Trigger, present
from sim.slack_views import MAX_VIEW_STACK, ViewStore

__all__ = ["TRIGGER_TTL_SECONDS", "ViewMethods"]

TRIGGER_TTL_SECONDS = 3.0


class ViewMethods(ViewStore):
    """The ``views.*`` Web API methods (each takes the call's arguments, returns the
    answer's fields or raises :class:`~sim.slack_records.SlackError`)."""

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """Issue a trigger id (valid for 3 s of :attr:`clock`, usable once)."""
        with self._lock:
            trigger = (
                f"{next(self._ids)}.{abs(hash(self.team_id)) % 10**12}.{secrets.token_hex(16)}"
            )
            self._triggers[trigger] = Trigger(self.clock(), user_id)
            return trigger

    def _take_trigger(self, trigger_id: str) -> Trigger:
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id", "the fake never issued this trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise SlackError("expired_trigger_id", "trigger_id is older than 3 seconds")
        if trigger.used:
            raise SlackError("exchanged_trigger_id", "trigger_id was already used")
        trigger.used = True
        return trigger

    def _check_view(self, view: Any, kind: str) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", "`view` must be an object")
        if view.get("type") != kind:
            raise SlackError(
                "invalid_arguments",
                f"view type must be {kind}",
                [f"[ERROR] must be {kind} [json-pointer:/view/type]"],
            )
        problems = view_problems(view)
        if problems:
            raise SlackError("invalid_arguments", "; ".join(problems), problems)
        return view

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(args["view"], "modal")
        trigger = self._take_trigger(str(args["trigger_id"]))
        stack: list[str] = []
        record = self._new_modal(view, trigger.user_id, stack)
        if trigger.user_id:
            self._stacks[trigger.user_id] = stack
        who = f"@{self.user_name(trigger.user_id)}" if trigger.user_id else "someone"
        self.log(f'[modal for {who}] opened "{text_of(view.get("title"))}"')
        return {"view": self._view_api(record)}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(args["view"], "modal")
        trigger = self._take_trigger(str(args["trigger_id"]))
        stack = self._stacks.setdefault(trigger.user_id or "", [])
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached", f"at most {MAX_VIEW_STACK} views in a stack")
        record = self._new_modal(view, trigger.user_id, stack)
        who = f"@{self.user_name(trigger.user_id)}" if trigger.user_id else "someone"
        self.log(f'[modal for {who}] pushed "{text_of(view.get("title"))}"')
        return {"view": self._view_api(record)}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id") or self._external_ids.get(str(args.get("external_id")))
        current = self._views.get(str(view_id)) if view_id else None
        if current is None:
            raise SlackError("not_found", "no view with that view_id/external_id")
        expected = args.get("hash")
        if present(expected) and expected != current["hash"]:
            raise SlackError("hash_conflict", "the view changed since that hash")
        view = self._check_view(args["view"], current["type"])
        record = self._replace_view(current, view)
        owner = f"@{self.user_name(record['user_id'])}" if record["user_id"] else "someone"
        if record["type"] == "home":
            self.log(f"[home for {owner}] updated: {self._shown('', record['blocks'])}")
        else:
            self.log(f'[modal for {owner}] updated "{text_of(view.get("title"))}"')
        return {"view": self._view_api(record)}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args["user_id"])
        if user_id not in self._users:
            raise SlackError("user_not_found", f"no user {user_id}")
        view = self._check_view(args["view"], "home")
        current_id = self._homes.get(user_id)
        expected = args.get("hash")
        if current_id and present(expected) and expected != self._views[current_id]["hash"]:
            raise SlackError("hash_conflict", "the home view changed since that hash")
        if current_id:
            record = self._replace_view(self._views[current_id], view)
        else:
            record = self._view_record(view, self._new_view_id(), user_id)
            self._register_external_id(record)
            self._views[record["id"]] = record
            self._homes[user_id] = record["id"]
        self.log(
            f"[home for @{self.user_name(user_id)}] published: {self._shown('', record['blocks'])}"
        )
        return {"view": self._view_api(record)}
