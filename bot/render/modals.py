"""Modals other than the request form: the reject and revoke confirmations with their
reason input, request details, and the explanations shown instead of a form when
nothing can be requested. The request form's names are importable from here too."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.render.common import (
    custom_set_text,
    quote,
    request_fields,
    session_limit_text,
    slack_date,
    warnings_text,
)
from bot.render.escape import esc
from bot.render.request_modal import PRIVATE_METADATA_MAX, request_modal
from bot.render.request_parts import MAX_OPTIONS, account_option, account_options
from workflows.domain import AccessRequest

__all__ = [
    "MAX_OPTIONS",
    "NO_ACCOUNTS_TEXT",
    "PRIVATE_METADATA_MAX",
    "account_option",
    "account_options",
    "details_modal",
    "message_modal",
    "reason_input",
    "reject_modal",
    "request_modal",
    "revoke_modal",
]


def message_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only explains something (no accounts, no Identity Center user)."""
    return View(
        type="modal",
        title=title[:24],
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text[:3000]))],
    ).to_dict()


NO_ACCOUNTS_TEXT = (
    "*No accounts available*\n"
    "There is no AWS account you can request access to yet. Accounts appear only when "
    "they are configured in jitbot and have at least one valid permission set. "
    "Ask your jitbot administrator to add the account and its permission sets."
)


def reason_input(block_id: str, action_id: str, hint: str) -> InputBlock:
    """An optional free-text "Reason" (≤ 1000 characters) for a reject or a revoke."""
    return InputBlock(
        block_id=block_id,
        label="Reason",
        optional=True,
        hint=hint,
        element=PlainTextInputElement(action_id=action_id, multiline=True, max_length=1000),
    )


def reject_modal(request: AccessRequest) -> dict[str, Any]:
    """Reject with an optional reason. ``private_metadata`` names the request; the
    submission re-checks authority from the database, it does not trust it."""
    return View(
        type="modal",
        callback_id=ids.CALLBACK_REJECT,
        title="Reject request",
        submit="Reject",
        close="Cancel",
        private_metadata=json.dumps({"request_id": request.id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Reject *{esc(request.requester.name)}*'s request for "
                    f"*{esc(request.permission_set_name)}* on *{esc(request.account_label)}*?"
                )
            ),
            reason_input(
                ids.BLOCK_REJECT_REASON, ids.ACTION_REJECT_REASON, "The requester sees this."
            ),
        ],
    ).to_dict()


def details_modal(request: AccessRequest) -> dict[str, Any]:
    """Everything about a request (approver guide "Viewing Request Details")."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*Request #{request.id}*")),
        SectionBlock(fields=request_fields(request)),
        SectionBlock(
            text=MarkdownTextObject(text="*Justification*\n" + quote(request.justification))
        ),
    ]
    if request.custom is not None:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=custom_set_text(request, inline_limit=2500)))
        )
        warnings = warnings_text(request)
        if warnings:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=warnings)))
    limit_text = session_limit_text(request)
    if limit_text and request.custom is None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=limit_text)]))
    for review in request.reviews:
        stage = {"owner": "Owner approval — ", "admin": "Admin approval — "}.get(review.stage, "")
        line = stage + (
            f"*Reviewed by* {esc(review.reviewer.name)} ({esc(review.reviewer.email)}) — "
            f"{review.decision.value} {slack_date(review.decided_at)}"
        )
        if review.comment:
            line += "\n*Reviewer comment*\n" + quote(review.comment, 1500)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    session = request.session
    if session is not None:
        line = f"*Granted* {slack_date(session.granted_at)}\n"
        if session.ended_at is None:
            line += f"*Ends* {slack_date(session.expires_at)}"
        else:
            line += f"*Ended* {slack_date(session.ended_at)} ({esc(session.end_reason)})"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    return View(type="modal", title="Request details", close="Close", blocks=blocks).to_dict()


def revoke_modal(request: AccessRequest, now: Any) -> dict[str, Any]:
    """Confirm a revocation: it ends the access at once (approver guide "Revoking a
    Session"). ``private_metadata`` names the request; authority is re-checked on submit."""
    from bot.render.home_parts import progress_bar

    return View(
        type="modal",
        callback_id=ids.CALLBACK_REVOKE,
        title="Revoke session",
        submit="Confirm Revoke",
        close="Cancel",
        private_metadata=json.dumps({"request_id": request.id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=":warning: Revoking removes this person's access *immediately*. "
                    "It cannot be undone."
                )
            ),
            SectionBlock(
                fields=[
                    MarkdownTextObject(
                        text=f"*User*\n{esc(request.requester.name)} "
                        f"({esc(request.requester.email)})"
                    ),
                    MarkdownTextObject(text=f"*AWS account*\n{esc(request.account_label)}"),
                    MarkdownTextObject(
                        text=f"*Permission set*\n{esc(request.permission_set_name)}"
                    ),
                    MarkdownTextObject(text=f"*Time remaining*\n{progress_bar(request, now)}"),
                ]
            ),
            reason_input(
                ids.BLOCK_REVOKE_REASON,
                ids.ACTION_REVOKE_REASON,
                "Recommended: the requester and the audit trail see it.",
            ),
        ],
    ).to_dict()
