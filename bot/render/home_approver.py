"""The approver's part of App Home: Pending Approvals, Request History, Manage Sessions
and Owned Accounts. Buttons come from ``HomeData.actions``."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)

from bot import ids
from bot.render.buttons import details_button
from bot.render.common import slack_date, status_text
from bot.render.escape import cut, esc
from bot.render.home_parts import empty, pager, progress_bar, summary
from bot.render.home_requester import shown_actions
from workflows.actions import Action
from workflows.app_home import HISTORY_FILTERS, AccountsPage, HomeData
from workflows.domain import AccessRequest
from workflows.durations import duration_label
from workflows.ports import Page
from workflows.states import LABELS

#: The actions each list offers, among those the viewer may take.
APPROVAL_ACTIONS = (Action.APPROVE, Action.REJECT)
MANAGED_ACTIONS = (Action.REVOKE,)


def approvals(data: HomeData, page: Page[AccessRequest]) -> list[Block]:
    """Pending Approvals: Approve / Reject where the viewer may decide, and details."""
    blocks: list[Block] = [HeaderBlock(text=f"Pending Approvals ({page.total})")]
    if not page.items:
        blocks.append(empty("Nothing is waiting for you."))
    for r in page.items:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{esc(r.requester.name)}* · {summary(r)} · {duration_label(r.duration)}\n"
                        f"requested {slack_date(r.requested_at)}"
                    )
                )
            )
        )
        buttons = [*shown_actions(data, r, APPROVAL_ACTIONS), details_button(r)]
        blocks.append(ActionsBlock(elements=buttons))
    return blocks + pager("approvals", page)


def history(page: Page[AccessRequest], current: str) -> list[Block]:
    """Request History with its status filter (``current`` is the filter's key)."""
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
        blocks.append(empty("No requests."))
    for r in page.items:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{esc(r.requester.name)}* · {summary(r)}\n{status_text(r)} · "
                        f"{duration_label(r.duration)} · requested {slack_date(r.requested_at)}"
                    )
                ),
                accessory=details_button(r),
            )
        )
    return blocks + pager("history", page)


def managed(data: HomeData, page: Page[AccessRequest]) -> list[Block]:
    """Manage Sessions: Revoke where the viewer may revoke, else View details."""
    blocks: list[Block] = [HeaderBlock(text="Manage Sessions")]
    if not page.items:
        blocks.append(empty("No active sessions on your accounts."))
    for r in page.items:
        assert r.session is not None
        revoke = shown_actions(data, r, MANAGED_ACTIONS)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{esc(r.requester.name)}* · {summary(r)}\nGranted "
                        f"{slack_date(r.session.granted_at)} · {progress_bar(r, data.now)}"
                    )
                ),
                accessory=revoke[0] if revoke else details_button(r),
            )
        )
    return blocks + pager("managed", page)


def accounts(page: AccountsPage, search: str) -> list[Block]:
    """Owned Accounts with the search box (``search`` is the current text)."""
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
        blocks.append(empty("No accounts match." if search else "You own no accounts."))
    for a in page.items:
        owners = cut(esc(", ".join(a.owners) or "no owner"), 1500)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{esc(a.name)}* `{a.id}`\nOwners: {owners} · Pending {a.pending} · "
                        f"Active {a.active}"
                        + "".join(f"\nRule {cut(esc(line), 300)}" for line in a.rules[:5])
                    )
                )
            )
        )
    return blocks + pager("accounts", page)
