"""What a simulated person does in modals and the App Home: fill in and submit a modal,
pick from a select (``block_actions``), type into an external select
(``block_suggestion``), click a button in a view. The bot's answer to a submission is
applied to the fake as Slack would apply it.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from sim.client_elements import (
    STATELESS,
    SlackClientError,
    action_payload,
    elements,
    find,
    initial_state,
    is_empty,
    label,
    selection,
)
from sim.signed_sender import SLACK_TIMEOUT_SECONDS, Response, SignedSender

__all__ = ["ViewActions"]


class ViewActions(SignedSender):
    """A person's actions on views (modals and App Home)."""

    def latest_view(self) -> dict[str, Any] | None:
        """The modal the fake last opened, pushed or updated for this person."""
        return self.fake.latest_view(self.user_id)

    def _current_view(self, view: dict[str, Any], *, must_be_open: bool = True) -> dict[str, Any]:
        current = self.fake.view(view.get("id", "")) if isinstance(view, dict) else None
        if current is None:
            raise SlackClientError(
                f"no such view {view.get('id') if isinstance(view, dict) else view!r}"
            )
        if current.get("user_id") != self.user_id:
            raise SlackClientError(f"view {current['id']} belongs to {current.get('user_id')}")
        open_ids = {v["id"] for v in self.fake.open_modals(self.user_id)}
        if must_be_open and current["type"] == "modal" and current["id"] not in open_ids:
            raise SlackClientError(f"modal {current['id']} is closed")
        return current

    @staticmethod
    def _view_payload(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(view)
        out.pop("user_id", None)
        out["state"] = {"values": copy.deepcopy(values)}
        return out

    def fill(self, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Build a view's ``state.values`` after entering ``values`` (action_id -> value).

        Starts from the elements' initial values and whatever was already selected in the
        view, then applies ``values``: a static select takes an option value (which must
        be offered), a text input its text, a multi-select or checkboxes a list.
        """
        blocks = view.get("blocks") or []
        state: dict[str, dict[str, Any]] = {}
        for block, element in elements(blocks):
            if element.get("type") in STATELESS:
                continue
            entry = {"type": element.get("type"), **initial_state(element)}
            state.setdefault(block["block_id"], {})[element["action_id"]] = entry
        for block_id, entries in (view.get("state") or {}).get("values", {}).items():
            for action_id, entry in entries.items():
                if action_id in state.get(block_id, {}):
                    state[block_id][action_id] = copy.deepcopy(entry)
        for action_id, value in values.items():
            block, element = find(blocks, action_id)
            if element.get("type") in STATELESS:
                raise SlackClientError(f"{action_id} is a {element.get('type')}, not an input")
            state[block["block_id"]][action_id] = {
                "type": element["type"],
                **selection(element, value),
            }
        return state

    def submit(self, view: dict[str, Any], values: dict[str, Any] | None = None) -> Response:
        """Fill in ``values`` and press the modal's submit button.

        The bot's answer is applied to the fake like Slack would (close, ``errors``,
        ``update``, ``push``, ``clear``); problems with it are in ``Response.problems``.
        """
        current = self._current_view(view)
        if current["type"] != "modal" or not current.get("submit"):
            raise SlackClientError(f"view {current['id']} has no submit button")
        state = self.fill(current, values or {})
        for block in current.get("blocks", []):
            if block.get("type") != "input" or block.get("optional"):
                continue
            element = block.get("element") or {}
            entry = state.get(block["block_id"], {}).get(element.get("action_id"), {})
            if is_empty(entry):
                field_label = (block.get("label") or {}).get("text", block["block_id"])
                raise SlackClientError(
                    f"required field {field_label!r} is empty; Slack won't submit"
                )
        self.fake.set_view_state(current["id"], state)
        payload = {
            **self._envelope("view_submission"),
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "view": self._view_payload(current, state),
            "response_urls": [],
        }
        title = (current.get("title") or {}).get("text", "")
        self.fake.log(f'[@{self.name}] submitted "{title}"')
        response = self._interaction(payload)
        if response.elapsed > SLACK_TIMEOUT_SECONDS:
            response.problems = ["the app did not answer within 3 seconds"]
        else:
            response.problems = self.fake.apply_view_response(
                self.user_id, current["id"], response.status, response.body
            )
        return response

    def select_in_view(
        self, view: dict[str, Any], action_id: str, value: Any, *, block_id: str | None = None
    ) -> Response:
        """Pick ``value`` in a select (or other element) of a modal/home view.

        Sends ``block_actions`` like Slack does for selects outside input blocks or in an
        input block with ``dispatch_action: true``.
        """
        current = self._current_view(view)
        block, element = find(current.get("blocks") or [], action_id, block_id)
        if block.get("type") == "input" and not block.get("dispatch_action"):
            raise SlackClientError(
                f"input block {block.get('block_id')!r} has no dispatch_action: true; "
                "Slack sends nothing until the modal is submitted"
            )
        chosen = selection(element, value)
        state = self.fill(current, {})
        state.setdefault(block["block_id"], {})[action_id] = {"type": element["type"], **chosen}
        self.fake.set_view_state(current["id"], state)
        action = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block["block_id"],
            **chosen,
            "action_ts": f"{time.time():.6f}",
        }
        if element.get("placeholder"):
            action["placeholder"] = element["placeholder"]
        payload = {
            **self._envelope("block_actions"),
            "container": {"type": "view", "view_id": current["id"]},
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "view": self._view_payload(current, state),
            "actions": [action],
            "state": {"values": copy.deepcopy(state)},
        }
        self.fake.log(f"[@{self.name}] picked {value!r} in {action_id}")
        return self._interaction(payload)

    def suggest(self, view: dict[str, Any], action_id: str, value: str) -> Any:
        """Type ``value`` into an external select; returns the bot's options JSON."""
        current = self._current_view(view)
        block, element = find(current.get("blocks") or [], action_id)
        if element.get("type") not in ("external_select", "multi_external_select"):
            raise SlackClientError(
                f"{action_id} is a {element.get('type')}, not an external select"
            )
        min_length = int(element.get("min_query_length", 3))
        if len(value) < min_length:
            raise SlackClientError(f"Slack asks for options only after {min_length} characters")
        payload = {
            **self._envelope("block_suggestion"),
            "container": {"type": "view", "view_id": current["id"]},
            "action_id": action_id,
            "block_id": block["block_id"],
            "value": value,
            "view": self._view_payload(current, self.fill(current, {})),
        }
        return self._interaction(payload).json()

    def _click_in_view(
        self, view: dict[str, Any], action_id: str, value: Any, block_id: str | None
    ) -> Response:
        current = self._current_view(view)
        block, element = find(current.get("blocks") or [], action_id, block_id)
        if block.get("type") == "input" and not block.get("dispatch_action"):
            raise SlackClientError(
                f"input block {block.get('block_id')!r} does not dispatch actions"
            )
        state = self.fill(current, {})
        if element.get("type") not in STATELESS and value is not None:
            state[block["block_id"]][action_id] = {
                "type": element["type"],
                **selection(element, value),
            }
            self.fake.set_view_state(current["id"], state)
        payload = {
            **self._envelope("block_actions"),
            "container": {"type": "view", "view_id": current["id"]},
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "view": self._view_payload(current, state),
            "actions": [action_payload(block, element, value)],
            "state": {"values": copy.deepcopy(state)},
        }
        where = "App Home" if current["type"] == "home" else "a modal"
        self.fake.log(f"[@{self.name}] clicked {label(element, value)} in {where}")
        return self._interaction(payload)
