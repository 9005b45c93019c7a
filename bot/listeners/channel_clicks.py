"""Approve and Reject clicked in an approvals channel (:mod:`workflows.services.channel`):
every channel member sees the buttons, and the click is checked on the server as any
other. A member who may not even see the request (not its requester, an owner, an
admin or one of its rule's approvers) would be told "There is no request #N that you
can see", the words for an id forged into a button; clicked on the request's own
channel message, they are told instead that they are not one of its approvers. Nothing
else changes: no status, no audit event."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.listeners.common import channel_of
from workflows.domain import Person
from workflows.errors import NotAuthorized, UnknownRequest
from workflows.services.channel import NOT_AN_APPROVER, posted_in

if TYPE_CHECKING:
    from bot.runtime import Runtime

T = TypeVar("T")


def in_channel(
    rt: Runtime, body: dict[str, Any], act: Callable[[int, Person], T]
) -> Callable[[int, Person], T]:
    """``act`` (a decision on the clicked request), with an :class:`UnknownRequest`
    for a request whose channel root is where the click came from told as
    :data:`NOT_AN_APPROVER` (:class:`NotAuthorized`)."""
    channel = channel_of(body)

    def acting(request_id: int, actor: Person) -> T:
        try:
            return act(request_id, actor)
        except UnknownRequest:
            if posted_in(rt.services.store, request_id, channel):
                raise NotAuthorized(NOT_AN_APPROVER) from None
            raise

    return acting
