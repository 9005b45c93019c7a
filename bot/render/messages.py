"""Messages of a request's conversation: the requester's root, each approver's root, and
the thread replies that tell what happened (:mod:`bot.render.notices`, re-exported)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.render.buttons import action_button, again_button, details_button, nudge_button
from bot.render.common import (
    custom_set_text,
    quote,
    request_fields,
    session_limit_text,
    slack_date,
    warnings_text,
)
from bot.render.escape import esc
from bot.render.notices import notice_text
from workflows.actions import Action, may_request_again, message_actions, table_allows
from workflows.domain import AccessRequest, MessageRole, Stage
from workflows.durations import duration_label
from workflows.states import PENDING_STATUSES, Status


def _summary(request: AccessRequest) -> str:
    return (
        f"{esc(request.permission_set_name)} on {esc(request.account_label)} "
        f"for {duration_label(request.duration)}"
    )


def _outcome_context(request: AccessRequest) -> list[Block]:
    lines: list[str] = []
    review = request.decision
    if review is not None:
        line = f"{review.decision.value.capitalize()} by {esc(review.reviewer.name)} {slack_date(review.decided_at)}"
        if review.comment:
            line += f": “{esc(review.comment[:500])}”"
        if request.status == Status.PENDING_ADMIN:
            line += ", waiting for an SSO admin"
        lines.append(line)
    session = request.session
    if session is not None:
        if session.ended_at is None:
            lines.append(f"Access until {slack_date(session.expires_at)}")
        else:
            lines.append(f"Access ended {slack_date(session.ended_at)} ({esc(session.end_reason)})")
    return [ContextBlock(elements=[MarkdownTextObject(text=line)]) for line in lines]


def approval_message(
    request: AccessRequest, role: MessageRole = MessageRole.APPROVER
) -> dict[str, Any]:
    """The DM an approver gets: the request (for a custom one its permission set and the
    warnings computed at submit), and Approve / Reject / View details while this
    message's stage is being decided; afterwards who decided and when."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":key: *{esc(request.requester.name)}* requests access (request #{request.id})"
                + (": final approval" if role == MessageRole.ADMIN_APPROVER else "")
            )
        ),
        SectionBlock(fields=request_fields(request)),
        SectionBlock(
            text=MarkdownTextObject(text="*Justification*\n" + quote(request.justification))
        ),
    ]
    if request.custom is not None:
        blocks += _custom_blocks(request, role)
    elif session_limit_text(request):
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=session_limit_text(request) or "")])
        )
    actions = message_actions(request, role)
    if actions:
        buttons = [action_button(a, request) for a in actions]
        blocks.append(
            ActionsBlock(
                block_id=f"decide-{request.id}", elements=[*buttons, details_button(request)]
            )
        )
    else:
        blocks += _outcome_context(request)
        blocks.append(ActionsBlock(elements=[details_button(request)]))
    text = f"{esc(request.requester.name)} requests {_summary(request)} — {request.status_label}"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def _custom_blocks(request: AccessRequest, role: MessageRole) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=custom_set_text(request)))]
    warnings = warnings_text(request)
    if warnings:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=warnings)))
    owner_review = request.review_of(Stage.OWNER)
    if role == MessageRole.ADMIN_APPROVER and owner_review is not None:
        line = f"Owner approval: {esc(owner_review.reviewer.name)} {slack_date(owner_review.decided_at)}"
        if owner_review.comment:
            line += f": “{esc(owner_review.comment[:500])}”"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    return blocks


def _requester_buttons(request: AccessRequest) -> list[ButtonElement]:
    """Extend, while the table allows it (the root is the requester's own; whether the
    rule allows more time is told when it is clicked)."""
    return [action_button(Action.EXTEND, request)] if table_allows(request, Action.EXTEND) else []


def requester_message(request: AccessRequest) -> dict[str, Any]:
    """The requester's DM: the root of the request's thread."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":inbox_tray: Your request #{request.id}: *{_summary(request)}*"
            )
        ),
        SectionBlock(fields=request_fields(request)[1:]),
        *_outcome_context(request),
        ActionsBlock(
            elements=[
                *_requester_buttons(request),
                details_button(request),
                *([nudge_button(request)] if request.status in PENDING_STATUSES else []),
                *([again_button(request)] if may_request_again(request) else []),
            ]
        ),
    ]
    text = f"Your request #{request.id}: {_summary(request)} — {request.status_label}"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


__all__ = ["approval_message", "notice_text", "requester_message"]
