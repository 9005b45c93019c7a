"""The reconciler's share of the Identity Center rate.

A reconcile run lists assignments across the organization: with many accounts that is
thousands of calls, and Identity Center's quota is one collective rate for the whole
instance (IAM Identity Center quotas page,
https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html). Grants and
revokes must not queue behind it. So calls made inside :meth:`SharePacer.running`
first take a token of a bucket of their own, at ``share`` × the client-side limiter's
rate (read again at each call: quota sharing between replicas changes it), and only
then one of the shared limiter (:func:`workflows.aws.ratelimit.attach`). A reconcile
call waiting for its own token holds nothing others need, and the reconciler never
takes more than its share of the shared bucket, so everyone else finds the rest.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from workflows.aws.ratelimit import TokenBucket
from workflows.config.defaults import DEFAULT_RECONCILE_SHARE

__all__ = ["DEFAULT_RECONCILE_SHARE", "SharePacer"]

_pacing: contextvars.ContextVar[bool] = contextvars.ContextVar("jitbot_paced", default=False)


class SharePacer:
    """Paces the calls made inside :meth:`running` at ``share`` of ``shared()``'s rate.

    :param shared: the shared limiter now (None: no client-side limit, and then no
        pacing either: there is no rate to take a share of).
    :param share: 0 < share <= 1.
    :param sleep: ``sleep(seconds)`` for the bucket (tests may fake it).
    :raises ValueError: ``share`` out of range.
    """

    def __init__(
        self,
        shared: Callable[[], TokenBucket | None],
        share: float = DEFAULT_RECONCILE_SHARE,
        **bucket: Any,
    ) -> None:
        self._shared = shared
        self._bucket_args = bucket
        self._bucket: TokenBucket | None = None
        self.share = share
        self.set_share(share)  # checks it

    def set_share(self, share: float) -> None:
        """Use ``share`` of the rate from now on. :raises ValueError: not in (0, 1]."""
        if not 0 < share <= 1:
            raise ValueError(f"the reconciler's rate share must be in (0, 1], got {share!r}")
        self.share = float(share)

    @contextmanager
    def running(self) -> Iterator[None]:
        """Calls made in this thread inside the ``with`` block are paced."""
        token = _pacing.set(True)
        try:
            yield
        finally:
            _pacing.reset(token)

    def attach(self, client: Any) -> None:
        """Make ``client``'s HTTP attempts inside :meth:`running` wait for this
        pacer's token before the shared limiter's (registered first on
        ``before-sign``; botocore's event docs:
        https://boto3.amazonaws.com/v1/documentation/api/latest/guide/events.html)."""
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register_first(
            f"before-sign.{service_id}", self._before_sign, unique_id=f"jitbot-paced-{id(self)}"
        )

    def _before_sign(self, **_: Any) -> None:
        if not _pacing.get():
            return
        bucket = self._bucket_for_now()
        if bucket is not None:
            bucket.acquire()

    def _bucket_for_now(self) -> TokenBucket | None:
        """The pacer's bucket at the current share of the shared rate (burst 1: a run
        never takes a burst of the shared bucket)."""
        shared = self._shared()
        if shared is None:
            return None
        rate = shared.rate * self.share
        bucket = self._bucket
        if bucket is None:
            bucket = self._bucket = TokenBucket(rate, 1, **self._bucket_args)
        elif bucket.rate != rate:
            bucket.set_rate(rate, 1)
        return bucket
