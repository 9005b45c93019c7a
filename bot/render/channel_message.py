"""The request as an approvals channel shows it (:mod:`workflows.services.channel`):
the approver's message (:func:`bot.render.messages.approval_message`: the request, its
buttons while its approvers' stage is being decided, then who decided) with a line
naming who may approve, so that a channel member sees at once whether the buttons are
theirs. Every click is still checked on the server."""

from __future__ import annotations

from typing import Any

from bot.render.escape import esc
from bot.render.messages import approval_message
from workflows.actions import DECIDED_BY
from workflows.domain import AccessRequest, MessageRole
from workflows.people import is_slack_id

__all__ = ["MAX_MENTIONS", "channel_message", "eligible_line"]

#: The most approvers named one by one (a section holds 3000 characters; each
#: mention is about 15); the rest are counted.
MAX_MENTIONS = 40


def _who(slack_id: str) -> str:
    """A stored approver as mrkdwn: a user mention for a Slack user id (an id jitbot
    bound from the config, never text a person typed), else the entry escaped."""
    return f"<@{slack_id}>" if is_slack_id(slack_id) else esc(slack_id)


def eligible_line(request: AccessRequest) -> str:
    """``*Who can approve:* <@U1>, <@U2> or an SSO admin or admin``: the approvers the
    request was sent to at submit (its access rule's, or its account's owners), and,
    under an account's default rule, the SSO admins and admins who may decide it too
    (:func:`workflows.policy.may_decide`); a custom set's final approval is an SSO
    admin's."""
    named = [_who(s) for s in request.approvers[:MAX_MENTIONS]]
    more = len(request.approvers) - len(named)
    if more > 0:
        named.append(f"{more} more")
    who = ", ".join(named) or "nobody named"
    if request.custom is not None:
        who += ", then an SSO admin or admin for the final approval"
    elif request.rule_name is None:
        who += " or an SSO admin or admin"
    needed = request.approvals_needed
    head = f"*Who can approve ({needed} approvals needed):*" if needed > 1 else "*Who can approve:*"
    return f"{head} {who}"


def channel_message(request: AccessRequest) -> dict[str, Any]:
    """The channel's root: the approver's message, and, while its stage is being
    decided, :func:`eligible_line` after the request's fields."""
    message = approval_message(request, MessageRole.APPROVER)
    if DECIDED_BY.get(request.status) == MessageRole.APPROVER:
        line = {"type": "section", "text": {"type": "mrkdwn", "text": eligible_line(request)}}
        message["blocks"].insert(2, line)
    return message
