"""App Home: the dashboard, the requester's lists and, for approvers, their tools.

A pure function of :class:`workflows.app_home.HomeData`. Every list shows one page of
:data:`workflows.app_home.PAGE_SIZE` rows with Newer/Older buttons, so the view stays
within Slack's 100 blocks however many rows there are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.render.common import slack_date, status_text
from workflows.domain import AccessRequest
from workflows.durations import duration_label, format_remaining
from workflows.app_home import HISTORY_FILTERS, PAGE_SIZE, AccountsPage, HomeData
from workflows.ports import Page
from workflows.states import LABELS, Status

BAR_WIDTH = 10


def progress_bar(request: AccessRequest, now: datetime) -> str:
    """``▓▓▓▓▓░░░░░ 2h 10m left``: the share of the session still to run."""
    session = request.session
    if session is None:
        return ""
    total = (session.expires_at - session.granted_at).total_seconds() or 1
    left = max(0.0, (session.expires_at - now).total_seconds())
    filled = round(BAR_WIDTH * min(1.0, left / total))
    bar = "▓" * filled + "░" * (BAR_WIDTH - filled)
    return f"`{bar}` {format_remaining(session.expires_at - now)} left"


def _details(request: AccessRequest) -> ButtonElement:
    return ButtonElement(text="View details", action_id=ids.ACTION_DETAILS, value=str(request.id))


def _pager(name: str, page: Page | AccountsPage) -> list[Block]:
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


def _empty(text: str) -> Block:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _summary(request: AccessRequest) -> str:
    return f"*{request.permission_set_name}* on {request.account_label}"


def _stats(data: HomeData) -> Block:
    cards = [
        ("Active Sessions", data.stats["active"]),
        ("Pending Requests", data.stats["pending"]),
    ]
    if data.approvals is not None:
        cards.append(("Pending Approvals", data.stats.get("approvals", 0)))
    cards.append(("Total Requests", data.stats["total"]))
    return SectionBlock(fields=[MarkdownTextObject(text=f"*{n}*\n{v}") for n, v in cards])


def _my_requests(data: HomeData) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="My Requests")]
    if not data.mine.items:
        blocks.append(_empty("You have no requests yet. Press Request Access to ask for one."))
    for r in data.mine.items:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"{_summary(r)} · {duration_label(r.duration)}\n{status_text(r)} · "
                        f"requested {slack_date(r.requested_at)}"
                    )
                ),
                accessory=_details(r),
            )
        )
        if r.status == Status.PENDING:
            blocks.append(
                ActionsBlock(
                    elements=[
                        ButtonElement(
                            text="Cancel request",
                            action_id=ids.ACTION_CANCEL,
                            value=str(r.id),
                            confirm=ConfirmObject(
                                title="Cancel this request?",
                                text="Approvers will no longer see it.",
                                confirm="Cancel request",
                                deny="Keep it",
                            ),
                        )
                    ]
                )
            )
    return blocks + _pager("mine", data.mine)


def _my_sessions(data: HomeData) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Active Sessions")]
    if not data.sessions.items:
        blocks.append(_empty("No active sessions."))
    for r in data.sessions.items:
        assert r.session is not None
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"{_summary(r)}\nGranted {slack_date(r.session.granted_at)} · "
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
        buttons.append(
            ButtonElement(
                text="Release now",
                action_id=ids.ACTION_RELEASE,
                value=str(r.id),
                style="danger",
                confirm=ConfirmObject(
                    title="Release this access now?",
                    text=f"Your access to {r.account_label} as {r.permission_set_name} ends at once.",
                    confirm="Release now",
                    deny="Keep it",
                ),
            )
        )
        blocks.append(ActionsBlock(elements=buttons))
    return blocks + _pager("sessions", data.sessions)


def _approvals(page: Page) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=f"Pending Approvals ({page.total})")]
    if not page.items:
        blocks.append(_empty("Nothing is waiting for you."))
    for r in page.items:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{r.requester.name}* · {_summary(r)} · {duration_label(r.duration)}\n"
                        f"requested {slack_date(r.requested_at)}"
                    )
                )
            )
        )
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Approve",
                        action_id=ids.ACTION_APPROVE,
                        value=str(r.id),
                        style="primary",
                    ),
                    ButtonElement(
                        text="Reject", action_id=ids.ACTION_REJECT, value=str(r.id), style="danger"
                    ),
                    _details(r),
                ]
            )
        )
    return blocks + _pager("approvals", page)


def _history(page: Page, current: str) -> list[Block]:
    options = [Option(value="all", text="All statuses")] + [
        Option(value=key, text=LABELS[statuses[0]] if key != "expired" else "Expired")
        for key, statuses in HISTORY_FILTERS.items()
    ]
    initial = next((o for o in options if o.value == (current or "all")), options[0])
    blocks: list[Block] = [
        HeaderBlock(text="Request History"),
        ActionsBlock(
            block_id="history-filter",
            elements=[
                StaticSelectElement(
                    action_id=ids.ACTION_HOME_FILTER,
                    placeholder="Status",
                    options=options,
                    initial_option=initial,
                )
            ],
        ),
    ]
    if not page.items:
        blocks.append(_empty("No requests."))
    for r in page.items:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{r.requester.name}* · {_summary(r)}\n{status_text(r)} · "
                        f"{duration_label(r.duration)} · requested {slack_date(r.requested_at)}"
                    )
                ),
                accessory=_details(r),
            )
        )
    return blocks + _pager("history", page)


def _managed(data: HomeData, page: Page) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Manage Sessions")]
    if not page.items:
        blocks.append(_empty("No active sessions on your accounts."))
    for r in page.items:
        assert r.session is not None
        button = (
            ButtonElement(
                text="Revoke", action_id=ids.ACTION_REVOKE, value=str(r.id), style="danger"
            )
            if r.id in data.revocable
            else _details(r)
        )
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{r.requester.name}* · {_summary(r)}\nGranted "
                        f"{slack_date(r.session.granted_at)} · {progress_bar(r, data.now)}"
                    )
                ),
                accessory=button,
            )
        )
    return blocks + _pager("managed", page)


def _accounts(page: AccountsPage, search: str) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(text="Owned Accounts"),
        InputBlock(
            block_id=ids.BLOCK_HOME_SEARCH,
            label="Search accounts",
            optional=True,
            dispatch_action=True,
            hint="Account name, 12-digit id or owner; press Enter.",
            element=PlainTextInputElement(
                action_id=ids.ACTION_HOME_SEARCH,
                initial_value=search or None,
                dispatch_action_config={"trigger_actions_on": ["on_enter_pressed"]},
            ),
        ),
    ]
    if not page.items:
        blocks.append(_empty("No accounts match." if search else "You own no accounts."))
    for a in page.items:
        owners = ", ".join(a.owners) or "no owner"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{a.name}* `{a.id}`\nOwners: {owners[:1500]} · Pending {a.pending} · "
                        f"Active {a.active}"
                    )
                )
            )
        )
    return blocks + _pager("accounts", page)


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
        *_my_requests(data),
        *_my_sessions(data),
    ]
    if data.approvals is not None:
        assert data.history is not None and data.managed is not None
        assert data.accounts is not None
        blocks += [
            DividerBlock(),
            *_approvals(data.approvals),
            *_history(data.history, data.state.history_filter),
            *_managed(data, data.managed),
            *_accounts(data.accounts, data.state.account_search),
        ]
    return View(type="home", blocks=blocks, private_metadata=data.state.to_json()).to_dict()
