"""The expiry warning: ``expiry_warning`` before an Active session ends, its requester is
told so in their thread, with Extend and Release now (issue 19).

Sent once per session, across sweeps, replicas and restarts: the store's
compare-and-set on the request's ``expiry_warned_at`` writes the notice to the outbox
and the audit event ``expiry_warned`` in the same transaction
(:meth:`workflows.ports.Store.claim_expiry_warning`). The sweep runs :meth:`warn_due`;
the scheduler also wakes at each warning's moment (:func:`warning_time`).

Sessions shorter than twice the warning get none (a 20-minute session would be warned
before a quarter of it had passed). A warning that fell due while the bot was down is
sent at start-up if the session is still Active and has at least :func:`least_left`
left; otherwise it is skipped, audited ``expiry_warning_skipped``, and never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows.domain import AccessRequest, GrantedSession, Notice, NoticeKind, Outgoing
from workflows.ports import Store
from workflows.services.hooks import Hooks

#: Below this much time left, a late warning is skipped rather than sent (a person
#: could not act on it before the access ends).
LEAST_LEFT = timedelta(minutes=1)


def warning_time(session: GrantedSession, warning: timedelta | None) -> datetime | None:
    """When ``session``'s requester is to be warned (aware UTC): ``warning`` before its
    end; None when warnings are off or the session is shorter than twice ``warning``."""
    if warning is None or session.expires_at - session.granted_at < 2 * warning:
        return None
    return session.expires_at - warning


def least_left(warning: timedelta) -> timedelta:
    """The time left below which a late warning is skipped: a minute, or a third of
    ``warning`` when that is shorter (seconds-scale settings in tests and demos)."""
    return min(LEAST_LEFT, warning / 3)


@dataclass(frozen=True)
class ExpiryWarnings:
    """Warns requesters of their session's end ``warning`` ahead (None: never)."""

    store: Store
    hooks: Hooks
    warning: timedelta | None

    def warn_due(self, now: datetime) -> int:
        """Warn every Active, unwarned session whose warning is due at ``now`` (aware
        UTC), or skip it when too little is left; returns how many were warned. Errors
        propagate (the sweep logs them and the next sweep retries)."""
        if self.warning is None:
            return 0
        warned = 0
        for request in self.store.unwarned_ending_before(now + self.warning):
            warned += self._warn_one(request, now)
        if warned:
            self.hooks.kick()
        return warned

    def _warn_one(self, request: AccessRequest, now: datetime) -> int:
        assert self.warning is not None
        session = request.session
        due = warning_time(session, self.warning) if session is not None else None
        if session is None or due is None or due > now:
            return 0
        left = session.expires_at - now
        if left < least_left(self.warning):
            self.store.claim_expiry_warning(
                request.id,
                now,
                action="expiry_warning_skipped",
                detail={
                    "seconds_left": max(0, int(left.total_seconds())),
                    "due_at": due.isoformat(),
                },
            )
            return 0
        seconds = int(left.total_seconds())
        notice = Notice(NoticeKind.EXPIRY_WARNING, detail=str(seconds))
        won = self.store.claim_expiry_warning(
            request.id,
            now,
            action="expiry_warned",
            detail={
                "seconds_left": seconds,
                "expires_at": session.expires_at.isoformat(),
                "late": now - due > LEAST_LEFT,
            },
            outbox=[Outgoing.announce(notice)],
        )
        return 1 if won else 0
