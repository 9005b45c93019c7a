"""The one escape for what people type, before it is put into mrkdwn.

Slack reads ``<…>`` in mrkdwn as a mention (``<@U…>``), a broadcast (``<!channel>``) or
a link (``<https://…|label>``), and requires ``&``, ``<`` and ``>`` to be escaped as
``&amp;``, ``&lt;`` and ``&gt;`` where they are meant as text ("Escaping text",
https://api.slack.com/reference/surfaces/formatting#escaping). Every string a person or
an outside system supplied (justifications, reasons, names, emails, account and
permission set names, policies, AWS error text) goes through :func:`esc` in every
message and view, so it shows exactly as typed and nothing in it becomes live.
"""

from __future__ import annotations

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def esc(text: object) -> str:
    """``str(text)`` with ``&``, ``<`` and ``>`` escaped for mrkdwn (Slack's rule above)."""
    return str(text).translate(_ESCAPES)


def cut(text: str, limit: int, tail: str = "…") -> str:
    """Escaped ``text`` cut to at most ``limit`` characters (``tail`` included) without
    splitting an ``&…;`` entity, which would show as stray characters."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(tail)]
    amp = head.rfind("&")
    if amp != -1 and head.find(";", amp) == -1:
        head = head[:amp]
    return head + tail
