"""The request form's blocks, one function each: the account select, the permission
set type, the permission set, the duration and the justification; and the account
options the account select loads from the bot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
)

from bot import ids
from bot.render.escape import esc
from workflows.catalog import Catalog, CatalogAccount
from workflows.durations import duration_code, duration_label
from workflows.validation import KIND_CUSTOM, KIND_STANDARD

MAX_OPTIONS = 100  # Block Kit: a select holds at most 100 options


def account_option(account: CatalogAccount) -> Option:
    """An account as an option, labelled ``Name (id)`` (option text ≤ 75 characters)."""
    label = account.label
    if len(label) > 75:
        suffix = f"… ({account.id})"
        label = account.name[: 75 - len(suffix)].rstrip() + suffix
    return Option(value=account.id, text=label)


def account_options(
    catalog: Catalog,
    query: str = "",
    offer: Callable[[CatalogAccount], CatalogAccount | None] | None = None,
) -> list[dict[str, Any]]:
    """Accounts matching ``query`` (name or id, case-insensitive) that ``offer`` keeps
    (the access rules let the person ask for something there), at most 100."""
    q = query.strip().lower()
    matches = []
    for a in catalog.accounts:
        if (q in a.name.lower() or q in a.id) and (offer is None or offer(a) is not None):
            matches.append(a)
            if len(matches) == MAX_OPTIONS:
                break
    return [account_option(a).to_dict() for a in matches]


def account_block(account: CatalogAccount | None) -> InputBlock:
    """The account select; it dispatches an action so the form can follow the choice."""
    account_select = ExternalDataSelectElement(
        action_id=ids.ACTION_ACCOUNT,
        placeholder="Choose an account",
        min_query_length=0,
        initial_option=account_option(account) if account else None,
    )
    return InputBlock(
        block_id=ids.BLOCK_ACCOUNT,
        label="AWS account",
        element=account_select,
        dispatch_action=True,
    )


def kind_block(kind: str) -> InputBlock:
    """Standard or custom permission set; it dispatches an action, like the account."""
    options = [
        Option(value=KIND_STANDARD, text="Standard", description="A pre-defined permission set"),
        Option(
            value=KIND_CUSTOM,
            text="Custom",
            description="Build one for this request: owner, then SSO admin approve",
        ),
    ]
    return InputBlock(
        block_id=ids.BLOCK_KIND,
        label="Permission set type",
        dispatch_action=True,
        element=RadioButtonsElement(
            action_id=ids.ACTION_KIND,
            options=options,
            initial_option=options[1] if kind == KIND_CUSTOM else options[0],
        ),
    )


def choose_account_hint() -> ContextBlock:
    """What stands where the permission set select will be, before an account is chosen."""
    return ContextBlock(
        elements=[
            MarkdownTextObject(
                text="Choose an account to see the permission sets you can request on it."
            )
        ]
    )


def permission_set_block(account: CatalogAccount, chosen: str | None = None) -> InputBlock:
    """The permission sets allowed on ``account`` (at most 100), ``chosen`` selected; it
    dispatches an action so the form can say what the access rule asks."""
    options = [
        Option(value=name, text=name[:75]) for name in list(account.permission_sets)[:MAX_OPTIONS]
    ]
    initial = next((o for o in options if o.value == chosen), None)
    return InputBlock(
        block_id=ids.BLOCK_PERMISSION_SET,
        label="Permission set",
        dispatch_action=True,
        element=StaticSelectElement(
            action_id=ids.ACTION_PERMISSION_SET,
            placeholder="Choose a permission set",
            options=options,
            initial_option=initial,
        ),
    )


def rule_context_block(line: str) -> ContextBlock:
    """What the access rule will ask (:func:`workflows.access_rules.rule_line`),
    escaped: a rule's group names are the config's, shown as written."""
    return ContextBlock(
        block_id=ids.BLOCK_RULE_LINE,
        elements=[MarkdownTextObject(text=f":scroll: {esc(line)}")],
    )


def duration_block(durations: list[Any]) -> InputBlock:
    """How long the access lasts, from the configured durations (at most 100)."""
    return InputBlock(
        block_id=ids.BLOCK_DURATION,
        label="Duration",
        element=StaticSelectElement(
            action_id=ids.ACTION_DURATION,
            placeholder="How long you need access",
            options=[
                Option(value=duration_code(d), text=duration_label(d))
                for d in durations[:MAX_OPTIONS]
            ],
        ),
    )


def justification_block() -> InputBlock:
    """Why the access is needed (≤ 2000 characters; approvers see it)."""
    return InputBlock(
        block_id=ids.BLOCK_JUSTIFICATION,
        label="Justification",
        hint="Why you need this access (at least 10 characters). Approvers see it.",
        element=PlainTextInputElement(
            action_id=ids.ACTION_JUSTIFICATION,
            multiline=True,
            max_length=2000,
            placeholder="e.g. Investigating failed deploys in ticket OPS-123",
        ),
    )


def ticket_block() -> InputBlock:
    """The ticket an access rule asks for (checked against the rule's pattern on
    submit); optional here, since the rule that governs is known only then."""
    return InputBlock(
        block_id=ids.BLOCK_TICKET,
        label="Ticket",
        optional=True,
        hint="Some access needs a ticket (an incident or change number); you'll be told if so.",
        element=PlainTextInputElement(
            action_id=ids.ACTION_TICKET, max_length=64, placeholder="e.g. INC-1234"
        ),
    )
