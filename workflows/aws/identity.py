"""Identity Center users by email (identitystore ``GetUserId``), cached per email."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from workflows.aws.base import Plumbing
from workflows.aws.errors import unless_missing

log = logging.getLogger("jitbot.aws")


#: Seconds an unknown email stays cached as "no such user" (a user created in Identity
#: Center shortly after is found without restarting the bot).
MISS_CACHE_TTL = 30.0


@dataclass
class _Cached:
    value: str | None
    expires_at: float


class UserDirectory(Plumbing):
    """Email -> Identity Center user id (:meth:`find_user_id`), cached per email."""

    def find_user_id(self, email: str) -> str | None:
        """Identity Center user id of the person with this email, or None.

        Uses identitystore ``GetUserId`` with ``AlternateIdentifier.UniqueAttribute``,
        first ``AttributePath="emails.value"``, then ``"userName"`` with the same string
        (``userName`` and ``emails.value`` are the only unique attribute paths, see
        https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_GetUserId.html).
        ``ResourceNotFoundException`` means "not under this attribute".

        Answers are cached per email, case-insensitively: found ids for
        ``user_cache_ttl`` seconds, unknown emails for :data:`MISS_CACHE_TTL` seconds.
        Callers asking for the same email while its lookup is under way wait for that
        lookup's answer instead of calling AWS again.

        :raises AwsError: any other failure (access denied, no instance, network...).
        """
        value = email.strip()
        if not value:
            return None
        key = value.casefold()
        cached = self._cached_user(key)
        if cached is not None:
            return cached.value
        with self._lock:
            lookup = self._user_lookups.setdefault(key, threading.Lock())
        with lookup:
            cached = self._cached_user(key)  # the lookup this caller waited for
            if cached is not None:
                return cached.value
            try:
                return self._look_up_user(value, key)
            finally:
                with self._lock:
                    self._user_lookups.pop(key, None)

    def _cached_user(self, key: str) -> _Cached | None:
        with self._lock:
            cached = self._users.get(key)
        return cached if cached is not None and cached.expires_at > self._clock() else None

    def _look_up_user(self, value: str, key: str) -> str | None:
        """:meth:`find_user_id`'s calls to AWS for ``value``; the answer cached under
        ``key``."""
        store_id = self.identity_store_id
        user_id: str | None = None
        for path in ("emails.value", "userName"):
            response = unless_missing(
                f"identitystore GetUserId ({path})",
                lambda path=path: self._client("identitystore").get_user_id(
                    IdentityStoreId=store_id,
                    AlternateIdentifier={
                        "UniqueAttribute": {"AttributePath": path, "AttributeValue": value}
                    },
                ),
            )
            if response is None:
                continue
            user_id = response["UserId"]
            break
        ttl = self.user_cache_ttl if user_id else min(MISS_CACHE_TTL, self.user_cache_ttl)
        with self._lock:
            self._users[key] = _Cached(user_id, self._clock() + ttl)
        if user_id is None:
            log.info("no Identity Center user with email or userName %r", value)
        return user_id
