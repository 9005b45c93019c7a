"""Client-side pacing of IAM Identity Center API calls.

The IAM Identity Center quotas page
(https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html, "Throttle
limits"; the same table: https://docs.aws.amazon.com/IAM/latest/UserGuide/aam-quotas.html)
says the Identity Center APIs have a *collective* throttle limit of 20 transactions per
second, and that the write APIs may have at most 15 outstanding asynchronous calls
(which cannot be raised). Both count per instance, for every caller: the console,
Terraform and Control Tower share them with jitbot. A call over the rate is answered
``ThrottlingException``; botocore retries it with backoff, which costs time and, when
many threads retry together, more throttling. So jitbot paces itself below the quota
instead, by default at 15 of the 20 calls a second (the rest left to the other tools):
one :class:`TokenBucket` is shared by the ``sso-admin`` and ``identitystore``
clients of :class:`workflows.aws.IdentityCenter` (:func:`attach`), and every HTTP
attempt of every call waits for a token first - paginated calls once per page,
botocore's own retries once per retry.

The hook is botocore's ``before-sign.<service>.<operation>`` event, which
``RequestSigner.sign`` (botocore/signers.py) emits for every attempt, since
``Endpoint._send_request`` (botocore/endpoint.py) builds and signs a new request for each
retry. ``before-call`` would fire once per call (retries would go unpaced) and
``before-send`` comes after signing (a long wait would age the signature). See
https://docs.aws.amazon.com/botocore/latest/topics/events.html for botocore's events.

Why not a library (PyPI was checked): ``pyrate-limiter`` is a leaky bucket whose
blocking mode sleeps on its own clock (tests could not move time) and runs a background
"leaker" thread; ``limits`` only counts hits in fixed or moving windows, with no blocking
acquire; ``aiolimiter`` is for asyncio; botocore's ``adaptive`` retry mode has a
client-side bucket, but it only engages after throttling errors and is per client, so
the two clients would not share it. What is needed here is small: a thread-safe token
bucket that serves callers in arrival order, with an injectable clock and sleep.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from workflows.config.defaults import (
    IDENTITY_CENTER_CALLS_PER_SECOND,
    IDENTITY_CENTER_OUTSTANDING_OPERATIONS,
)

__all__ = [
    "IDENTITY_CENTER_CALLS_PER_SECOND",
    "IDENTITY_CENTER_OUTSTANDING_OPERATIONS",
    "LIMITED_SERVICES",
    "Slots",
    "TokenBucket",
    "attach",
    "identity_center_limiter",
]

#: boto3 services whose calls count against that collective rate.
LIMITED_SERVICES = ("sso-admin", "identitystore")


class TokenBucket:
    """Allows ``rate`` calls per second on average and up to ``burst`` at once.

    :meth:`acquire` takes one token, waiting (``sleep``) until there is one. Waiters
    are served in the order they called :meth:`acquire`: each reserves the next token
    under a lock (the balance may go negative: that is the queue) and then sleeps
    until it is due, so no caller is overtaken and nobody polls.

    :param rate: tokens added per second (> 0).
    :param burst: most tokens held (>= 1); default ``rate`` (one second's worth).
    :param clock: monotonic clock in seconds (replaced in tests).
    :param sleep: ``sleep(seconds)`` (replaced in tests; a fake that advances the fake
        clock makes the bucket run in fake time).
    :raises ValueError: ``rate`` <= 0 or ``burst`` < 1.

    Thread-safe.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        burst = rate if burst is None else burst
        if not rate > 0:
            raise ValueError(f"rate must be > 0 calls per second, got {rate!r}")
        if not burst >= 1:
            raise ValueError(f"burst must be >= 1 call, got {burst!r}")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._stamp = clock()
        #: calls let through / seconds waited in all, for logs and tests
        self.acquired = 0
        self.waited = 0.0

    def _refill(self, now: float) -> float:
        return min(self.burst, self._tokens + (now - self._stamp) * self.rate)

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited (0.0
        when a token was there)."""
        with self._lock:
            now = self._clock()
            self._tokens = self._refill(now) - 1
            self._stamp = now
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.acquired += 1
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def set_rate(self, rate: float, burst: float | None = None) -> None:
        """Change the rate (tokens per second, > 0) and burst (>= 1; default ``rate``)
        from now on: tokens earned so far count at the old rate, and a bucket fuller
        than the new burst is cut down to it. Callers already waiting keep the wait
        they were given.

        :raises ValueError: ``rate`` <= 0 or ``burst`` < 1.
        """
        burst = rate if burst is None else burst
        if not rate > 0:
            raise ValueError(f"rate must be > 0 calls per second, got {rate!r}")
        if not burst >= 1:
            raise ValueError(f"burst must be >= 1 call, got {burst!r}")
        with self._lock:
            now = self._clock()
            self._tokens = min(float(burst), self._refill(now))
            self._stamp = now
            self.rate = float(rate)
            self.burst = float(burst)

    def available(self) -> float:
        """Tokens in the bucket now; negative when callers are already waiting (then
        ``-available() / rate`` seconds is how long a new caller would wait)."""
        with self._lock:
            return self._refill(self._clock())

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}/s, burst={self.burst:g})"


class Slots:
    """At most ``size`` holders at once, granted in the order they asked.

    A first-in, first-out semaphore: a slot given back goes straight to the longest
    waiter. ``threading.Semaphore`` lets a thread arriving just then take it before the
    woken waiter runs, so with more callers than slots (the sweep's revocation workers)
    a revocation due later could start before one due earlier.

    :param size: number of slots (>= 1).
    :raises ValueError: ``size`` < 1; :meth:`release` of a slot nobody holds.

    Thread-safe.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size!r}")
        self.size = size
        self._free = size
        self._waiters: deque[threading.Event] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Take a slot, waiting behind everyone who asked before."""
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()

    def resize(self, size: int) -> None:
        """Allow ``size`` holders from now on. Growing lets waiters in at once;
        shrinking below the slots held takes none back: the next releases retire slots
        until the holders fit.

        :raises ValueError: ``size`` < 1.
        """
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size!r}")
        with self._lock:
            self._free += size - self.size
            self.size = size
            while self._free > 0 and self._waiters:
                self._free -= 1
                self._waiters.popleft().set()

    def release(self) -> None:
        """Give a slot back (to the longest waiter, if any; retired instead while more
        are held than :meth:`resize` allows)."""
        with self._lock:
            if self._free < 0:
                self._free += 1
            elif self._waiters:
                self._waiters.popleft().set()
            elif self._free >= self.size:
                raise ValueError("release of a slot nobody holds")
            else:
                self._free += 1


def identity_center_limiter(
    calls_per_second: float | None = IDENTITY_CENTER_CALLS_PER_SECOND,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TokenBucket | None:
    """The bucket jitbot shares between its Identity Center clients, or None when
    ``calls_per_second`` is None or 0 (no client-side limit).

    The rate is jitbot's share of the quota (default 15 of AWS's 20 calls/s, see the
    module doc). The burst is half a second's worth (7.5 at 15/s): AWS publishes no burst, and a bucket smaller
    than the server's leaves slack for calls that passed this bucket in one order but
    reach AWS in another (threads are scheduled unevenly between signing and sending).
    A sustained run is paced at the full rate either way; interactive bursts (a grant
    is 2 to 4 calls) never wait.

    :raises ValueError: ``calls_per_second`` < 0.
    """
    if calls_per_second is None or calls_per_second == 0:
        return None
    if calls_per_second < 0:
        raise ValueError(f"calls_per_second must be >= 0, got {calls_per_second!r}")
    return TokenBucket(calls_per_second, max(1.0, calls_per_second / 2), clock=clock, sleep=sleep)


def attach(client: Any, limiter: TokenBucket) -> None:
    """Make every HTTP attempt of ``client`` (a boto3/botocore client) wait for a
    token of ``limiter`` first, including each page of a paginator and each retry
    botocore makes. Attaching the same limiter to the same client again does nothing;
    several clients may share one limiter (that is the point).

    Calls answered without HTTP (botocore ``Stubber``) take no token.
    """
    service_id = client.meta.service_model.service_id.hyphenize()

    def before_sign(**_: Any) -> None:
        limiter.acquire()

    client.meta.events.register(
        f"before-sign.{service_id}", before_sign, unique_id=f"jitbot-ratelimit-{id(limiter)}"
    )
