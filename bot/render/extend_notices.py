"""The blocks of a thread reply that carries buttons: an extension asked for, in an
approver's thread, with Approve extension and Reject extension (the button's value is
the extension's id, a hint the listener re-checks against the database)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot import ids
from workflows.domain import Notice, NoticeKind


def notice_blocks(notice: Notice, text: str, *, for_requester: bool) -> list[dict[str, Any]] | None:
    """Blocks for the reply ``text`` tells of ``notice``; None for a text-only reply."""
    data = notice.extension or {}
    if notice.kind != NoticeKind.EXTENSION_ASKED or for_requester or "id" not in data:
        return None
    value = str(data["id"])
    return [
        SectionBlock(text=MarkdownTextObject(text=text[:3000])).to_dict(),
        ActionsBlock(
            block_id=f"extension-{value}",
            elements=[
                ButtonElement(
                    text="Approve extension",
                    action_id=ids.ACTION_APPROVE_EXTENSION,
                    value=value,
                    style="primary",
                ),
                ButtonElement(
                    text="Reject extension",
                    action_id=ids.ACTION_REJECT_EXTENSION,
                    value=value,
                    style="danger",
                ),
            ],
        ).to_dict(),
    ]
