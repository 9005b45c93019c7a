"""Messages of a request's conversation: the requester's root, each approver's root, and
the thread replies that tell what happened."""

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

from bot.ids import ACTION_APPROVE, ACTION_DETAILS, ACTION_REJECT
from bot.render.common import (
    custom_set_text,
    quote,
    request_fields,
    session_limit_text,
    slack_date,
    warnings_text,
)
from workflows.domain import AccessRequest, Notice, NoticeKind, Role, Stage
from workflows.durations import duration_label
from workflows.policy import decision_buttons_shown
from workflows.states import Status


def _summary(request: AccessRequest) -> str:
    return (
        f"{request.permission_set_name} on {request.account_label} "
        f"for {duration_label(request.duration)}"
    )


def _outcome_context(request: AccessRequest) -> list[Block]:
    lines: list[str] = []
    review = request.decision
    if review is not None:
        line = f"{review.decision.value.capitalize()} by {review.reviewer.name} {slack_date(review.decided_at)}"
        if review.comment:
            line += f": “{review.comment[:500]}”"
        if request.status == Status.PENDING_ADMIN:
            line += ", waiting for an SSO admin"
        lines.append(line)
    session = request.session
    if session is not None:
        if session.ended_at is None:
            lines.append(f"Access until {slack_date(session.expires_at)}")
        else:
            lines.append(f"Access ended {slack_date(session.ended_at)} ({session.end_reason})")
    return [ContextBlock(elements=[MarkdownTextObject(text=line)]) for line in lines]


def _details_button(request: AccessRequest) -> ButtonElement:
    return ButtonElement(text="View details", action_id=ACTION_DETAILS, value=str(request.id))


def _buttons_for(request: AccessRequest, role: Role) -> bool:
    """A message offers Approve/Reject only while its own stage is being decided."""
    if not decision_buttons_shown(request):
        return False
    if role == Role.ADMIN_APPROVER:
        return request.status == Status.PENDING_ADMIN
    return request.status in (Status.PENDING, Status.PENDING_OWNER)


def approval_message(request: AccessRequest, role: Role = Role.APPROVER) -> dict[str, Any]:
    """The DM an approver gets: the request (for a custom one its permission set and the
    warnings computed at submit), and Approve / Reject / View details while this
    message's stage is being decided; afterwards who decided and when."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":key: *{request.requester.name}* requests access (request #{request.id})"
                + (": final approval" if role == Role.ADMIN_APPROVER else "")
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
    if _buttons_for(request, role):
        blocks.append(
            ActionsBlock(
                block_id=f"decide-{request.id}",
                elements=[
                    ButtonElement(
                        text="Approve",
                        action_id=ACTION_APPROVE,
                        value=str(request.id),
                        style="primary",
                    ),
                    ButtonElement(
                        text="Reject",
                        action_id=ACTION_REJECT,
                        value=str(request.id),
                        style="danger",
                    ),
                    _details_button(request),
                ],
            )
        )
    else:
        blocks += _outcome_context(request)
        blocks.append(ActionsBlock(elements=[_details_button(request)]))
    text = f"{request.requester.name} requests {_summary(request)} — {request.status_label}"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def _custom_blocks(request: AccessRequest, role: Role) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=custom_set_text(request)))]
    warnings = warnings_text(request)
    if warnings:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=warnings)))
    owner_review = request.review_of(Stage.OWNER)
    if role == Role.ADMIN_APPROVER and owner_review is not None:
        line = f"Owner approval: {owner_review.reviewer.name} {slack_date(owner_review.decided_at)}"
        if owner_review.comment:
            line += f": “{owner_review.comment[:500]}”"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    return blocks


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
        ActionsBlock(elements=[_details_button(request)]),
    ]
    text = f"Your request #{request.id}: {_summary(request)} — {request.status_label}"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def _what_happened(request: AccessRequest, notice: Notice) -> str:
    """The end of a session in words: removed, or kept for an overlapping grant."""
    access = f"{request.permission_set_name} on {request.account_label}"
    if notice.kept:
        return (
            f"this request's access ended, but {access} stays assigned for another active "
            "request of the same person, until that one ends."
        )
    return f"{access} has been removed."


def notice_text(
    request: AccessRequest,
    notice: Notice,
    *,
    for_requester: bool,
    portal_url: str | None = None,
    slash_command: str = "/jit",
) -> str | None:
    """What a thread says about ``notice``; None when this audience is not told."""
    review = request.decision
    by = review.reviewer.name if review else "someone"
    comment = f": “{notice.detail}”" if notice.detail else "."
    session = request.session
    match notice.kind:
        case NoticeKind.SENT_TO_ADMINS:
            if not for_requester:
                return None
            return (
                f":information_source: {request.account_label} has no account owner who can "
                "approve this, so it went to the jitbot admins and SSO admins. Ask your "
                "administrator to assign owners to this account."
            )
        case NoticeKind.APPROVERS_UNREACHABLE:
            if not for_requester:
                return None
            return (
                ":warning: jitbot could not reach any approver of this request in Slack. "
                "The jitbot admins have been told; you may also ask your administrator to "
                "check the account's owners."
            )
        case NoticeKind.OWNER_APPROVED:
            return (
                f":white_check_mark: Owner approval by {by}{comment} Waiting for an SSO "
                "admin's final approval."
            )
        case NoticeKind.APPROVED:
            tail = " Granting access…" if for_requester else ""
            return f":white_check_mark: Approved by {by}{comment}{tail}"
        case NoticeKind.REJECTED:
            return f":x: Rejected by {by}{comment}"
        case NoticeKind.GRANTED:
            assert session is not None
            until = slack_date(session.expires_at)
            if not for_requester:
                return f":large_green_circle: Access granted until {until}."
            text = (
                f":large_green_circle: Access granted: {request.permission_set_name} on "
                f"{request.account_label} until {until}."
            )
            if portal_url:
                text += f" <{portal_url}|Open the AWS access portal>"
            if request.session_limit is not None:
                text += f" Each AWS sign-in lasts at most {duration_label(request.session_limit)}."
            return text
        case NoticeKind.GRANT_FAILED:
            reason = notice.detail or "AWS did not say why"
            return f":warning: Granting access failed, nothing was granted: {reason}"
        case NoticeKind.EXPIRED:
            assert session is not None
            return (
                f":black_circle: Access expired {slack_date(session.ended_at or session.expires_at)}: "
                + _what_happened(request, notice)
            )
        case NoticeKind.REVOKED:
            why = f" (“{notice.detail}”)" if notice.detail else ""
            return (
                f":no_entry: Access revoked by {notice.by or 'an approver'}{why}: "
                + _what_happened(request, notice)
            )
        case NoticeKind.RELEASED:
            return (
                f":black_circle: Access released early by {notice.by or 'the requester'}: "
                + _what_happened(request, notice)
            )
        case NoticeKind.CANCELLED:
            return f":heavy_minus_sign: Cancelled by {notice.by or 'the requester'}."
        case NoticeKind.TIMED_OUT:
            if for_requester:
                return (
                    ":black_circle: Your request expired: nobody approved it in time. "
                    f"Use {slash_command} to ask again if you still need access."
                )
            return ":black_circle: Expired without a decision."
        case NoticeKind.REVOKE_FAILED:
            return None
        case NoticeKind.ASSIGNMENT_VANISHED:
            what = f"{request.permission_set_name} on {request.account_label}"
            if for_requester:
                return (
                    f":warning: Your access ({what}) was removed outside jitbot, in AWS IAM "
                    "Identity Center, before its end, so jitbot marked it Revoked. "
                    f"Use {slash_command} to ask again if you still need access."
                )
            return (
                f":warning: The access ({what}) was removed outside jitbot, in AWS IAM "
                "Identity Center, before its end; jitbot marked it Revoked."
            )
