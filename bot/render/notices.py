"""What a request's thread says when something happens to it: one small function per
:class:`workflows.domain.NoticeKind`, for the requester or for an approver."""

from __future__ import annotations

from collections.abc import Callable

from bot.render.common import approval_progress, slack_date
from bot.render.escape import esc
from bot.render.notices_life import LIFE_TEXTS
from bot.render.told import Told
from workflows.domain import AccessRequest, Notice, NoticeKind
from workflows.durations import duration_label


def _sent_to_admins(t: Told) -> str | None:
    if not t.for_requester:
        return None
    return (
        f":information_source: {esc(t.request.account_label)} has no account owner who can "
        "approve this, so it went to the jitbot admins and SSO admins. Ask your "
        "administrator to assign owners to this account."
    )


def _approvers_unreachable(t: Told) -> str | None:
    if not t.for_requester:
        return None
    return (
        ":warning: jitbot could not reach any approver of this request in Slack. "
        "The jitbot admins have been told; you may also ask your administrator to "
        "check the account's owners."
    )


def _owner_approved(t: Told) -> str:
    return (
        f":white_check_mark: Owner approval by {t.by}{t.comment} Waiting for an SSO "
        "admin's final approval."
    )


def _approved(t: Told) -> str:
    tail = " Granting access…" if t.for_requester else ""
    if t.notice.by:  # an access rule's auto_approve
        return f":white_check_mark: Approved automatically by {esc(t.notice.by)}.{tail}"
    return f":white_check_mark: Approved by {t.by}{t.comment}{tail}"


def _granted(t: Told) -> str:
    request, session = t.request, t.request.session
    assert session is not None
    until = slack_date(session.expires_at)
    if not t.for_requester:
        return f":large_green_circle: Access granted until {until}."
    text = f":large_green_circle: Access granted: {t.access} until {until}."
    if t.portal_url:
        text += f" <{t.portal_url}|Open the AWS access portal>"
    if request.session_limit is not None:
        text += f" Each AWS sign-in lasts at most {duration_label(request.session_limit)}."
    return text


def _grant_failed(t: Told) -> str:
    reason = esc(t.notice.detail or "AWS did not say why")
    return f":warning: Granting access failed, nothing was granted: {reason}"


def _approval_counted(t: Told) -> str:
    return f":ballot_box_with_check: {approval_progress(t.request)}{t.comment}"


def _grant_pending(t: Told) -> str:
    if t.for_requester:
        return (
            f":hourglass_flowing_sand: AWS IAM Identity Center is still setting up {t.access}. "
            "jitbot keeps checking and will say here when it is ready (or if it fails); "
            "your access time starts then."
        )
    return (
        f":hourglass_flowing_sand: AWS IAM Identity Center is still setting up {t.access}; "
        "jitbot keeps checking."
    )


def _expired(t: Told) -> str:
    session = t.request.session
    assert session is not None
    when = slack_date(session.ended_at or session.expires_at)
    return f":black_circle: Access expired {when}: " + t.what_happened()


def _revoked(t: Told) -> str:
    why = f" (“{esc(t.notice.detail)}”)" if t.notice.detail else ""
    by = esc(t.notice.by or "an approver")
    return f":no_entry: Access revoked by {by}{why}: " + t.what_happened()


def _released(t: Told) -> str:
    by = esc(t.notice.by or "the requester")
    return f":black_circle: Access released early by {by}: " + t.what_happened()


def _timed_out(t: Told) -> str:
    if t.for_requester:
        return (
            ":black_circle: Your request expired: nobody approved it in time. "
            f"Use {t.slash_command} to ask again if you still need access."
        )
    return ":black_circle: Expired without a decision."


def _assignment_vanished(t: Told) -> str:
    if t.for_requester:
        return (
            f":warning: Your access ({t.access}) was removed outside jitbot, in AWS IAM "
            "Identity Center, before its end, so jitbot marked it Revoked. "
            f"Use {t.slash_command} to ask again if you still need access."
        )
    return (
        f":warning: The access ({t.access}) was removed outside jitbot, in AWS IAM "
        "Identity Center, before its end; jitbot marked it Revoked."
    )


_TEXTS: dict[NoticeKind, Callable[[Told], str | None]] = {
    NoticeKind.SENT_TO_ADMINS: _sent_to_admins,
    NoticeKind.APPROVERS_UNREACHABLE: _approvers_unreachable,
    NoticeKind.OWNER_APPROVED: _owner_approved,
    NoticeKind.APPROVED: _approved,
    NoticeKind.APPROVAL_COUNTED: _approval_counted,
    NoticeKind.REJECTED: lambda t: f":x: Rejected by {t.by}{t.comment}",
    NoticeKind.GRANTED: _granted,
    NoticeKind.GRANT_FAILED: _grant_failed,
    NoticeKind.GRANT_PENDING: _grant_pending,
    NoticeKind.EXPIRED: _expired,
    NoticeKind.REVOKED: _revoked,
    NoticeKind.RELEASED: _released,
    NoticeKind.CANCELLED: lambda t: (
        f":heavy_minus_sign: Cancelled by {esc(t.notice.by or 'the requester')}."
    ),
    NoticeKind.TIMED_OUT: _timed_out,
    NoticeKind.REVOKE_FAILED: lambda t: None,
    NoticeKind.ASSIGNMENT_VANISHED: _assignment_vanished,
    **LIFE_TEXTS,
}


def notice_text(
    request: AccessRequest,
    notice: Notice,
    *,
    for_requester: bool,
    portal_url: str | None = None,
    slash_command: str = "/jit",
) -> str | None:
    """What a thread says about ``notice``; None when this audience is not told."""
    text = _TEXTS.get(notice.kind)
    if text is None:
        return None
    return text(Told(request, notice, for_requester, portal_url, slash_command))
