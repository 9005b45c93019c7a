"""The App Home's queries in SQL (:class:`workflows.ports.HomeQueries`).

``account_ids=None`` means every account (SSO admins and admins); a list limits the
query to those accounts (owners). Each list returns one page and the total count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, String, and_, cast, func, or_, select

from storage.base import SqlSessions
from storage.convert import to_domain
from storage.models import RequestRow, SessionRow
from workflows.domain import AccessRequest
from workflows.ports import Page
from workflows.records import RequesterStats
from workflows.states import PENDING_STATUSES, Status

_Q = TypeVar("_Q", bound=Select[Any])

_NEWEST_FIRST = (RequestRow.requested_at.desc(), RequestRow.id.desc())


def _on_accounts(query: _Q, account_ids: Sequence[str] | None) -> _Q:
    return (
        query if account_ids is None else query.where(RequestRow.account_id.in_(list(account_ids)))
    )


class SqlHomeQueries(SqlSessions):
    """What the App Home lists and counts."""

    def _page(
        self, query: Select[tuple[RequestRow]], order: Sequence[Any], limit: int, offset: int
    ) -> Page[AccessRequest]:
        with self._session() as s:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = s.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
            return Page(tuple(to_domain(r) for r in rows), total, offset)

    def my_requests(self, slack_id: str, *, limit: int, offset: int = 0) -> Page[AccessRequest]:
        """The requester's requests, newest first."""
        query = select(RequestRow).where(RequestRow.requester_slack_id == slack_id)
        return self._page(query, _NEWEST_FIRST, limit, offset)

    def requester_stats(self, slack_id: str) -> RequesterStats:
        """``active``, ``pending`` and ``total`` requests of one requester."""
        with self._session() as s:
            rows = s.execute(
                select(RequestRow.status, func.count())
                .where(RequestRow.requester_slack_id == slack_id)
                .group_by(RequestRow.status)
            ).all()
        by_status = {status: n for status, n in rows}
        return {
            "active": by_status.get(Status.ACTIVE.value, 0),
            "pending": sum(by_status.get(s.value, 0) for s in PENDING_STATUSES),
            "total": sum(by_status.values()),
        }

    def active_sessions(
        self,
        *,
        requester_slack_id: str | None = None,
        account_ids: Sequence[str] | None = None,
        limit: int,
        offset: int = 0,
    ) -> Page[AccessRequest]:
        """Active requests (with their session), ending soonest first."""
        query = select(RequestRow).join(SessionRow).where(RequestRow.status == Status.ACTIVE.value)
        if requester_slack_id is not None:
            query = query.where(RequestRow.requester_slack_id == requester_slack_id)
        query = _on_accounts(query, account_ids)
        return self._page(query, (SessionRow.expires_at, RequestRow.id), limit, offset)

    def pending_for_approver(
        self,
        *,
        owned_account_ids: Sequence[str],
        all_accounts: bool,
        exclude_requester: str | None,
        limit: int | None,
        offset: int = 0,
        routed_to: str | None = None,
    ) -> Page[AccessRequest]:
        """The approval queue, oldest first: standard Pending and custom Pending Owner
        requests on the accounts the person owns, and, for SSO admins and admins
        (``all_accounts``), standard Pending and custom Pending Admin on every account;
        with ``routed_to`` (a Slack user id) also those at those stages it was sent to
        at submit (an access rule's approvers). ``limit`` None: every one."""
        owner_stage = and_(
            RequestRow.status.in_([Status.PENDING.value, Status.PENDING_OWNER.value]),
            RequestRow.account_id.in_(list(owned_account_ids)),
        )
        condition = owner_stage
        if all_accounts:
            condition = or_(
                owner_stage,
                RequestRow.status.in_([Status.PENDING.value, Status.PENDING_ADMIN.value]),
            )
        if routed_to is not None:
            sent = cast(RequestRow.approvers, String).contains(f'"{routed_to}"', autoescape=True)
            condition = or_(
                condition,
                and_(
                    RequestRow.status.in_([Status.PENDING.value, Status.PENDING_OWNER.value]), sent
                ),
            )
        query = select(RequestRow).where(condition)
        if exclude_requester is not None:
            query = query.where(RequestRow.requester_slack_id != exclude_requester)
        return self._page(query, (RequestRow.requested_at, RequestRow.id), limit, offset)

    def history(
        self,
        *,
        account_ids: Sequence[str] | None,
        statuses: Sequence[Status] | None,
        limit: int,
        offset: int = 0,
    ) -> Page[AccessRequest]:
        """Every request on the accounts, newest first, optionally of some statuses."""
        query = _on_accounts(select(RequestRow), account_ids)
        if statuses:
            query = query.where(RequestRow.status.in_([s.value for s in statuses]))
        return self._page(query, _NEWEST_FIRST, limit, offset)

    def account_counts(self, account_ids: Sequence[str] | None) -> dict[str, tuple[int, int]]:
        """account id -> (pending requests, active sessions)."""
        query = select(RequestRow.account_id, RequestRow.status, func.count()).where(
            RequestRow.status.in_([Status.ACTIVE.value, *(s.value for s in PENDING_STATUSES)])
        )
        query = _on_accounts(query, account_ids)
        counts: dict[str, list[int]] = {}
        with self._session() as s:
            for account_id, status, n in s.execute(
                query.group_by(RequestRow.account_id, RequestRow.status)
            ):
                slot = counts.setdefault(account_id, [0, 0])
                slot[1 if status == Status.ACTIVE.value else 0] += n
        return {k: (v[0], v[1]) for k, v in counts.items()}
