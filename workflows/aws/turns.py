"""Who may change an account's assignments now, and who holds an outstanding slot.

Identity Center updates one permission set (IAM role) per account at a time and answers
any other change to that account ``ConflictException`` meanwhile (IAM Identity Center
quotas page, https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html).
Two grants for one account sent together would collide with each other and spend their
retries on it. So this adapter's own assignment changes to one account take turns
(:class:`AccountTurns`, first come first served), from before the write until its final
status; changes to different accounts run in parallel.

The account's turn is taken *before* one of the outstanding slots
(:class:`OutstandingHold`): a change queued behind another of its account holds no
slot, and a write AWS refuses (a conflict with someone else's change, the quota of
outstanding calls) gives its slot back while it waits to retry, since no operation of
it is outstanding then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from workflows.aws.ratelimit import Slots

__all__ = ["AccountTurns", "OutstandingHold"]

T = TypeVar("T")


class AccountTurns:
    """One holder per account id at a time, in the order they asked (a FIFO
    :class:`~workflows.aws.ratelimit.Slots` of size 1 per account). Thread-safe.

    Only accounts with a holder or waiters keep an entry (``len()``): a turn given
    back with nobody waiting is forgotten, so the map does not grow with every
    account ever changed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns: dict[str, tuple[Slots, list[int]]] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._turns)

    def queued(self, account_id: str) -> int:
        """How many hold or wait for ``account_id``'s turn now (0: nobody)."""
        with self._lock:
            entry = self._turns.get(account_id)
            return entry[1][0] if entry else 0

    @contextmanager
    def turn(self, account_id: str) -> Iterator[None]:
        """Hold ``account_id``'s turn for the ``with`` block, waiting behind everyone
        who asked for it before."""
        with self._lock:
            slots, users = self._turns.setdefault(account_id, (Slots(1), [0]))
            users[0] += 1
        slots.acquire()
        try:
            yield
        finally:
            with self._lock:
                slots.release()
                users[0] -= 1
                if users[0] == 0:
                    del self._turns[account_id]


class OutstandingHold:
    """One assignment change's claim on an outstanding slot and the in-flight counts.

    :meth:`attempt` takes the slot (waiting for one) before a write attempt and gives
    it back if the attempt raises (nothing is outstanding in AWS then); after a write
    AWS accepted it is held until :meth:`release`, which the status poller may call
    early and the change's own thread calls again at the end (only the first counts).

    :param slots: the adapter's outstanding slots, or None (no cap).
    :param counts: ``counts(delta)`` adds ``delta`` (+1 / -1) to the adapter's
        in-flight counts of this kind of change.

    Thread-safe.
    """

    def __init__(self, slots: Slots | None, counts: Callable[[int], None]) -> None:
        self._slots = slots
        self._counts = counts
        self._lock = threading.Lock()
        self._held = False

    def attempt(self, write: Callable[[], T]) -> T:
        """``write()`` holding the slot; the slot is given back if it raises."""
        with self._lock:
            take = not self._held
        if take:
            if self._slots is not None:
                self._slots.acquire()
            with self._lock:
                self._held = True
            self._counts(+1)
        try:
            return write()
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Give the slot back, once (later calls do nothing until the next attempt)."""
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._counts(-1)
        if self._slots is not None:
            self._slots.release()
