"""Small shared pieces of rendering: dates in the viewer's time zone, field text."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import MarkdownTextObject

from workflows.domain import AccessRequest
from workflows.durations import duration_label
from workflows.states import EMOJI


def slack_date(when: datetime) -> str:
    """A Slack date token: each viewer sees ``when`` in their own time zone, with a UTC
    fallback (https://api.slack.com/reference/surfaces/formatting#date-formatting)."""
    fallback = when.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def status_text(request: AccessRequest) -> str:
    return f"{EMOJI[request.status]} {request.status_label}"


def request_fields(request: AccessRequest) -> list[MarkdownTextObject]:
    """The fields every view of a request shows (approver guide "Viewing Request Details")."""
    return [
        MarkdownTextObject(
            text=f"*Requester*\n{request.requester.name} ({request.requester.email})"
        ),
        MarkdownTextObject(text=f"*AWS account*\n{request.account_label}"),
        MarkdownTextObject(text=f"*Permission set*\n{request.permission_set_name} (standard)"),
        MarkdownTextObject(text=f"*Duration*\n{duration_label(request.duration)}"),
        MarkdownTextObject(text=f"*Requested at*\n{slack_date(request.requested_at)}"),
        MarkdownTextObject(text=f"*Status*\n{status_text(request)}"),
    ]


def quote(text: str, limit: int = 2900) -> str:
    """``text`` as a Slack block quote of at most ``limit`` characters, quote marks
    included (a section holds 3000)."""
    quoted = "\n".join("> " + line for line in text.splitlines() or [""])
    if len(quoted) > limit:
        quoted = quoted[: limit - 1] + "…"
    return quoted
