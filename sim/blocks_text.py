"""Block Kit blocks flattened to readable text, as a person skimming the message sees it.

Used by the transcript and by tests that assert on what a message says.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["blocks_to_text", "text_of"]


def text_of(obj: Any) -> str:
    """The ``text`` of a text object (``{"type": "plain_text", "text": ...}``), or ``""``;
    in ``mrkdwn`` the escapes ``&lt;``, ``&gt;`` and ``&amp;`` show as the characters
    they stand for, as Slack shows them."""
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        text = obj["text"]
        if obj.get("type") == "mrkdwn":
            text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        return text
    return ""


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") in ("text", "link") and isinstance(node.get("text"), str):
            return node["text"]
        if node.get("type") == "link":
            return str(node.get("url", ""))
        return "".join(_rich_text(child) for child in node.get("elements") or [])
    if isinstance(node, list):
        return "".join(_rich_text(child) for child in node)
    return ""


def _button_labels(elements: Iterable[Any]) -> str:
    return " ".join(
        f"[{text_of(el.get('text'))}]"
        for el in elements
        if isinstance(el, dict) and el.get("type") == "button"
    )


def blocks_to_text(blocks: Any) -> str:
    """Flatten Block Kit blocks to readable text, one line per block.

    Sections (text, fields joined by `` | ``, a button accessory), headers, context,
    input labels, markdown and rich text are kept; buttons show as ``[Approve] [Reject]``.
    """
    lines: list[str] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        line = ""
        if kind == "section":
            parts = [text_of(block.get("text"))]
            parts.append(" | ".join(text_of(f) for f in block.get("fields") or []))
            parts.append(_button_labels([block.get("accessory")]))
            line = " ".join(p for p in parts if p)
        elif kind in ("header", "markdown"):
            line = text_of(block.get("text")) if kind == "header" else str(block.get("text", ""))
        elif kind == "context":
            line = " ".join(text_of(el) for el in block.get("elements") or [] if text_of(el))
        elif kind == "actions":
            line = _button_labels(block.get("elements") or [])
        elif kind == "input":
            line = text_of(block.get("label"))
        elif kind == "rich_text":
            line = _rich_text(block.get("elements") or [])
        if line:
            lines.append(line)
    return "\n".join(lines)
