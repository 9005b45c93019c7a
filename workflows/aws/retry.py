"""The one retry helper of every write to Identity Center.

The API reference recommends retrying ``ThrottlingException`` and ``ConflictException``
(a write racing an earlier one) with backoff; the IAM Identity Center quotas page
(https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html) says only one
operation on a permission set (per account) runs at a time. These retries come on top
of botocore's own.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

from workflows.aws.errors import RETRYABLE_WRITE_ERRORS, error_code

log = logging.getLogger("jitbot.aws")

T = TypeVar("T")


class Retry:
    """Retries a write with exponential backoff and jitter.

    :param attempts: attempts in all (>= 1).
    :param base: first backoff delay in seconds; it doubles per attempt, capped at
        ``cap`` seconds, and is jittered between half and the full delay.
    :param sleep: ``sleep(seconds)``, replaced in tests.
    :raises ValueError: ``attempts`` < 1.
    """

    def __init__(
        self, *, attempts: int, base: float, cap: float, sleep: Callable[[float], None]
    ) -> None:
        if attempts < 1:
            raise ValueError("write_attempts must be >= 1")
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.sleep = sleep

    def backoff(self, attempt: int) -> float:
        """Seconds before attempt ``attempt + 1``: exponential, capped, jittered into
        [delay/2, delay]."""
        delay = min(self.cap, self.base * 2 ** (attempt - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    def write(
        self,
        operation: str,
        call: Callable[[], T],
        *,
        what: str,
        retry_conflict: Callable[[ClientError], bool] = lambda exc: True,
        done: Callable[[ClientError], bool] = lambda exc: False,
    ) -> T | None:
        """``call()``, retried while AWS answers ``ThrottlingException``, or
        ``ConflictException`` for which ``retry_conflict`` is true, up to ``attempts``
        times. An error for which ``done`` is true means the write's effect is already
        there: None is returned. Raises botocore's exception of the last attempt."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except ClientError as exc:
                if done(exc):
                    log.info("%s: %s answered %s, nothing to do", what, operation, exc)
                    return None
                code = error_code(exc)
                retryable = code in RETRYABLE_WRITE_ERRORS and (
                    code != "ConflictException" or retry_conflict(exc)
                )
                if not retryable or attempt >= self.attempts:
                    raise
                delay = self.backoff(attempt)
                log.info(
                    "%s: %s answered %s, retrying in %.1f s (attempt %d of %d)",
                    what,
                    operation,
                    code,
                    delay,
                    attempt,
                    self.attempts,
                )
                self.sleep(delay)
