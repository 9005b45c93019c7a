"""Mapping an email to an Identity Center user id (identitystore ``GetUserId``), cached,
with one lookup per email at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from workflows.aws.clients import Clients
from workflows.aws.errors import AWS_ERRORS, gone, wrap

log = logging.getLogger("jitbot.aws")

#: Seconds an unknown email stays cached as "no such user" (a user created in Identity
#: Center shortly after is found without restarting the bot).
MISS_CACHE_TTL = 30.0


@dataclass
class _Cached:
    value: str | None
    expires_at: float


class Users:
    """Email -> user id lookups with a TTL cache.

    :param ttl: seconds a found id is cached (unknown emails: :data:`MISS_CACHE_TTL`, or
        ``ttl`` if smaller).
    :param clock: monotonic clock in seconds.
    """

    def __init__(self, clients: Clients, *, ttl: float, clock: Callable[[], float]) -> None:
        self._clients = clients
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._users: dict[str, _Cached] = {}
        #: email key -> the lock of its lookup under way (one lookup per email at a time)
        self.lookups: dict[str, threading.Lock] = {}

    def find_user_id(self, email: str) -> str | None:
        """Identity Center user id of the person with this email, or None.

        identitystore ``GetUserId`` with ``AlternateIdentifier.UniqueAttribute``, first
        ``AttributePath="emails.value"``, then ``"userName"`` with the same string (the
        only unique attribute paths, see
        https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_GetUserId.html).
        ``ResourceNotFoundException`` means "not under this attribute". Cached per email,
        case-insensitively; callers asking for an email whose lookup is under way wait
        for its answer instead of calling AWS again.

        :raises AwsError: any other failure (access denied, no instance, network...).
        """
        value = email.strip()
        if not value:
            return None
        key = value.casefold()
        cached = self._cached(key)
        if cached is not None:
            return cached.value
        with self._lock:
            lookup = self.lookups.setdefault(key, threading.Lock())
        with lookup:
            cached = self._cached(key)  # the lookup this caller waited for
            if cached is not None:
                return cached.value
            try:
                return self._look_up(value, key)
            finally:
                with self._lock:
                    self.lookups.pop(key, None)

    def _cached(self, key: str) -> _Cached | None:
        with self._lock:
            cached = self._users.get(key)
        return cached if cached is not None and cached.expires_at > self._clock() else None

    def _look_up(self, value: str, key: str) -> str | None:
        store_id = self._clients.identity_store_id
        user_id: str | None = None
        for path in ("emails.value", "userName"):
            try:
                response = self._clients.client("identitystore").get_user_id(
                    IdentityStoreId=store_id,
                    AlternateIdentifier={
                        "UniqueAttribute": {"AttributePath": path, "AttributeValue": value}
                    },
                )
            except AWS_ERRORS as exc:
                if isinstance(exc, ClientError) and gone(exc):
                    continue
                raise wrap(f"identitystore GetUserId ({path})", exc) from exc
            user_id = response["UserId"]
            break
        ttl = self.ttl if user_id else min(MISS_CACHE_TTL, self.ttl)
        with self._lock:
            self._users[key] = _Cached(user_id, self._clock() + ttl)
        if user_id is None:
            log.info("no Identity Center user with email or userName %r", value)
        return user_id
