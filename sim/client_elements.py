"""How a Slack client reads and fills the interactive elements of blocks: the state an
element starts with, what choosing a value puts in ``state.values`` and in a
``block_actions`` action, and what it refuses (:class:`SlackClientError`).

Payload shapes: https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
and https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from sim.blocks_text import blocks_to_text

__all__ = [
    "STATELESS",
    "SlackClientError",
    "action_payload",
    "elements",
    "find",
    "initial_state",
    "is_empty",
    "label",
    "selection",
]

# Element type -> the state/action key its selection goes under.
SINGLE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
MULTI_OPTION = {"multi_static_select", "multi_external_select", "checkboxes"}
VALUE_KEY = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "rich_text_input": "rich_text_value",
}
STATELESS = {"button", "overflow", "workflow_button", "image"}


class SlackClientError(Exception):
    """Something the Slack client would not let the person do."""


def _options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _pick(element: dict[str, Any], value: str) -> dict[str, Any]:
    for option in _options_of(element):
        if option.get("value") == value:
            return copy.deepcopy(option)
    offered = [o.get("value") for o in _options_of(element)]
    raise SlackClientError(
        f"{element.get('action_id')}: no option with value {value!r} (offered: {offered})"
    )


def selection(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The ``selected_*``/``value`` part of an element's state or action for ``value``."""
    kind = element.get("type")
    if kind in SINGLE_OPTION:
        if value is None:
            return {"selected_option": None}
        if isinstance(value, dict):
            return {"selected_option": copy.deepcopy(value)}
        if kind == "external_select":
            text = {"type": "plain_text", "text": str(value), "emoji": True}
            return {"selected_option": {"text": text, "value": str(value)}}
        return {"selected_option": _pick(element, str(value))}
    if kind in MULTI_OPTION:
        values = [] if value is None else [value] if isinstance(value, str) else list(value)
        if kind == "multi_external_select":
            return {
                "selected_options": [
                    {"text": {"type": "plain_text", "text": v}, "value": v} for v in values
                ]
            }
        return {"selected_options": [_pick(element, v) for v in values]}
    key = VALUE_KEY.get(str(kind))
    if key is None:
        raise SlackClientError(f"cannot enter a value into a {kind} element")
    if key.endswith("s") and isinstance(value, str):
        value = [value]
    return {key: value}


def initial_state(element: dict[str, Any]) -> dict[str, Any]:
    """An element's state before the person touches it (its initial value, if any)."""
    kind = element.get("type")
    if kind in SINGLE_OPTION:
        return {"selected_option": copy.deepcopy(element.get("initial_option"))}
    if kind in MULTI_OPTION:
        return {"selected_options": copy.deepcopy(element.get("initial_options") or [])}
    key = VALUE_KEY.get(str(kind))
    if key is None:
        return {}
    initial = {
        "selected_user": "initial_user",
        "selected_users": "initial_users",
        "selected_conversation": "initial_conversation",
        "selected_conversations": "initial_conversations",
        "selected_channel": "initial_channel",
        "selected_channels": "initial_channels",
        "selected_date": "initial_date",
        "selected_time": "initial_time",
        "selected_date_time": "initial_date_time",
    }.get(key, "initial_value")
    default: Any = [] if key.endswith("s") else None
    return {key: copy.deepcopy(element.get(initial, default))}


def is_empty(entry: dict[str, Any]) -> bool:
    return all(v in (None, "", []) for k, v in entry.items() if k != "type")


def elements(blocks: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(block, element)`` for every interactive element in ``blocks``."""
    found = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "actions":
            found.extend((block, el) for el in block.get("elements") or [] if isinstance(el, dict))
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                found.append((block, block[key]))
    return [(b, e) for b, e in found if e.get("type") != "image"]


def find(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    for block, element in elements(blocks):
        if element.get("action_id") == action_id and block_id in (None, block.get("block_id")):
            return block, element
    available = sorted({str(e.get("action_id")) for _, e in elements(blocks)})
    raise SlackClientError(f"no element with action_id {action_id!r} here (have: {available})")


def action_payload(block: dict[str, Any], element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The ``actions[0]`` of a ``block_actions`` payload for using ``element`` (a button's
    own ``value`` unless ``value`` forges another one).

    :raises SlackClientError: a select or input is used without a ``value``.
    """
    action: dict[str, Any] = {
        "type": element.get("type"),
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        "action_ts": f"{time.time():.6f}",
    }
    if element.get("type") == "button":
        action["text"] = copy.deepcopy(element.get("text"))
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        if element.get("style"):
            action["style"] = element["style"]
    elif element.get("type") == "workflow_button":
        action["text"] = copy.deepcopy(element.get("text"))
    else:
        if value is None:
            raise SlackClientError(
                f"{element.get('action_id')} is a {element.get('type')}; pass value="
            )
        action.update(selection(element, value))
    return action


def label(element: dict[str, Any], value: Any) -> str:
    """How the transcript names a click: ``[Approve]``, or ``'x' in action_id``."""
    if element.get("type") == "button":
        return blocks_to_text([{"type": "actions", "elements": [element]}]) or "a button"
    return f"{value!r} in {element.get('action_id')}"
