"""App Home: the dashboard, the requester's lists and, for approvers, their tools.

A pure function of :class:`workflows.app_home.HomeData`. Every list shows one page of
:data:`workflows.app_home.PAGE_SIZE` rows with Newer/Older buttons, so the view stays
within Slack's 100 blocks however many rows there are. The lists themselves are in
:mod:`bot.render.home_requester` and :mod:`bot.render.home_approver`.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.render import home_approver
from bot.render.home_parts import progress_bar
from bot.render.home_requester import my_requests, my_sessions
from workflows.app_home import HomeData

__all__ = ["home_view", "progress_bar"]


def _stats(data: HomeData) -> Block:
    cards = [
        ("Active Sessions", data.stats["active"]),
        ("Pending Requests", data.stats["pending"]),
    ]
    if data.approvals is not None:
        cards.append(("Pending Approvals", data.stats.get("approvals", 0)))
    cards.append(("Total Requests", data.stats["total"]))
    return SectionBlock(fields=[MarkdownTextObject(text=f"*{n}*\n{v}") for n, v in cards])


def home_view(data: HomeData) -> dict[str, Any]:
    """The whole App Home for ``data.viewer``; ``private_metadata`` keeps the paging state."""
    blocks: list[Block] = [
        HeaderBlock(text="Just-in-time AWS access"),
        _stats(data),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Request Access", action_id=ids.ACTION_HOME_REQUEST, style="primary"
                )
            ]
        ),
        DividerBlock(),
        *my_requests(data),
        *my_sessions(data),
    ]
    if data.approvals is not None:
        assert data.history is not None and data.managed is not None
        assert data.accounts is not None
        blocks += [
            DividerBlock(),
            *home_approver.approvals(data, data.approvals),
            *home_approver.history(data.history, data.state.history_filter),
            *home_approver.managed(data, data.managed),
            *home_approver.accounts(data.accounts, data.state.account_search),
        ]
    return View(type="home", blocks=blocks, private_metadata=data.state.to_json()).to_dict()
