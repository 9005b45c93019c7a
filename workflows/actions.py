"""Which buttons a person is offered on a request: the transition table, then authority.

An :class:`Action` is something a person can do to a request with one click; each one
triggers one event of :mod:`workflows.states`. An action is offered only when its event
is allowed from the request's status now (:func:`workflows.states.allowed_events`) and
the viewer has the authority :mod:`workflows.policy` gives for it. The services check the
same rules again at the click: a button shown is a hint, never a permission.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from workflows.domain import AccessRequest, MessageRole, Person
from workflows.policy import Rules, may_decide, may_end_own, may_revoke
from workflows.states import Event, Status, allowed_events


class Action(StrEnum):
    """A button on a request (the value is for logs and tests; Slack ids are the bot's)."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"  # the requester withdraws a pending request
    RELEASE = "release"  # the requester ends their own session early
    REVOKE = "revoke"  # an owner or admin ends someone's session
    EXTEND = "extend"  # the requester asks for more time on their session


#: The event each action triggers.
EVENT_OF: dict[Action, Event] = {
    Action.APPROVE: Event.APPROVE,
    Action.REJECT: Event.REJECT,
    Action.CANCEL: Event.CANCEL,
    Action.RELEASE: Event.REVOKE,
    Action.REVOKE: Event.REVOKE,
    Action.EXTEND: Event.EXTEND,
}

_Refusal = Callable[[Rules, AccessRequest, Person], str | None]

#: Why a viewer may not take each action (None: they may), from workflows.policy.
_REFUSAL: dict[Action, _Refusal] = {
    Action.APPROVE: may_decide,
    Action.REJECT: may_decide,
    Action.CANCEL: lambda _rules, request, viewer: may_end_own(request, viewer),
    Action.RELEASE: lambda _rules, request, viewer: may_end_own(request, viewer),
    Action.REVOKE: may_revoke,
    Action.EXTEND: lambda _rules, request, viewer: may_end_own(request, viewer),
}

#: The approval message whose stage each pending status is deciding: a standard request
#: and a custom one's owner stage go to the approvers, a custom one's admin stage to
#: the SSO admins (design §6).
DECIDED_BY: dict[Status, MessageRole] = {
    Status.PENDING: MessageRole.APPROVER,
    Status.PENDING_OWNER: MessageRole.APPROVER,
    Status.PENDING_ADMIN: MessageRole.ADMIN_APPROVER,
}


def table_allows(request: AccessRequest, action: Action) -> bool:
    """Whether the transition table allows ``action``'s event from ``request``'s status."""
    return EVENT_OF[action] in allowed_events(request.status)


def offered_actions(rules: Rules, request: AccessRequest, viewer: Person) -> tuple[Action, ...]:
    """The actions ``viewer`` may take on ``request`` now, in :class:`Action` order:
    those whose event the table allows from the current status and for which
    :mod:`workflows.policy` (``rules``: the config with its people bound to user ids)
    finds no reason to refuse ``viewer``."""
    return tuple(
        action
        for action in Action
        if table_allows(request, action) and _REFUSAL[action](rules, request, viewer) is None
    )


def message_actions(request: AccessRequest, role: MessageRole) -> tuple[Action, ...]:
    """Approve and Reject on an approval message of ``role``, while the table allows a
    decision and the request's current stage is the one this message asks for (its
    recipients were chosen by :func:`workflows.policy.route_approvers`)."""
    if DECIDED_BY.get(request.status) != role:
        return ()
    return tuple(a for a in (Action.APPROVE, Action.REJECT) if table_allows(request, a))


#: The statuses a request may be asked for again from ("Request again"): it ended
#: (Expired, also a pending request nobody decided in time; Revoked, also Released)
#: or was Rejected. Not an event of the table: it starts a new request.
AGAIN_STATUSES = frozenset({Status.EXPIRED, Status.TIMED_OUT, Status.REVOKED, Status.REJECTED})


def may_request_again(request: AccessRequest, viewer: Person | None = None) -> bool:
    """Whether Request again is offered on ``request``: its status is final (see
    :data:`AGAIN_STATUSES`) and ``viewer`` (when given) is its requester."""
    if request.status not in AGAIN_STATUSES:
        return False
    return viewer is None or may_end_own(request, viewer) is None
