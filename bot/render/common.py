"""Small shared pieces of rendering: dates in the viewer's time zone, field text."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import MarkdownTextObject

from bot.render.escape import cut, esc
from workflows.domain import AccessRequest, Stage
from workflows.durations import duration_label
from workflows.states import EMOJI, Status


def slack_date(when: datetime) -> str:
    """A Slack date token: each viewer sees ``when`` in their own time zone, with a UTC
    fallback (https://api.slack.com/reference/surfaces/formatting#date-formatting)."""
    fallback = when.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def approval_progress(request: AccessRequest) -> str:
    """``1 of 2 approvals: Oscar`` (names escaped): the approvals an access rule's
    ``approvals`` counts so far."""
    given = request.approvals_at(Stage.SINGLE)
    who = ", ".join(esc(r.reviewer.name) for r in given)
    return f"{len(given)} of {request.approvals_needed} approvals" + (f": {who}" if who else "")


def status_text(request: AccessRequest) -> str:
    """The status with its emoji; a request needing several approvals says how many it
    has while it waits."""
    text = f"{EMOJI[request.status]} {request.status_label}"
    if request.approvals_needed > 1 and request.status == Status.PENDING:
        text += f" · {approval_progress(request)}"
    return text


def request_fields(request: AccessRequest) -> list[MarkdownTextObject]:
    """The fields every view of a request shows (approver guide "Viewing Request Details")."""
    return [
        MarkdownTextObject(
            text=f"*Requester*\n{esc(request.requester.name)} ({esc(request.requester.email)})"
        ),
        MarkdownTextObject(text=f"*AWS account*\n{esc(request.account_label)}"),
        MarkdownTextObject(
            text=f"*Permission set*\n{esc(request.permission_set_name)} ({request.kind})"
        ),
        MarkdownTextObject(text=f"*Duration*\n{duration_label(request.duration)}"),
        MarkdownTextObject(text=f"*Requested at*\n{slack_date(request.requested_at)}"),
        MarkdownTextObject(text=f"*Status*\n{status_text(request)}"),
        *(
            [MarkdownTextObject(text=f"*Access rule*\n{esc(request.rule_name)}")]
            if request.rule_name
            else []
        ),
        *([MarkdownTextObject(text=f"*Ticket*\n{esc(request.ticket)}")] if request.ticket else []),
    ]


def session_limit_text(request: AccessRequest) -> str | None:
    """ "Each AWS sign-in lasts at most 1 hour; access lasts 4 hours." (or None)."""
    limit = request.session_limit
    if limit is None:
        return None
    return (
        f"Each AWS sign-in lasts at most {duration_label(limit)} (the permission set's "
        f"session duration); sign in again while access lasts ({duration_label(request.duration)})."
    )


def quote(text: str, limit: int = 2900) -> str:
    """``text`` (as typed; escaped here) as a Slack block quote of at most ``limit``
    characters, quote marks included (a section holds 3000)."""
    quoted = "\n".join("> " + esc(line) for line in text.splitlines() or [""])
    return cut(quoted, limit)


SEVERITY_ICON = {"high": ":rotating_light:", "medium": ":warning:", "info": ":information_source:"}


def custom_set_text(request: AccessRequest, *, inline_limit: int = 1200) -> str:
    """The custom permission set: name, session duration, managed policies and the
    inline policy (cut to ``inline_limit`` characters in messages)."""
    custom = request.custom
    if custom is None:
        return ""
    hours = int(custom.session_duration.total_seconds() // 3600)
    managed = esc(", ".join(custom.managed_policies) or "none")
    text = (
        f"*Custom permission set* `{esc(custom.name)}`\n"
        f"*Session duration* {hours} hour{'s' if hours != 1 else ''} (each AWS sign-in; "
        f"access as a whole lasts {duration_label(request.duration)})\n"
        f"*AWS managed policies* {managed}"
    )
    if custom.inline_policy:
        policy = esc(custom.inline_policy).replace("```", "`\u200b``")
        if len(policy) > inline_limit:
            policy = policy[:inline_limit] + "\n… (see View details for all of it)"
        text += f"\n*Inline policy*\n```{policy}```"
    return text[:2990]


def warnings_text(request: AccessRequest) -> str | None:
    """The approver warnings computed at submit, most severe first; None if none."""
    if request.custom is None or not request.custom.warnings:
        return None
    lines = [
        f"{SEVERITY_ICON.get(sev, ':warning:')} {esc(text)}"
        for sev, text in request.custom.warnings
    ]
    return ("*Check before approving*\n" + "\n".join(lines))[:2990]
