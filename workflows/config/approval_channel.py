"""The approvals channel keys of an account and an access rule: ``approval_channel``
(where a request is posted once, with its buttons, instead of a DM to each approver)
and ``notify_approvers`` (``dm``: the approvers are DM'd as well; ``none``: the channel
only). What they mean for a request is :mod:`workflows.services.channel`'s.

A channel is named by its id (``C0123ABCD`` for a public channel, ``G…`` for an older
private one; what Slack's "Copy link" ends with) or by ``#name``, which jitbot looks up
with ``conversations.list`` when it first posts there (and ``check-config`` does too).
The id is what is stored with each request's message, so a channel renamed later keeps
its threads; an id is the better choice, since a renamed channel's old ``#name`` stops
working for new requests.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator

from workflows.config.fields import _error

__all__ = ["ApprovalChannel", "NotifyApprovers", "check_channel", "is_channel_name"]

#: A conversation id Slack gives a channel: C (public) or G (private, older ones), then
#: upper-case letters and digits (https://docs.slack.dev/reference/objects/conversation-object)
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,20}")
#: A channel name: at most 80 lower-case letters, digits, hyphens and underscores
#: (Slack's "Create a channel" naming rules; conversations.create ``name``)
_CHANNEL_NAME = re.compile(r"#[a-z0-9_\-]{1,80}")


def is_channel_name(value: str) -> bool:
    """Whether ``value`` (a checked ``approval_channel``) is a ``#name`` to look up,
    rather than an id."""
    return value.startswith("#")


def check_channel(value: object) -> str:
    """An ``approval_channel`` value: a channel id (``C…``/``G…``, kept as written) or
    ``#name`` (lower-cased, as Slack stores names).

    :raises PydanticCustomError: anything else, with what is expected.
    """
    if value is None:  # given but empty: YAML reads an unquoted #name as a comment
        raise _error(
            "approval_channel",
            'empty: quote a channel name ("#approvals"; YAML reads an unquoted # as the '
            "start of a comment), or leave the key out",
        )
    text = value.strip() if isinstance(value, str) else ""
    if _CHANNEL_ID.fullmatch(text):
        return text
    if _CHANNEL_NAME.fullmatch(text.lower()):
        return text.lower()
    if text[:1] == "D":
        raise _error(
            "approval_channel",
            f"{text!r} is a direct message, not a channel: name a channel the approvers "
            "are in (C0123ABCD or #approvals)",
        )
    raise _error(
        "approval_channel",
        "expected a channel id (C0123ABCD, G0123ABCD) or #name (lower-case letters, "
        f"digits, - and _, at most 80), got {value!r}",
    )


#: ``approval_channel``: None only when left out (an explicit empty value is refused)
ApprovalChannel = Annotated[str | None, BeforeValidator(check_channel)]
#: ``dm``: DM each approver as well as posting in the channel; ``none``: the channel only
NotifyApprovers = Literal["dm", "none"]
