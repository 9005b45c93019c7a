"""Block Kit checks of blocks and views: what Slack would refuse a message, a modal or an
App Home for, worded like Slack's ``invalid_blocks`` / ``invalid_arguments`` messages.

Pure functions; the limits are from https://docs.slack.dev/reference/block-kit/blocks and
https://docs.slack.dev/reference/views.
"""

from __future__ import annotations

from typing import Any

from sim.blockkit_elements import ElementChecks
from sim.blockkit_types import (
    ACTIONS_ELEMENTS,
    BLOCK_TYPES,
    INPUT_ELEMENTS,
    SECTION_ACCESSORIES,
    Surface,
)

__all__ = ["Surface", "block_kit_problems", "view_problems"]


class _Checker(ElementChecks):
    """Checks of block lists and of each block type (``_block_<type>``)."""

    def blocks(self, blocks: Any, path: str, surface: Surface) -> None:
        if not isinstance(blocks, list):
            self.add(path, "must be an array")
            return
        limit = 50 if surface == "message" else 100
        if len(blocks) > limit:
            self.add(
                path, f"must provide an array of no more than {limit} items (got {len(blocks)})"
            )
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"{path}/{i}", surface, seen)

    def block(self, block: Any, path: str, surface: Surface, seen: set[str]) -> None:
        if not isinstance(block, dict):
            self.add(path, "must be an object")
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.add(f"{path}/type", f"unknown block type {kind!r}")
            return
        if kind == "file" and surface != "message":
            self.add(f"{path}/type", f"file blocks are not allowed in a {surface}")
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, f"{path}/block_id", 255)
            if block_id in seen:
                self.add(f"{path}/block_id", f"duplicate block_id {block_id!r}")
            seen.add(block_id)
        check = getattr(self, f"_block_{kind}", None)
        if check is not None:
            check(block, path)

    def _block_section(self, block: dict, path: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            self.add(path, "must contain text or fields")
        self.text(text, f"{path}/text", 3000, required=False)
        if fields is not None:
            if not isinstance(fields, list):
                self.add(f"{path}/fields", "must be an array")
            else:
                if len(fields) > 10:
                    self.add(f"{path}/fields", "must provide an array of no more than 10 items")
                for i, f in enumerate(fields):
                    self.text(f, f"{path}/fields/{i}", 2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{path}/accessory", SECTION_ACCESSORIES)

    def _block_actions(self, block: dict, path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{path}/elements", "must be a non-empty array")
            return
        if len(elements) > 25:
            self.add(f"{path}/elements", "must provide an array of no more than 25 items")
        seen: set[str] = set()
        for i, el in enumerate(elements):
            self.element(el, f"{path}/elements/{i}", ACTIONS_ELEMENTS)
            action_id = el.get("action_id") if isinstance(el, dict) else None
            if action_id is not None:
                if action_id in seen:
                    self.add(f"{path}/elements/{i}/action_id", f"duplicate action_id {action_id!r}")
                seen.add(action_id)

    def _block_context(self, block: dict, path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{path}/elements", "must be a non-empty array")
            return
        if len(elements) > 10:
            self.add(f"{path}/elements", "must provide an array of no more than 10 items")
        for i, el in enumerate(elements):
            if isinstance(el, dict) and el.get("type") == "image":
                self.element(el, f"{path}/elements/{i}", {"image"})
            else:
                self.text(el, f"{path}/elements/{i}", 3000)

    def _block_header(self, block: dict, path: str) -> None:
        self.text(block.get("text"), f"{path}/text", 150, plain=True)

    def _block_input(self, block: dict, path: str) -> None:
        self.text(block.get("label"), f"{path}/label", 2000, plain=True)
        self.text(block.get("hint"), f"{path}/hint", 2000, plain=True, required=False)
        if block.get("element") is None:
            self.add(f"{path}/element", "is required")
        else:
            self.element(block["element"], f"{path}/element", INPUT_ELEMENTS)

    def _block_image(self, block: dict, path: str) -> None:
        if block.get("image_url") is None and block.get("slack_file") is None:
            self.add(path, "must provide image_url or slack_file")
        self.string(block.get("image_url"), f"{path}/image_url", 3000)
        self.string(block.get("alt_text"), f"{path}/alt_text", 2000, required=True)
        self.text(block.get("title"), f"{path}/title", 2000, plain=True, required=False)

    def _block_markdown(self, block: dict, path: str) -> None:
        self.string(block.get("text"), f"{path}/text", 12000, required=True)

    def _block_rich_text(self, block: dict, path: str) -> None:
        if not isinstance(block.get("elements"), list):
            self.add(f"{path}/elements", "must be an array")


def block_kit_problems(blocks: Any, *, surface: Surface = "message") -> list[str]:
    """Return the Block Kit problems Slack would refuse ``blocks`` for (empty if fine).

    ``surface`` is ``"message"`` (at most 50 blocks) or ``"modal"``/``"home"`` (at most 100).
    Each problem reads like Slack's ``response_metadata.messages``:
    ``"[ERROR] must be at most 75 characters (got 80) [json-pointer:/blocks/2/elements/0/text/text]"``.
    """
    checker = _Checker()
    checker.blocks(blocks, "/blocks", surface)
    return checker.problems


def view_problems(view: Any) -> list[str]:
    """Return the problems Slack would refuse a ``modal``/``home`` view payload for."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.add("/view", "must be an object")
        return checker.problems
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.add("/view/type", "must be modal or home")
        return checker.problems
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", 24, plain=True)
        for key in ("submit", "close"):
            checker.text(view.get(key), f"/view/{key}", 24, plain=True, required=False)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and not view.get("submit"):
            checker.add("/view/submit", "is required when the view contains input blocks")
    checker.string(view.get("private_metadata"), "/view/private_metadata", 3000)
    checker.string(view.get("callback_id"), "/view/callback_id", 255)
    checker.string(view.get("external_id"), "/view/external_id", 255)
    if view.get("blocks") is None:
        checker.add("/view/blocks", "is required")
    else:
        checker.blocks(view.get("blocks"), "/view/blocks", "home" if kind == "home" else "modal")
    return checker.problems
