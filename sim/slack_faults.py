"""Fault injection for the fake Slack: the next calls to a method fail (a 429 with
``Retry-After``, a 5xx, or an ``{"ok": false}`` error), or the whole Web API is down.

Shapes follow https://docs.slack.dev/apis/web-api/rate-limits (HTTP 429,
``Retry-After`` in seconds, ``error: ratelimited``).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Failure", "Faults"]


@dataclass
class Failure:
    """One injected failure: with ``error``, HTTP 200 ``{"ok": false, "error": error}``;
    otherwise HTTP ``status`` (429 with ``Retry-After: retry_after`` seconds)."""

    status: int
    error: str | None
    retry_after: int

    def answer(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        """``(HTTP status, extra headers, JSON body)`` Slack would answer with."""
        if self.error:
            return 200, {}, {"ok": False, "error": self.error}
        if self.status == 429:
            return (
                429,
                {"Retry-After": str(self.retry_after)},
                {"ok": False, "error": "ratelimited"},
            )
        return self.status, {}, {"ok": False, "error": "fatal_error"}


class Faults:
    """The failures queued per method and the outage, if any (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[Failure]] = {}
        self._down: Failure | None = None

    def fail_next(self, method: str, failure: Failure, times: int) -> None:
        """Queue ``failure`` for the next ``times`` calls to ``method``."""
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            for _ in range(times):
                queue.append(failure)

    def go_down(self, failure: Failure) -> None:
        """Every call fails with ``failure`` until :meth:`come_back`."""
        with self._lock:
            self._down = failure

    def come_back(self) -> None:
        """End the outage."""
        with self._lock:
            self._down = None

    def take(self, method: str) -> Failure | None:
        """The failure this call to ``method`` meets (a queued one first), or None."""
        with self._lock:
            queue = self._failures.get(method)
            failure = queue.popleft() if queue else None
            if failure is None and self._down is not None:
                failure = self._down
            return failure
