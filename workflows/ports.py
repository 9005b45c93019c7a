"""The ports the services talk through: storage, Identity Center and Slack notices.

Real adapters: :class:`storage.store.SqlStore` and :class:`workflows.aws.IdentityCenter`.
Slack is not a port of the services: they write notices to the outbox, delivered by
:mod:`workflows.outbox` through :class:`bot.notifier.SlackNotifier`. Each port is a
``Protocol`` so tests can pass fakes; the outbox's, heartbeat's and metrics' ports are
in :mod:`workflows.runtime_ports`, the shapes the store returns in :mod:`workflows.records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from workflows.domain import (
    AccessRequest,
    GrantedSession,
    MessageRef,
    NewRequest,
    Outgoing,
    Review,
)
from workflows.people import Binding
from workflows.records import AuditEvent, RequesterStats
from workflows.states import Status

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: ``items``, the ``total`` across pages, and where it starts."""

    items: tuple[T, ...]
    total: int
    offset: int = 0

    @property
    def has_newer(self) -> bool:
        return self.offset > 0

    @property
    def has_older(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class Leased:
    """What :meth:`SqlStore.transition_leasing` did: ``won`` the status changed,
    ``leased`` the lease is held, ``others`` the other active grants of the same
    assignment (None when not counted)."""

    won: bool
    leased: bool
    others: int | None = None


class Store(Protocol):
    """Requests, reviews, sessions, message roots and audit events. Each method is one
    transaction."""

    def add_request(self, new: NewRequest, outbox: Sequence[Outgoing] = ()) -> AccessRequest: ...

    def get(self, request_id: int) -> AccessRequest | None: ...

    def transition(
        self,
        request_id: int,
        from_status: Status,
        to_status: Status,
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        review: Review | None = None,
        session: GrantedSession | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Compare-and-set the status; write the review/session and one audit event
        in the same transaction. False (and nothing written) if the status was not
        ``from_status``."""
        ...

    def add_approval(
        self,
        request_id: int,
        status: Status,
        given: int,
        review: Review,
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Count an approval that does not decide the request yet: compare-and-set the
        approvals counter from ``given`` while the request is ``status``, writing the
        review, one audit event and ``outbox`` in the same transaction. False (nothing
        written) when the status or the count moved first."""
        ...

    def transition_leasing(
        self,
        request_id: int,
        from_status: Status,
        to_status: Status,
        *,
        lease_key: str,
        holder: str,
        lease_now: datetime,
        lease_until: datetime,
        grants_of: AccessRequest | None = None,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        review: Review | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> Leased:
        """:meth:`transition` and, in the same transaction when it won, the lease
        ``lease_key`` for ``holder`` until ``lease_until`` (UTC), and, when the lease was
        taken and ``grants_of`` given, the other active grants of its assignment: a
        final approval and its assignment's lease in one commit."""
        ...

    def add_messages(self, request_id: int, refs: Sequence[MessageRef]) -> None: ...

    def audit(
        self,
        request_id: int | None,
        actor: str,
        action: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> None: ...

    def has_audited(self, action: str) -> bool:
        """Whether any audit event of ``action`` was ever written."""
        ...

    def audit_events(self, request_id: int | None = None) -> list[AuditEvent]:
        """Audit events (of ``request_id``, or all) in order, as :class:`AuditEvent`
        dicts with ``at``, ``request_id``, ``actor``, ``action`` and ``detail``."""
        ...

    def enqueue(self, request_id: int | None, items: Sequence[Outgoing], now: datetime) -> None:
        """Add Slack notices to the outbox (delivered by :mod:`workflows.outbox`)."""
        ...

    def claim_lease(self, key: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take ``key`` for ``holder`` until ``until`` unless another live holder has it."""
        ...

    def release_lease(self, key: str, holder: str) -> None: ...

    def set_permission_set_arn(self, request_id: int, arn: str) -> None: ...

    def set_grant_operation(self, request_id: int, operation_id: str, since: datetime) -> None:
        """Record the AWS request id of a grant AWS had not finished in time, and since
        when (aware UTC; an earlier record's time is kept)."""
        ...

    def with_status(self, status: Status) -> list[AccessRequest]: ...

    def requester_load(self, slack_user_id: str, since: datetime) -> tuple[int, int]:
        """``(pending, recent)`` for one requester: how many of their requests wait for
        a decision now (any pending status), and how many they submitted at or after
        ``since`` (UTC)."""
        ...

    def active_ending_before(self, when: datetime) -> list[AccessRequest]: ...

    def pending_past_deadline(self, when: datetime) -> list[AccessRequest]: ...

    def other_active_grants(self, request: AccessRequest, now: datetime) -> int:
        """Active requests, other than ``request``, of the same principal, account and
        permission set that end after ``now``."""
        ...

    def upcoming_deadlines(
        self, now: datetime, expiry_warning: timedelta | None = None
    ) -> list[datetime]:
        """Future ``expires_at`` of active sessions and approval deadlines of pending
        requests, for the scheduler's date triggers; with ``expiry_warning``, also the
        moments unwarned sessions long enough for one are to be warned."""
        ...

    def unwarned_ending_before(self, when: datetime) -> list[AccessRequest]:
        """Active requests whose end was not warned of yet and whose session ends at or
        before ``when``, soonest first."""
        ...

    def claim_expiry_warning(
        self,
        request_id: int,
        now: datetime,
        *,
        action: str,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Compare-and-set the request's expiry warning as done (Active and not warned
        yet), writing one audit event ``action`` and ``outbox`` in the same
        transaction. False (nothing written) when it was done already or it is not
        Active."""
        ...

    def requests_of(self, slack_id: str, limit: int = 10, offset: int = 0) -> list[AccessRequest]:
        """The person's most recent requests, newest first."""
        ...

    def bindings(self) -> list[Binding]:
        """The stored bindings of the config's people to Slack user ids
        (:mod:`workflows.people`), one per entry."""
        ...


class BindingStore(Protocol):
    """The bindings of the config's people (:class:`storage.bindings.SqlBindings`)."""

    def bindings(self) -> list[Binding]: ...

    def save_binding(
        self,
        binding: Binding,
        *,
        expect: Binding | None,
        now: datetime,
        actor: str = "jitbot",
        action: str | None = None,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        """Store ``binding`` if its entry's row is still ``expect`` as read (None: no row
        yet; compared on the bound and pending ids and emails), with one audit event
        ``action`` (when given) and ``outbox`` notices, in one transaction. False (and
        nothing written) when another replica or click changed it first."""
        ...


class HomeQueries(Protocol):
    """The App Home's queries (:class:`storage.store.SqlStore` implements them). Each
    returns one page and the total; ``None`` account scopes mean every account."""

    def requester_stats(self, slack_id: str) -> RequesterStats: ...

    def my_requests(self, slack_id: str, *, limit: int, offset: int = 0) -> Page[AccessRequest]: ...

    def active_sessions(
        self,
        *,
        requester_slack_id: str | None = None,
        account_ids: Sequence[str] | None = None,
        limit: int,
        offset: int = 0,
    ) -> Page[AccessRequest]: ...

    def pending_for_approver(
        self,
        *,
        owned_account_ids: Sequence[str],
        all_accounts: bool,
        exclude_requester: str | None,
        limit: int | None,
        offset: int = 0,
        routed_to: str | None = None,
    ) -> Page[AccessRequest]: ...

    def history(
        self,
        *,
        account_ids: Sequence[str] | None,
        statuses: Sequence[Status] | None,
        limit: int,
        offset: int = 0,
    ) -> Page[AccessRequest]: ...

    def account_counts(self, account_ids: Sequence[str] | None) -> dict[str, tuple[int, int]]: ...

    def bindings(self) -> list[Binding]:
        """Who the config's people are (:meth:`Store.bindings`), for the viewer's roles."""
        ...
