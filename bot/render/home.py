"""App Home: a Request Access button and the viewer's recent requests."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.render.common import slack_date, status_text
from workflows.domain import AccessRequest
from workflows.durations import duration_label


def home_view(requests: list[AccessRequest], slash_command: str = "/jit") -> dict[str, Any]:
    """The viewer's home: Request Access, then their most recent requests (≤ 20 rows)."""
    blocks: list[Block] = [
        HeaderBlock(text="Just-in-time AWS access"),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Request Access", action_id=ids.ACTION_HOME_REQUEST, style="primary"
                )
            ]
        ),
        DividerBlock(),
        HeaderBlock(text="My Requests"),
    ]
    if not requests:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"You have no requests yet. Press Request Access or type {slash_command}."
                    )
                ]
            )
        )
    for request in requests[:20]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{request.permission_set_name}* on {request.account_label} · "
                        f"{duration_label(request.duration)}\n{status_text(request)} · requested "
                        f"{slack_date(request.requested_at)}"
                    )
                ),
                accessory=ButtonElement(
                    text="View details", action_id=ids.ACTION_DETAILS, value=str(request.id)
                ),
            )
        )
    return View(type="home", blocks=blocks).to_dict()
