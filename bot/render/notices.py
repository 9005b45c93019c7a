"""What a request's thread says when something happens to it: one small function per
:class:`workflows.domain.NoticeKind`, for the requester or for an approver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.render.common import approval_progress, slack_date
from bot.render.escape import esc
from workflows.domain import AccessRequest, Notice, NoticeKind
from workflows.durations import duration_label
from workflows.states import PENDING_STATUSES, Status


@dataclass(frozen=True)
class _Told:
    """One notice to one audience, with what its sentence needs."""

    request: AccessRequest
    notice: Notice
    for_requester: bool
    portal_url: str | None
    slash_command: str

    @property
    def by(self) -> str:
        review = self.request.decision
        return esc(review.reviewer.name) if review else "someone"

    @property
    def comment(self) -> str:
        return f": “{esc(self.notice.detail)}”" if self.notice.detail else "."

    @property
    def access(self) -> str:
        return f"{esc(self.request.permission_set_name)} on {esc(self.request.account_label)}"

    def what_happened(self) -> str:
        """The end of a session in words: removed, or kept for an overlapping grant; and
        what becomes of the AWS sign-ins already open. Removing an account assignment
        stops new sign-ins only: a role session already made with it lasts until its own
        end, at most the permission set's session duration (IAM Identity Center user
        guide, "Revoke active IAM role sessions created by permission sets"), unless
        ``revoke_live_sessions`` ended them too (the notice's ``live``). Deleting a
        custom ``JIT-`` set deletes its role in the account, which ends them too."""
        if self.notice.kept:
            return (
                f"this request's access ended, but {self.access} stays assigned for another "
                "active request of the same person, until that one ends."
            )
        if self.request.custom is not None:
            return (
                f"{self.access} has been removed, and its permission set deleted, which "
                "ends the AWS sign-ins already open."
            )
        live = self.notice.live
        if live in ("ended", "role_gone"):
            return (
                f"{self.access} has been removed, and the AWS sign-ins already open with it "
                "were ended too (AWS applies this within a few minutes)."
            )
        limit = self.request.session_limit
        most = (
            f"{duration_label(limit)} after they began"
            if limit
            else "the permission set's session duration"
        )
        if live == "failed":
            return (
                f"{self.access} has been removed: no new AWS sign-ins. :warning: jitbot "
                "could NOT end the AWS sign-ins already open: they keep working until they "
                f"end (at most {most}). The admins have been told."
            )
        return (
            f"{self.access} has been removed: no new AWS sign-ins. Sign-ins already open "
            f"keep working until they end (at most {most})."
        )


def _sent_to_admins(t: _Told) -> str | None:
    if not t.for_requester:
        return None
    return (
        f":information_source: {esc(t.request.account_label)} has no account owner who can "
        "approve this, so it went to the jitbot admins and SSO admins. Ask your "
        "administrator to assign owners to this account."
    )


def _approvers_unreachable(t: _Told) -> str | None:
    if not t.for_requester:
        return None
    return (
        ":warning: jitbot could not reach any approver of this request in Slack. "
        "The jitbot admins have been told; you may also ask your administrator to "
        "check the account's owners."
    )


def _owner_approved(t: _Told) -> str:
    return (
        f":white_check_mark: Owner approval by {t.by}{t.comment} Waiting for an SSO "
        "admin's final approval."
    )


def _approved(t: _Told) -> str:
    tail = " Granting access…" if t.for_requester else ""
    if t.notice.by:  # an access rule's auto_approve
        return f":white_check_mark: Approved automatically by {esc(t.notice.by)}.{tail}"
    return f":white_check_mark: Approved by {t.by}{t.comment}{tail}"


def _granted(t: _Told) -> str:
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


def _grant_failed(t: _Told) -> str:
    reason = esc(t.notice.detail or "AWS did not say why")
    return f":warning: Granting access failed, nothing was granted: {reason}"


def _approval_counted(t: _Told) -> str:
    return f":ballot_box_with_check: {approval_progress(t.request)}{t.comment}"


def _grant_pending(t: _Told) -> str:
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


def _expired(t: _Told) -> str:
    session = t.request.session
    assert session is not None
    when = slack_date(session.ended_at or session.expires_at)
    return f":black_circle: Access expired {when}: " + t.what_happened()


def _revoked(t: _Told) -> str:
    why = f" (“{esc(t.notice.detail)}”)" if t.notice.detail else ""
    by = esc(t.notice.by or "an approver")
    return f":no_entry: Access revoked by {by}{why}: " + t.what_happened()


def _released(t: _Told) -> str:
    by = esc(t.notice.by or "the requester")
    return f":black_circle: Access released early by {by}: " + t.what_happened()


def _timed_out(t: _Told) -> str:
    if t.for_requester:
        return (
            ":black_circle: Your request expired: nobody approved it in time. "
            f"Use {t.slash_command} to ask again if you still need access."
        )
    return ":black_circle: Expired without a decision."


def _assignment_vanished(t: _Told) -> str:
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


def _expiry_warning(t: _Told) -> str | None:
    """The requester's thread only: how long is left (whole minutes, seconds under one)
    when the warning was written, and the end in the reader's time zone. Nothing once
    the session is over (a warning Slack could not take until after the end)."""
    session = t.request.session
    if not t.for_requester or session is None or t.request.status != Status.ACTIVE:
        return None
    detail = t.notice.detail or ""
    when = f"({slack_date(session.expires_at)})"
    if detail.isascii() and detail.isdigit():
        left = timedelta(seconds=int(detail))
        if left >= timedelta(minutes=1):
            left = timedelta(minutes=round(left.total_seconds() / 60))
        when = f"in {duration_label(left)} {when}"
    return (
        f":hourglass_flowing_sand: Your access ends {when}: {t.access}. Extend it, or "
        "release it now if you are done."
    )


def _extension_parts(t: _Told) -> tuple[str, str]:
    """``(time added, new end)`` of an extension's notice, in words."""
    data = t.notice.extension or {}
    more = duration_label(timedelta(seconds=int(data.get("seconds") or 0)))
    until = data.get("until")
    when = slack_date(datetime.fromisoformat(until)) if isinstance(until, str) else "later"
    return more, when


def _extension_asked(t: _Told) -> str:
    more, until = _extension_parts(t)
    if t.for_requester:
        return (
            f":hourglass_flowing_sand: You asked to extend this access by {more}, until "
            f"{until}. Waiting for an approver; until then it ends as planned."
        )
    who = esc(t.notice.by or "The requester")
    return f":hourglass_flowing_sand: {who} asks to extend this access by {more}, until {until}{t.comment}"


def _extension_approval_counted(t: _Told) -> str:
    data = t.notice.extension or {}
    by = esc(t.notice.by or "an approver")
    return (
        f":ballot_box_with_check: Extension: {data.get('approvals')} of {data.get('needed')} "
        f"approvals ({by})."
    )


def _extended(t: _Told) -> str:
    _, until = _extension_parts(t)
    by = f" (approved by {esc(t.notice.by)})" if t.notice.by else ""
    return f":large_green_circle: Access extended until {until}{by}."


def _extension_rejected(t: _Told) -> str:
    by = esc(t.notice.by or "an approver")
    if not t.for_requester:
        return f":x: Extension rejected by {by}."
    session = t.request.session
    ends = f" Your access still ends {slack_date(session.expires_at)}." if session else ""
    return f":x: Your extension was rejected by {by}.{ends}"


def _extension_timed_out(t: _Told) -> str:
    why = esc(t.notice.detail or "nobody approved it in time")
    text = f":black_circle: The extension wasn't applied: {why}."
    session = t.request.session
    if t.for_requester and session is not None and session.ended_at is None:
        text += f" Your access ends as planned, {slack_date(session.expires_at)}."
    return text


def _reminder(t: _Told) -> str | None:
    """A reminder in an approver's thread, only while the request still waits (the
    outbox sends it to the approvers who have not acted: ``Notice.to``)."""
    if t.request.status not in PENDING_STATUSES:
        return None
    if t.for_requester:
        return ":bell: The approvers who have not answered yet were reminded."
    who = esc(t.request.requester.name)
    waited = f" for {esc(t.notice.detail)}" if t.notice.detail else ""
    return (
        f":bell: Reminder: {who} is still waiting{waited} for a decision on "
        f"{t.access}. Approve or reject it above."
    )


def _nudged(t: _Told) -> str | None:
    if t.request.status not in PENDING_STATUSES:
        return None
    if t.for_requester:
        return ":bell: You nudged the approvers who have not answered yet."
    who = esc(t.notice.by or t.request.requester.name)
    return f":bell: {who} nudged you: they are still waiting for a decision on {t.access}."


def _escalated(t: _Told) -> str | None:
    if not t.for_requester:
        return None
    after = esc(t.notice.detail or "a while")
    to = esc(t.notice.by or "the admins")
    return f":arrow_double_up: Sent to {to} after {after} with no answer."


_TEXTS: dict[NoticeKind, Callable[[_Told], str | None]] = {
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
    NoticeKind.EXPIRY_WARNING: _expiry_warning,
    NoticeKind.EXTENSION_ASKED: _extension_asked,
    NoticeKind.EXTENSION_APPROVAL_COUNTED: _extension_approval_counted,
    NoticeKind.EXTENDED: _extended,
    NoticeKind.EXTENSION_REJECTED: _extension_rejected,
    NoticeKind.EXTENSION_TIMED_OUT: _extension_timed_out,
    NoticeKind.REMINDER: _reminder,
    NoticeKind.NUDGED: _nudged,
    NoticeKind.ESCALATED: _escalated,
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
    return text(_Told(request, notice, for_requester, portal_url, slash_command))
