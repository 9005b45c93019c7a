"""The expiry warning's reply in the requester's thread: its words
(:mod:`bot.render.notices`) and the buttons Extend and Release now."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, MarkdownTextObject, SectionBlock

from bot.render.buttons import action_button
from workflows.actions import Action
from workflows.domain import AccessRequest, Notice, NoticeKind
from workflows.states import Status


def notice_blocks(
    request: AccessRequest, notice: Notice, text: str, *, for_requester: bool
) -> list[dict[str, Any]] | None:
    """The blocks of a thread reply whose notice comes with buttons (the requester's
    expiry warning, while the session is Active), around its ``text``; None: the reply
    is ``text`` alone."""
    if notice.kind != NoticeKind.EXPIRY_WARNING or not for_requester:
        return None
    blocks = [SectionBlock(text=MarkdownTextObject(text=text))]
    if request.status == Status.ACTIVE:
        blocks.append(
            ActionsBlock(
                block_id=f"expiry-{request.id}",
                elements=[
                    action_button(Action.EXTEND, request),
                    action_button(Action.RELEASE, request),
                ],
            )
        )
    return [b.to_dict() for b in blocks]
