"""The one way a request's status changes: through the transition table.

Every service calls :func:`submit`, :func:`apply` or :func:`apply_leasing`; each looks
the target status up in :data:`workflows.states.TRANSITIONS` (raising
:class:`~workflows.states.TransitionNotAllowed` when the event is not allowed from the
request's status) and then calls the store's compare-and-set, so no service writes a
target status by hand and the table is the lifecycle, not a comment on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from workflows.domain import AccessRequest, GrantedSession, NewRequest, Outgoing, Person, Review
from workflows.ports import Leased, Store
from workflows.states import Event, Status, next_status


def actor_detail(actor: Person, principal: str | None = None) -> dict[str, str]:
    """What an audit event records of the person who caused it, besides its ``actor``
    (their Slack user id, the stable one): the email Slack gave for them at that
    moment and, where known, their Identity Center user id (``principal``)."""
    detail = {"actor_email": actor.email}
    if principal:
        detail["actor_principal"] = principal
    return detail


def first_status(event: Event) -> Status:
    """The status a new request starts in: ``event`` (:attr:`Event.SUBMIT` or
    :attr:`Event.SUBMIT_CUSTOM`) from no status yet.

    Raises:
        TransitionNotAllowed: ``event`` does not start a request.
    """
    return next_status(None, event)


def moved(request: AccessRequest, event: Event) -> AccessRequest:
    """``request`` as it is once ``event`` won, without reading it again (the status
    only: reviews and sessions written with it are not in the copy).

    Raises:
        TransitionNotAllowed: the table has no ``(request.status, event)`` entry.
    """
    return replace(request, status=next_status(request.status, event))


def submit(
    store: Store, new: NewRequest, event: Event, outbox: Sequence[Outgoing] = ()
) -> AccessRequest:
    """Store ``new`` in the status ``event`` starts it in (:func:`first_status`), with
    its ``outbox`` notices, in one transaction.

    Raises:
        TransitionNotAllowed: ``event`` does not start a request.
    """
    return store.add_request(replace(new, status=first_status(event)), outbox=outbox)


def apply(
    store: Store,
    request: AccessRequest,
    event: Event,
    *,
    now: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any] | None = None,
    review: Review | None = None,
    session: GrantedSession | None = None,
    outbox: Sequence[Outgoing] = (),
) -> bool:
    """Move ``request`` from its status (as read) by ``event``: a compare-and-set
    (:meth:`Store.transition`) that writes the review/session, one audit event
    ``action`` by ``actor`` (a Slack user id, or ``jitbot``; :func:`actor_detail` says
    what ``detail`` adds of a person) and the ``outbox`` notices with it. ``now`` is
    aware UTC.

    Returns False (nothing written) when the stored status is no longer the one read.

    Raises:
        TransitionNotAllowed: the table has no ``(request.status, event)`` entry.
    """
    return store.transition(
        request.id,
        request.status,
        next_status(request.status, event),
        now=now,
        actor=actor,
        action=action,
        detail=detail,
        review=review,
        session=session,
        outbox=outbox,
    )


def apply_leasing(
    store: Store,
    request: AccessRequest,
    event: Event,
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
    """:func:`apply` and, in the same transaction when it won, the lease ``lease_key``
    for ``holder`` until ``lease_until`` (:meth:`Store.transition_leasing`).

    Raises:
        TransitionNotAllowed: the table has no ``(request.status, event)`` entry.
    """
    return store.transition_leasing(
        request.id,
        request.status,
        next_status(request.status, event),
        lease_key=lease_key,
        holder=holder,
        lease_now=lease_now,
        lease_until=lease_until,
        grants_of=grants_of,
        now=now,
        actor=actor,
        action=action,
        detail=detail,
        review=review,
        outbox=outbox,
    )
