"""The ids Slack gives blocks and elements that have none, and the modal state Slack
keeps across a ``views.update`` (values of elements whose ids are still there).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

__all__ = ["prune_state", "with_ids"]


def with_ids(blocks: list[Any]) -> list[dict[str, Any]]:
    """Copy ``blocks``, giving blocks and interactive elements ids as Slack does."""
    out = copy.deepcopy(blocks)
    for index, block in enumerate(out):
        if not isinstance(block, dict):
            continue
        if "block_id" not in block:
            digest = hashlib.sha1(json.dumps(block, sort_keys=True).encode()).hexdigest()
            block["block_id"] = f"{digest[:4]}{index}"
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        for position, el in enumerate(elements):
            if isinstance(el, dict) and el.get("type") != "image" and "action_id" not in el:
                digest = hashlib.sha1(json.dumps(el, sort_keys=True).encode()).hexdigest()
                el["action_id"] = f"{digest[:4]}{position}"
    return out


def prune_state(state: Any, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep entered values whose block_id/action_id still exist after a view update."""
    values = state.get("values", {}) if isinstance(state, dict) else {}
    present: dict[str, set[str]] = {}
    for block in blocks:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        present[block.get("block_id", "")] = {
            e.get("action_id", "") for e in elements if isinstance(e, dict)
        }
    kept: dict[str, Any] = {}
    for block_id, entries in values.items():
        if block_id in present and isinstance(entries, dict):
            mine = {a: v for a, v in entries.items() if a in present[block_id]}
            if mine:
                kept[block_id] = copy.deepcopy(mine)
    return kept
