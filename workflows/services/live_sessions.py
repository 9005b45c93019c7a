"""Ending the AWS sign-ins already open when a standard-set session ends (config
``revoke_live_sessions: true``), and lifting that again once they would have run out.

Deleting an account assignment stops new sign-ins only; a role session already opened
lasts until its own end, at most the permission set's ``SessionDuration`` (IAM Identity
Center user guide, "Revoke active IAM role sessions created by permission sets",
https://docs.aws.amazon.com/singlesignon/latest/userguide/useraccess.html#revoke-user-permissions).
AWS's documented remedy, followed here: a deny for the person's
``identitystore:userId`` in the set's inline policy
(https://docs.aws.amazon.com/singlesignon/latest/userguide/prereqs-revoking-user-permissions.html),
provisioned to the account; the statement is built in :mod:`workflows.services.live_policy`.

Which account is provisioned: only the session's (``TargetType AWS_ACCOUNT``). The
statement is scoped to that account (``aws:PrincipalAccount``), so provisioning it to
the others would change nothing there and only add writes to roles Identity Center
updates one at a time per account (quotas page). When the set is no longer provisioned
to the account at all (``ListAccountsForProvisionedPermissionSet``: its IAM role is
gone, as after the last assignment there went), there is no role left whose sessions
could go on, so nothing is written and the sign-ins count as ended.

Each read-modify-write of a set's inline policy holds the store lease
``inline-policy:<arn>`` (and this process's lock of it), so replicas ending sessions of
the same set at once never lose each other's statements. The lift is stored before the
statement is written (a crash in between leaves a lift of a statement never written,
which does nothing) and is done by the sweep (:meth:`LiveSessions.lift_due`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from workflows.access_granter import AccessGranter
from workflows.assignments import AwsError
from workflows.domain import AccessRequest, Outgoing
from workflows.ports import Store
from workflows.services.leases import Leases
from workflows.services.live_policy import (
    CUTOFF_MARGIN,
    LIFT_MARGIN,
    LONGEST_SESSION,
    PendingLift,
    PolicyRefused,
    deny_statement,
    statement_sid,
    with_statement,
    without_statement,
)

log = logging.getLogger("jitbot.workflows")

#: Tries to take a set's inline-policy lease, :data:`LEASE_PAUSE` seconds apart.
LEASE_TRIES = 100
LEASE_PAUSE = 0.1


@runtime_checkable
class LiftStore(Protocol):
    """Where pending lifts are kept (:mod:`storage.lifts`)."""

    def add_lift(self, lift: PendingLift) -> None:
        """Store ``lift`` (again: nothing changes)."""
        ...

    def lifts_due(self, now: datetime) -> list[PendingLift]:
        """Lifts due at or before ``now``, earliest first."""
        ...

    def drop_lift(self, sid: str) -> bool:
        """Forget the lift ``sid``; False when it was gone already."""
        ...


class LiveOutcome(StrEnum):
    """What became of the sign-ins already open (:attr:`workflows.domain.Notice.live`)."""

    OFF = ""  # not tried: the option is off, or a custom set (deleted, which ends them)
    ENDED = "ended"  # denied, provisioned to the account (AWS applies it within minutes)
    ROLE_GONE = "role_gone"  # the set's role left the account: nothing can go on
    FAILED = "failed"  # could NOT be ended: they run until their own end


@dataclass
class LiveSessions:
    """Ends open sign-ins in ``aws`` when ``enabled``; lifts are kept in ``lifts``
    (None: a store that keeps none, allowed only while ``enabled`` is false).

    :raises ValueError: ``enabled`` without ``lifts``.
    """

    enabled: bool
    store: Store
    lifts: LiftStore | None
    aws: AccessGranter
    leases: Leases
    sleep: Callable[[float], None] = field(default=time.sleep)

    def __post_init__(self) -> None:
        if self.enabled and self.lifts is None:
            raise ValueError("revoke_live_sessions needs a store that keeps pending lifts")

    def end(self, request: AccessRequest, now: datetime) -> LiveOutcome:
        """Deny the requester's sign-ins of ``request``'s set in its account opened
        before ``now`` + :data:`CUTOFF_MARGIN`; audited ``sessions_revoked``, or
        ``sessions_not_revoked`` with an admin alert (the session still ends)."""
        if not self.enabled or self.lifts is None or request.custom is not None:
            return LiveOutcome.OFF
        arn, account = request.permission_set_arn, request.account_id
        try:
            if not self.aws.is_provisioned(arn, account):
                self._audit(request, now, "sessions_revoked", {"how": "role_removed"})
                return LiveOutcome.ROLE_GONE
            cutoff = now + CUTOFF_MARGIN
            lift = PendingLift(
                statement_sid(request.principal_id, account, cutoff),
                request.id,
                arn,
                account,
                request.principal_id,
                cutoff + self._longest_session(request) + LIFT_MARGIN,
            )
            self.lifts.add_lift(lift)
            statement = deny_statement(lift.sid, request.principal_id, account, cutoff)
            with self._policy(arn):
                self.aws.put_inline_policy(
                    arn, with_statement(self.aws.inline_policy(arn), statement)
                )
            self.aws.provision_to_account(arn, account)
        except (AwsError, PolicyRefused) as exc:
            self._refused(request, now, str(exc))
            return LiveOutcome.FAILED
        detail = {"how": "deny_statement", "sid": lift.sid, "lift_at": lift.due_at.isoformat()}
        self._audit(request, now, "sessions_revoked", detail)
        return LiveOutcome.ENDED

    def lift_due(self, now: datetime) -> None:
        """Take out every statement whose sessions have all run out by ``now``, and
        re-provision the account; audited ``revocation_lifted``. One that fails is
        logged and tried again by the next sweep; a set gone counts as lifted."""
        lifts = self.lifts
        if lifts is None:
            return
        for lift in lifts.lifts_due(now):
            try:
                self._lift(lift)
            except AwsError as exc:
                if exc.code != "ResourceNotFoundException":
                    log.warning("lifting %s failed, will retry: %s", lift.sid, exc)
                    continue
            if lifts.drop_lift(lift.sid):
                detail = {"sid": lift.sid, "permission_set_arn": lift.permission_set_arn}
                self.store.audit(lift.request_id, "jitbot", "revocation_lifted", now, detail)

    def _lift(self, lift: PendingLift) -> None:
        arn = lift.permission_set_arn
        with self._policy(arn):
            current = self.aws.inline_policy(arn)
            lifted = without_statement(current, lift.sid)
            if lifted == current:
                return
            self.aws.put_inline_policy(arn, lifted)
        if self.aws.is_provisioned(arn, lift.account_id):
            self.aws.provision_to_account(arn, lift.account_id)

    def _longest_session(self, request: AccessRequest) -> timedelta:
        """The longest a session opened before the end can last: the set's
        SessionDuration now or at the grant, whichever is longer (12 h if unknown)."""
        try:
            current = self.aws.session_duration(request.permission_set_arn)
        except AwsError:
            current = LONGEST_SESSION
        known = [d for d in (current, request.session_limit) if d is not None]
        return max(known) if known else LONGEST_SESSION

    @contextmanager
    def _policy(self, arn: str) -> Iterator[None]:
        """Hold ``arn``'s inline policy (this process's lock, then the store lease,
        waiting up to :data:`LEASE_TRIES` × :data:`LEASE_PAUSE` s for another replica).

        :raises AwsError: the lease stayed with another replica."""
        with self.leases.local_lock(("inline-policy", arn, "")):
            for _ in range(LEASE_TRIES):
                with self.leases.hold(f"inline-policy:{arn}") as held:
                    if held:
                        yield
                        return
                self.sleep(LEASE_PAUSE)
        raise AwsError(f"another replica kept the inline policy of {arn} busy; not changed")

    def _refused(self, request: AccessRequest, now: datetime, reason: str) -> None:
        log.error("open sign-ins of request %s could not be ended: %s", request.id, reason)
        alert = Outgoing.alert(
            f"The AWS sign-ins already open for request #{request.id} "
            f"({request.requester.email} on {request.account_label}, "
            f"{request.permission_set_name}) could NOT be ended: {reason}. Its access was "
            "removed; sign-ins already open keep working until they expire."
        )
        self._audit(request, now, "sessions_not_revoked", {"reason": reason}, [alert])

    def _audit(
        self,
        request: AccessRequest,
        now: datetime,
        action: str,
        detail: dict[str, object],
        outbox: list[Outgoing] | None = None,
    ) -> None:
        self.store.audit(request.id, "jitbot", action, now, dict(detail), outbox=outbox or [])
