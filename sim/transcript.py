"""The transcript: what happened in the fake workspace, one line each, written as people
would see it (``[DM @alice] jitbot: Your request #1 ...``), with listeners called on each
new line (``jitbot demo`` prints the conversation that way).

Slack's markup is turned back into what a person reads: ``<@U01ALICE>`` -> ``@alice``,
``<#C1|ops>`` -> ``#ops``, ``<!here>`` -> ``@here``, ``<url|label>`` -> ``label``
(https://docs.slack.dev/messaging/formatting-message-text).
"""

from __future__ import annotations

import contextlib
import html
import re
import threading
from collections.abc import Callable
from typing import Any

from sim.blocks_text import blocks_to_text

__all__ = ["Transcript", "humanize", "shown"]

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(\w+)(?:\^[^|>]*)?(?:\|([^>]*))?>")
_LINK = re.compile(r"<([^@#!|>][^|>]*)(?:\|([^>]*))?>")


def humanize(text: str, user_name: Callable[[str], str]) -> str:
    """``text`` with Slack's mentions, channel links, specials and links as people read
    them; ``user_name`` maps a user id to a handle."""
    text = _MENTION.sub(lambda m: f"@{user_name(m.group(1))}", text)
    text = _CHANNEL_LINK.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: m.group(2) or f"@{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return html.unescape(text)


def shown(text: str, blocks: Any, user_name: Callable[[str], str]) -> str:
    """A message on one line: its blocks flattened (or its ``text`` when that says more),
    humanized, lines joined by `` / ``."""
    flat = blocks_to_text(blocks)
    chosen = flat if len(flat) > len(text or "") else (text or "")
    return " / ".join(
        line.strip() for line in humanize(chosen, user_name).splitlines() if line.strip()
    )


class Transcript:
    """The lines logged so far, in order, and the callbacks told of each new one.

    ``lock`` is the fake's lock, so a line is logged in the order of the changes it tells.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._lines: list[str] = []
        self._listeners: list[Callable[[str], None]] = []

    def on_event(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(line)`` for every new line, as it happens."""
        with self._lock:
            self._listeners.append(callback)

    def log(self, line: str) -> None:
        """Append a line and tell the listeners (a failing listener is ignored)."""
        with self._lock:
            self._lines.append(line)
            listeners = list(self._listeners)
        for callback in listeners:
            # A printing callback must not break the fake.
            with contextlib.suppress(Exception):
                callback(line)

    def lines(self) -> list[str]:
        """Every line, in order."""
        with self._lock:
            return list(self._lines)
