"""Waiting for many IAM Identity Center assignment operations with few API calls.

``CreateAccountAssignment`` and ``DeleteAccountAssignment`` are asynchronous: each
answers a request id whose status (``IN_PROGRESS`` | ``SUCCEEDED`` | ``FAILED``) must
be polled. Polling each operation with ``DescribeAccountAssignment{Creation,Deletion}Status``
costs a call per operation per poll. When many change at once (a thousand sessions
ending in the same minute), that is where Identity Center's quotas bind: 20 API calls a
second in all (jitbot takes 15 of them by default), and 15 outstanding asynchronous
write calls (IAM Identity Center quotas,
https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html). With operations
of about a second, a write plus a status poll each per second fills the rate, so every
poll that waits for quota holds an outstanding slot longer, and every slot held longer
than the operation delays the next revocation.

:class:`OperationBoard` waits for all the operations of one kind together:

* One ``ListAccountAssignment{Creation,Deletion}Status`` call with
  ``Filter={"Status": "IN_PROGRESS"}`` (API reference:
  https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountAssignmentDeletionStatus.html)
  tells which of them still run, instead of one ``Describe...`` poll each. An
  operation counts as finished when a list made after one that showed it no longer
  does (positive evidence: an operation a list never showed is handed back to its own
  thread, which polls it with ``Describe...``). Its outstanding slot is given back at
  once, so the next write can go.
* How a finished operation ended is read with one ``Describe...Status`` call for it,
  at least ``confirm_after`` seconds after it left the running list (a margin for the
  list's own lag): that call's ``SUCCEEDED`` or ``FAILED`` (with its
  ``FailureReason``) is the final status. Dropping off a list is never taken for
  success: an operation the lists lost track of, or that Describe still calls
  ``IN_PROGRESS``, is handed back to its own thread, which keeps polling it. So the
  board saves the polls *while* operations run (one list for all), and each operation
  still costs the one Describe that a lone poll would have needed to see it finish.
* The lists are made from spare quota: at most every ``min_interval`` seconds while the
  caller's ``spare()`` says the client-side limiter has room, and at least every
  ``max_interval`` seconds regardless.

One poller thread per board runs while operations are waited on. If the list call is
not available (``AccessDeniedException`` for a role without
``sso:ListAccountAssignment*Status``, an endpoint that does not implement it), the board
turns itself off and every waiter polls its own operation, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["ListUnavailable", "OperationBoard"]

log = logging.getLogger("jitbot.aws")

#: Status dict as Describe...Status answers it (``RequestId``, ``Status``, ...).
StatusDict = dict[str, Any]


class ListUnavailable(Exception):
    """The ``List...Status`` call cannot be used here (not allowed, not implemented)."""


class _Watch:
    """One operation waited on by the board."""

    __slots__ = ("request_id", "release", "listed", "misses", "gone_at", "status", "done")

    def __init__(self, request_id: str, release: Callable[[], None]) -> None:
        self.request_id = request_id
        self.release = release
        self.listed = False  # a running list showed it
        self.misses = 0  # lists made since it was answered that did not show it
        self.gone_at: float | None = None  # when a list first no longer showed it
        self.status: StatusDict | None = None  # final status; None: poll it yourself
        self.done = threading.Event()


class OperationBoard:
    """The outstanding assignment operations of one kind, polled together.

    :param kind: ``"creation"`` or ``"deletion"`` (for logs).
    :param list_running: request ids of the operations ``IN_PROGRESS`` now (every
        page); raises :class:`ListUnavailable` when the call cannot be used.
    :param describe: the status of one operation (``Describe...Status``): the only
        source of a final status.
    :param spare: whether a call may be made now without taking quota others wait for.
    :param clock: monotonic seconds; :param sleep: seconds -> None (the poller's tick).
    :param min_interval: least seconds between two running lists.
    :param max_interval: most seconds between two running lists, spare quota or not.
    :param confirm_after: least seconds between an operation leaving the running list
        and the ``Describe`` that settles it.
    :param unlisted_after: running lists that may miss an operation before it is handed
        back to its own thread.
    :param tick: seconds the poller sleeps between looks.

    Thread-safe. Errors of the list calls other than :class:`ListUnavailable` are
    logged and the round is tried again later; after ``unlisted_after`` failed running
    lists in a row, the operations waited on are handed back to their own threads.
    """

    def __init__(
        self,
        *,
        kind: str,
        list_running: Callable[[], set[str]],
        describe: Callable[[str], StatusDict],
        spare: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        min_interval: float = 0.05,
        max_interval: float = 1.0,
        confirm_after: float = 0.25,
        unlisted_after: int = 3,
        tick: float = 0.01,
    ) -> None:
        self.kind = kind
        self._list_running = list_running
        self._describe = describe
        self._spare = spare
        self._clock = clock
        self._sleep = sleep
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.confirm_after = confirm_after
        self.unlisted_after = unlisted_after
        self.tick = tick
        self._lock = threading.Lock()
        self._watches: dict[str, _Watch] = {}
        self._thread: threading.Thread | None = None
        self._listed_at = -float("inf")
        self._failures = 0  # running lists that failed in a row
        #: False once the list call turned out unavailable: waiters poll themselves
        self.available = True
        #: running lists made, and operations settled by a Describe after them, for tests
        self.lists = 0
        self.settled = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._watches)

    def wait(
        self, request_id: str, release: Callable[[], None], timeout: float
    ) -> StatusDict | None:
        """Wait for the operation ``request_id`` (its write already answered
        ``IN_PROGRESS``) to finish, at most ``timeout`` seconds.

        ``release()`` is called once, from the poller, when the operation left the
        running list (give its outstanding slot back); the caller must make its own
        release idempotent. Returns the final status as ``Describe`` answered it
        (``SUCCEEDED``, or ``FAILED`` with its ``FailureReason``);
        ``{"Status": "IN_PROGRESS", ...}`` on timeout; None when the caller must poll
        this operation itself (the list is unavailable or did not show the operation,
        or Describe disagreed with the list).
        """
        watch = _Watch(request_id, release)
        with self._lock:
            if not self.available:
                return None
            self._watches[request_id] = watch
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"aws-{self.kind}-status", daemon=True
                )
                self._thread.start()
        try:
            if not watch.done.wait(timeout):
                return {"RequestId": request_id, "Status": "IN_PROGRESS"}
            return watch.status
        finally:
            with self._lock:
                self._watches.pop(request_id, None)

    # ---- poller ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                watches = [w for w in self._watches.values() if not w.done.is_set()]
                if not watches or not self.available:
                    self._thread = None
                    return
            try:
                self._step(watches)
            except Exception:  # never let the poller die with waiters on it
                log.exception("%s status poller", self.kind)
                self._give_back(watches)
            self._sleep(self.tick)

    def _step(self, watches: list[_Watch]) -> None:
        now = self._clock()
        running = [w for w in watches if w.gone_at is None]
        since = now - self._listed_at
        if running and (
            since >= self.max_interval or (since >= self.min_interval and self._spare())
        ):
            self._round(running)
        now = self._clock()
        gone = [
            w
            for w in watches
            if w.gone_at is not None
            and not w.done.is_set()
            and now - w.gone_at >= self.confirm_after
        ]
        if gone:
            self._confirm(gone)

    def _round(self, running: list[_Watch]) -> None:
        sent = self._clock()
        try:
            ids = self._list_running()
        except ListUnavailable as exc:
            log.warning(
                "%s statuses cannot be listed (%s): each operation is polled on its own",
                self.kind,
                exc,
            )
            with self._lock:
                self.available = False
                everyone = list(self._watches.values())
            self._give_back(everyone)
            return
        except Exception as exc:
            self._listed_at = sent
            self._failures += 1
            log.warning("listing running %s operations failed: %s", self.kind, exc)
            if self._failures >= self.unlisted_after:
                # do not leave them waiting on a call that keeps failing
                self._give_back(running)
            return
        self._failures = 0
        self._listed_at = sent
        self.lists += 1
        for watch in running:
            if watch.request_id in ids:
                watch.listed = True
            elif watch.listed:
                watch.gone_at = sent
                watch.release()
            else:
                watch.misses += 1
                if watch.misses >= self.unlisted_after:
                    self._give_back([watch])

    def _confirm(self, gone: list[_Watch]) -> None:
        """One ``Describe`` per operation that left the running list: its final status
        settles it; an error, or a status still ``IN_PROGRESS``, hands it back to its
        own thread (which polls it with ``Describe`` until it is final)."""
        for watch in gone:
            try:
                status = self._describe(watch.request_id)
            except Exception as exc:
                log.warning("%s %s: %s", self.kind, watch.request_id, exc)
                self._give_back([watch])
                continue
            if status.get("Status") in ("SUCCEEDED", "FAILED"):
                self._settle(watch, status)
            else:  # the list is ahead of Describe: let its thread poll it
                self._give_back([watch])

    def _settle(self, watch: _Watch, status: StatusDict) -> None:
        watch.status = status
        self.settled += 1
        watch.done.set()

    @staticmethod
    def _give_back(watches: list[_Watch]) -> None:
        for watch in watches:
            watch.status = None
            watch.done.set()
