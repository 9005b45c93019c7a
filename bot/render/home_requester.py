"""The requester's part of App Home: My Requests (with Cancel while pending) and Active
Sessions (Open in AWS, Extend, Release now). Buttons come from ``HomeData.actions``."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids
from bot.render.buttons import action_button, again_button, details_button
from bot.render.common import slack_date, status_text
from bot.render.home_parts import empty, pager, progress_bar, summary
from workflows.actions import Action, may_request_again
from workflows.app_home import HomeData
from workflows.domain import AccessRequest
from workflows.durations import duration_label

#: The actions each list offers, among those the viewer may take.
MINE_ACTIONS = (Action.CANCEL,)
SESSION_ACTIONS = (Action.EXTEND, Action.RELEASE)


def shown_actions(
    data: HomeData, request: AccessRequest, kinds: tuple[Action, ...]
) -> list[ButtonElement]:
    """The buttons of ``kinds`` that ``data`` offers the viewer on ``request``."""
    offered = data.actions.get(request.id, ())
    return [action_button(a, request) for a in kinds if a in offered]


def my_requests(data: HomeData) -> list[Block]:
    """My Requests: one row a request, its details, and Cancel while it may be cancelled."""
    blocks: list[Block] = [HeaderBlock(text="My Requests")]
    if not data.mine.items:
        blocks.append(empty("You have no requests yet. Press Request Access to ask for one."))
    for r in data.mine.items:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"{summary(r)} · {duration_label(r.duration)}\n{status_text(r)} · "
                        f"requested {slack_date(r.requested_at)}"
                    )
                ),
                accessory=details_button(r),
            )
        )
        buttons = shown_actions(data, r, MINE_ACTIONS)
        if may_request_again(r):  # My Requests are the viewer's own
            buttons.append(again_button(r))
        if buttons:
            blocks.append(ActionsBlock(elements=buttons))
    return blocks + pager("mine", data.mine)


def my_sessions(data: HomeData) -> list[Block]:
    """Active Sessions: progress, Open in AWS (a link) and Release now."""
    blocks: list[Block] = [HeaderBlock(text="Active Sessions")]
    if not data.sessions.items:
        blocks.append(empty("No active sessions."))
    for r in data.sessions.items:
        assert r.session is not None
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"{summary(r)}\nGranted {slack_date(r.session.granted_at)} · "
                        f"{progress_bar(r, data.now)} · ends {slack_date(r.session.expires_at)}"
                    )
                )
            )
        )
        buttons: list[ButtonElement] = []
        if data.portal_url:
            buttons.append(
                ButtonElement(
                    text="Open in AWS",
                    action_id=ids.ACTION_OPEN_AWS,
                    url=data.portal_url,
                    value=str(r.id),
                )
            )
        buttons += shown_actions(data, r, SESSION_ACTIONS)
        if buttons:
            blocks.append(ActionsBlock(elements=buttons))
    return blocks + pager("sessions", data.sessions)
