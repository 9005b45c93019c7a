"""Approvals channel: where a new request is sent for its approvers when its access
rule or its account sets ``approval_channel`` (:mod:`workflows.config.approval_channel`).

With a channel, the request is posted there once with its buttons, and that message's
thread is the approvers' record (every status change re-renders it and replies in it,
as for a DM root). The approvers are DM'd as well only with ``notify_approvers: dm``
(``none`` is the default when a channel is set). Each key is the rule's when the rule
gives it, else the account's. Who may click is not changed by where the buttons are:
every click is checked again (:class:`workflows.services.authority.Authority`), so a
channel member who is not an approver is refused and nothing changes.

Not sent to the channel: a request approved automatically (nobody decides it), and one
whose account has no owner who may approve (it falls back to the admins, who are DM'd
as before: the channel is the account's approvers' place, not the admins').
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.access_rules import AppliedRule
from workflows.config import Config
from workflows.domain import MessageRole, Outgoing
from workflows.policy import ApproverRouting
from workflows.ports import Store

__all__ = ["NOT_AN_APPROVER", "ChannelChoice", "channel_choice", "channel_threads", "posted_in"]


@dataclass(frozen=True)
class ChannelChoice:
    """Where a new request goes: ``channel`` (an id or ``#name``; None: DMs only, as
    without a channel) and ``dm`` (each approver DM'd too)."""

    channel: str | None
    dm: bool = True


def channel_choice(
    config: Config, applied: AppliedRule, account_id: str, routing: ApproverRouting
) -> ChannelChoice:
    """The approvals channel of a new request on ``account_id`` under ``applied`` (the
    rule's keys, else the account's), routed to ``routing``'s approvers."""
    if applied.auto_approve or routing.fell_back:
        return ChannelChoice(None)
    account = config.account(account_id)
    channel = applied.approval_channel or (account.approval_channel if account else None)
    if channel is None:
        return ChannelChoice(None)
    notify = applied.notify_approvers or (account.notify_approvers if account else None)
    return ChannelChoice(channel, dm=notify == "dm")


def channel_threads(routing: ApproverRouting, choice: ChannelChoice) -> list[Outgoing]:
    """A new request's threads with an approvals channel: the requester's root, a DM
    per approver when ``choice.dm``, then the one channel message (the last of the
    stage, where "nobody could be reached" is judged: :mod:`workflows.outbox`)."""
    if choice.channel is None:
        raise ValueError("channel_threads needs a channel")
    dms = [Outgoing.approval(s, MessageRole.APPROVER, last=False) for s in routing.slack_ids]
    return [
        Outgoing.thread(),
        *(dms if choice.dm else []),
        Outgoing.channel(choice.channel, last=True),
    ]


#: What a channel member who may not decide a request is told when they click its
#: buttons in the channel (they see the request there, so "no request you can see",
#: the refusal for an id forged into a button, would read as a fault).
NOT_AN_APPROVER = (
    "You can't approve this request: you are not one of its approvers "
    "(the message in the channel names them)."
)


def posted_in(store: Store, request_id: int, channel: str | None) -> bool:
    """Whether ``request_id``'s approvals channel root is in ``channel`` (the
    conversation a click came from, as Slack's signed payload says): then whoever
    clicked sees the request already, and may be told why they may not decide it."""
    request = store.get(request_id) if channel else None
    return request is not None and any(
        ref.role == MessageRole.CHANNEL and ref.channel == channel for ref in request.messages
    )
