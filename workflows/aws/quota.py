"""This replica's part of Identity Center's quotas: the client-side call rate and the
outstanding asynchronous assignment operations, and how busy both are.

AWS counts both per Identity Center instance (20 calls/s together, 10 outstanding
operations; https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html), so
replicas of the bot share them out (:meth:`Quota.share`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from workflows.aws import ratelimit

log = logging.getLogger("jitbot.aws")


class Quota:
    """The limiter and the outstanding-operation slots of one adapter.

    :param limiter: the client-side :class:`~workflows.aws.ratelimit.TokenBucket`, None
        for no limit.
    :param max_outstanding: most assignment changes in flight at once; None: no cap.
    :raises ValueError: ``max_outstanding`` < 1.
    """

    def __init__(self, limiter: ratelimit.TokenBucket | None, max_outstanding: int | None) -> None:
        if max_outstanding is not None and max_outstanding < 1:
            raise ValueError("max_outstanding must be >= 1 (or None)")
        self.limiter = limiter
        self.slots: ratelimit.Slots | None = (
            ratelimit.Slots(max_outstanding) if max_outstanding else None
        )
        self.max_outstanding = max_outstanding or ratelimit.IDENTITY_CENTER_OUTSTANDING_OPERATIONS
        # the whole quota, as configured: share gives this replica its part of it
        self._whole = (
            None if limiter is None else (limiter.rate, limiter.burst),
            self.max_outstanding,
        )
        self.replicas = 1
        self.in_flight = 0  # assignment changes under way (holding a slot or not)
        self.kind_in_flight = {True: 0, False: 0}  # the same, creations / deletions
        self._lock = threading.Lock()

    def hold(self, create: bool) -> Callable[[], None]:
        """Wait for an outstanding slot and count a creation (or deletion) in flight;
        returns the function that gives both back, which does so once however often it
        is called (the status poller may call it before the caller does)."""
        slot = self.slots
        if slot is not None:
            slot.acquire()
        released = threading.Event()
        with self._lock:
            self.in_flight += 1
            self.kind_in_flight[create] += 1

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self.in_flight -= 1
                self.kind_in_flight[create] -= 1
            if slot is not None:
                slot.release()

        return release

    def spare_calls(self) -> bool:
        """The limiter, if any, holds at least half its burst (nobody else is using the
        rate, so a call that is not needed now takes no token a write waits for)."""
        limiter = self.limiter
        return limiter is None or limiter.available() >= limiter.burst / 2

    def spare(self) -> bool:
        """Whether an early status poll may be made now: at most half the outstanding
        slots are taken (a mass expiry keeps them all busy) and :meth:`spare_calls`."""
        return self.in_flight <= self.max_outstanding // 2 and self.spare_calls()

    def share(self, replicas: int) -> None:
        """Take a ``1/replicas`` share of the whole quota as configured: rate, burst and
        outstanding operations (at least 1 call/s's burst and 1 slot each). The lease
        heartbeat calls this with the number of live replicas. Idempotent.

        :raises ValueError: ``replicas`` < 1.
        """
        if replicas < 1:
            raise ValueError(f"replicas must be >= 1, got {replicas!r}")
        with self._lock:
            if replicas == self.replicas:
                return
            self.replicas = replicas
            bucket, slots = self._whole
            if self.limiter is not None and bucket is not None:
                rate, burst = bucket
                self.limiter.set_rate(rate / replicas, max(1.0, burst / replicas))
            self.max_outstanding = max(1, slots // replicas)
            if self.slots is not None:
                self.slots.resize(self.max_outstanding)
        log.info(
            "%d live replicas: this one now uses %s and %d outstanding operations",
            replicas,
            self.limiter,
            self.max_outstanding,
        )
