"""Who may change one account assignment now: a store lease per assignment, shared by
the replicas, and a local lock per assignment, shared by this process's threads.

Grants, revokes and the drift reconciler all take :meth:`Leases.assignment_guard`
before they touch an assignment, so two of them never work on one at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from workflows.assignments import Assignment
from workflows.domain import AccessRequest
from workflows.ports import Store

log = logging.getLogger("jitbot.workflows")

#: ``(principal id, account id, permission set ARN)``: one account assignment.
Key = tuple[str, str, str]


def default_holder() -> str:
    """This replica's name in leases: host, process id and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def assignment_of(request: AccessRequest) -> Assignment:
    """The Identity Center account assignment a request grants."""
    return Assignment(request.account_id, request.permission_set_arn, request.principal_id)


def key_of(request: AccessRequest) -> Key:
    """The assignment ``request`` grants, as a lease key."""
    return (request.principal_id, request.account_id, request.permission_set_arn)


def lease_name(key: Key) -> str:
    """The store lease of one assignment, ``assignment:<principal>/<account>/<arn>``."""
    return "assignment:" + "/".join(key)


class Leases:
    """This replica's leases on ``store``: held as ``holder`` for ``lease`` unless renewed,
    measured by ``clock`` (real time, aware UTC; not the services' ``now``).

    ``holder``, ``lease`` and ``clock`` are plain attributes: tests play a second replica
    or a lease running out by setting them.
    """

    def __init__(
        self,
        store: Store,
        *,
        holder: str | None = None,
        lease: timedelta = timedelta(seconds=15),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.holder = holder or default_holder()
        self.lease = lease
        self.clock = clock
        self._locks: dict[Key, threading.Lock] = {}
        self._guard = threading.Lock()

    def local_lock(self, key: Key) -> threading.Lock:
        """This process's lock on one assignment (the lease is per replica: threads of
        one replica are kept apart by this lock)."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        """Hold the store lease ``name`` for the block. Yields True when held, False when
        another live holder has it (then nothing is taken)."""
        start = self.clock()
        if not self.store.claim_lease(name, self.holder, start, start + self.lease):
            yield False
            return
        try:
            yield True
        finally:
            self.store.release_lease(name, self.holder)

    @contextmanager
    def assignment_guard(
        self, principal_id: str, account_id: str, permission_set_arn: str
    ) -> Iterator[bool]:
        """Hold the right to change one account assignment. Yields True when held; False
        means another replica is working on it, so the caller should leave it alone."""
        key = (principal_id, account_id, permission_set_arn)
        name = lease_name(key)
        with self.local_lock(key), self.hold(name) as held:
            if not held:
                log.info("%s is leased by another replica; leaving it to them", name)
            yield held
