"""This replica's share of Identity Center's quotas (see :mod:`workflows.aws.ratelimit`)."""

from __future__ import annotations

import logging

from workflows.aws.base import Plumbing

log = logging.getLogger("jitbot.aws")


class QuotaShare(Plumbing):
    """This replica's share of the instance-wide quotas (:meth:`share_quota`)."""

    def share_quota(self, replicas: int) -> None:
        """Take a ``1/replicas`` share of Identity Center's quotas: the client-side rate
        and burst and the outstanding assignment operations, as configured for the whole
        instance (at least 1 call/s's burst and 1 slot each). AWS counts both per
        Identity Center instance, not per client (IAM Identity Center quotas page), so
        replicas of the bot that each used all of it would be throttled together in a
        mass expiry. The lease heartbeat calls this with the number of live replicas
        (:meth:`storage.store.SqlStore.live_replicas`). Idempotent.

        :raises ValueError: ``replicas`` < 1.
        """
        if replicas < 1:
            raise ValueError(f"replicas must be >= 1, got {replicas!r}")
        with self._in_flight_lock:
            if replicas == self.replicas:
                return
            self.replicas = replicas
            bucket, slots = self._quota
            if self.limiter is not None and bucket is not None:
                rate, burst = bucket
                self.limiter.set_rate(rate / replicas, max(1.0, burst / replicas))
            self._max_outstanding = max(1, slots // replicas)
            if self._outstanding is not None:
                self._outstanding.resize(self._max_outstanding)
        log.info(
            "%d live replicas: this one now uses %s and %d outstanding operations",
            replicas,
            self.limiter,
            self._max_outstanding,
        )
