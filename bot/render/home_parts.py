"""Pieces every App Home list shares: the session progress bar, the pager, the empty
line and a request's one-line summary."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
)

from bot import ids
from bot.render.escape import esc
from workflows.app_home import PAGE_SIZE, AccountsPage
from workflows.domain import AccessRequest
from workflows.durations import format_remaining
from workflows.ports import Page

BAR_WIDTH = 10


def progress_bar(request: AccessRequest, now: datetime) -> str:
    """``▓▓▓▓▓░░░░░ 2h 10m left``: the share of the session still to run ("" without one)."""
    session = request.session
    if session is None:
        return ""
    total = (session.expires_at - session.granted_at).total_seconds() or 1
    left = max(0.0, (session.expires_at - now).total_seconds())
    filled = round(BAR_WIDTH * min(1.0, left / total))
    bar = "▓" * filled + "░" * (BAR_WIDTH - filled)
    return f"`{bar}` {format_remaining(session.expires_at - now)} left"


def pager(name: str, page: Page[AccessRequest] | AccountsPage) -> list[Block]:
    """``1–5 of 12`` and the Newer/Older buttons of list ``name`` (nothing when empty);
    a button's value is ``name:offset``."""
    if page.total == 0:
        return []
    first, last = page.offset + 1, page.offset + len(page.items)
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=f"{first}–{last} of {page.total}")])
    ]
    buttons = []
    if page.has_newer:
        buttons.append(
            ButtonElement(
                text="‹ Newer",
                action_id=ids.ACTION_HOME_NEWER,
                value=f"{name}:{max(0, page.offset - PAGE_SIZE)}",
            )
        )
    if page.has_older:
        buttons.append(
            ButtonElement(text="Older ›", action_id=ids.ACTION_HOME_OLDER, value=f"{name}:{last}")
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=f"pager-{name}", elements=buttons))
    return blocks


def empty(text: str) -> Block:
    """The grey line a list shows instead of rows."""
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def summary(request: AccessRequest) -> str:
    """``*ReadOnly* on Prod (111122223333)``."""
    return f"*{esc(request.permission_set_name)}* on {esc(request.account_label)}"
