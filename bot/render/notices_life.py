"""What a request's threads are told later in its life: the expiry warning, an
extension asked for and decided, reminders, nudges and escalation (:data:`LIFE_TEXTS`,
part of :func:`bot.render.notices.notice_text`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.render.common import slack_date
from bot.render.escape import esc
from bot.render.told import Told
from workflows.domain import NoticeKind
from workflows.durations import duration_label
from workflows.states import PENDING_STATUSES, Status


def _expiry_warning(t: Told) -> str | None:
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


def _extension_parts(t: Told) -> tuple[str, str]:
    """``(time added, new end)`` of an extension's notice, in words."""
    data = t.notice.extension or {}
    more = duration_label(timedelta(seconds=int(data.get("seconds") or 0)))
    until = data.get("until")
    when = slack_date(datetime.fromisoformat(until)) if isinstance(until, str) else "later"
    return more, when


def _extension_asked(t: Told) -> str:
    more, until = _extension_parts(t)
    if t.for_requester:
        return (
            f":hourglass_flowing_sand: You asked to extend this access by {more}, until "
            f"{until}. Waiting for an approver; until then it ends as planned."
        )
    who = esc(t.notice.by or "The requester")
    return f":hourglass_flowing_sand: {who} asks to extend this access by {more}, until {until}{t.comment}"


def _extension_approval_counted(t: Told) -> str:
    data = t.notice.extension or {}
    by = esc(t.notice.by or "an approver")
    return (
        f":ballot_box_with_check: Extension: {data.get('approvals')} of {data.get('needed')} "
        f"approvals ({by})."
    )


def _extended(t: Told) -> str:
    _, until = _extension_parts(t)
    by = f" (approved by {esc(t.notice.by)})" if t.notice.by else ""
    return f":large_green_circle: Access extended until {until}{by}."


def _extension_rejected(t: Told) -> str:
    by = esc(t.notice.by or "an approver")
    if not t.for_requester:
        return f":x: Extension rejected by {by}."
    session = t.request.session
    ends = f" Your access still ends {slack_date(session.expires_at)}." if session else ""
    return f":x: Your extension was rejected by {by}.{ends}"


def _extension_timed_out(t: Told) -> str:
    why = esc(t.notice.detail or "nobody approved it in time")
    text = f":black_circle: The extension wasn't applied: {why}."
    session = t.request.session
    if t.for_requester and session is not None and session.ended_at is None:
        text += f" Your access ends as planned, {slack_date(session.expires_at)}."
    return text


def _reminder(t: Told) -> str | None:
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


def _nudged(t: Told) -> str | None:
    if t.request.status not in PENDING_STATUSES:
        return None
    if t.for_requester:
        return ":bell: You nudged the approvers who have not answered yet."
    who = esc(t.notice.by or t.request.requester.name)
    return f":bell: {who} nudged you: they are still waiting for a decision on {t.access}."


def _escalated(t: Told) -> str | None:
    """The requester: to whom it went; an escalation approver (in the DM just sent):
    why it came to them, while it is still pending."""
    after = esc(t.notice.detail or "a while")
    if not t.for_requester:
        if t.request.status not in PENDING_STATUSES:
            return None
        return (
            f":arrow_double_up: Escalated to you: nobody answered this request in {after}. "
            "You may approve or reject it as its approvers would."
        )
    to = esc(t.notice.by or "the admins")
    return f":arrow_double_up: Sent to {to} after {after} with no answer."


LIFE_TEXTS: dict[NoticeKind, Callable[[Told], str | None]] = {
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
