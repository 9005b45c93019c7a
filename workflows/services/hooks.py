"""What the services tell the rest of the bot, built before them by the composition
root: deliver the outbox now, run the sweep at a moment, how long AWS took."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


def _nothing(*args: object) -> None:
    return None


@dataclass
class Hooks:
    """The services' outlets; each defaults to doing nothing.

    ``kick()`` is called after notices were written to the outbox, to have them
    delivered now; ``wake_at(when)`` asks for a sweep at ``when`` (aware UTC: a session's
    ``expires_at``, an approval deadline), for precision (the periodic sweep catches
    what it misses); ``on_timing(what, seconds)`` is told how long each AWS ``"grant"``
    and ``"revoke"`` took.
    """

    kick: Callable[[], None] = _nothing
    wake_at: Callable[[datetime], None] = _nothing
    on_timing: Callable[[str, float], None] = _nothing
