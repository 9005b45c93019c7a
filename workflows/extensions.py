"""Extending an Active session (issue 19, point 1): what an access rule's ``extension:``
asks for, which extra durations still fit, and the stored extension record.

An extension moves only a session's ``expires_at``: the account assignment stays as it
is (no second assignment, no AWS call for a standard set). ``max_total`` is counted from
the grant: a session granted at 10:00 with ``max_total: 8h`` never ends after 18:00,
however many extensions it gets. Everything here is pure: no AWS, no Slack, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from workflows.domain import GrantedSession

#: ``approval:`` values: applied at once, or the same approvals as the request.
APPROVAL_NONE = "none"
APPROVAL_SAME = "same"
APPROVALS = (APPROVAL_NONE, APPROVAL_SAME)


@dataclass(frozen=True)
class ExtensionRule:
    """An ``extension:`` block as written: ``approval`` (:data:`APPROVALS`) and
    ``max_total`` (None: the rule's ``max_duration``, else the longest configured
    duration)."""

    approval: str = APPROVAL_SAME
    max_total: timedelta | None = None


@dataclass(frozen=True)
class ExtensionPolicy:
    """What extending a given session needs, resolved: ``approval`` and the longest
    the session may last in all, from its grant (``max_total``)."""

    approval: str
    max_total: timedelta

    @property
    def needs_approval(self) -> bool:
        return self.approval == APPROVAL_SAME


def resolve_policy(
    own: ExtensionRule | None,
    default: ExtensionRule,
    max_duration: timedelta | None,
    durations: Iterable[timedelta],
) -> ExtensionPolicy:
    """The policy of a request whose rule says ``own`` (None: no ``extension:``) under
    the top-level ``default``; ``max_duration`` is the rule's, ``durations`` the
    configured ones. A rule's own ``max_total`` wins; else the rule's ``max_duration``
    (a rule never loosens to the top-level default), else the default's ``max_total``,
    else the longest configured duration."""
    chosen = own or default
    longest = max(durations, default=timedelta(0))
    total = (
        (own.max_total if own is not None else None) or max_duration or default.max_total or longest
    )
    return ExtensionPolicy(chosen.approval, total)


def extension_choices(
    policy: ExtensionPolicy, session: GrantedSession, durations: Iterable[timedelta]
) -> list[timedelta]:
    """The configured ``durations`` (in their order) that may still be added to
    ``session`` without its whole length, from ``granted_at``, passing ``max_total``."""
    return [d for d in durations if fits(policy, session, d)]


def fits(policy: ExtensionPolicy, session: GrantedSession, more: timedelta) -> bool:
    """Whether ``session`` extended by ``more`` stays within ``policy.max_total``."""
    return more > timedelta(0) and (
        session.expires_at + more - session.granted_at <= policy.max_total
    )


class ExtensionStatus(StrEnum):
    """Where an extension is: waiting for approval, applied, refused, or timed out
    (nobody decided before its deadline, or the session ended first)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class NewExtension:
    """An extension asked for: ``more`` time on request ``request_id``'s session,
    ``requested_by`` (Slack user id) at ``requested_at``, decided by ``deadline`` (UTC)."""

    request_id: int
    more: timedelta
    reason: str
    requested_by: str
    requested_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class Extension(NewExtension):
    """A stored extension: its ``id``, ``status`` and who decided it when (Slack user
    id, or ``jitbot``); ``approvals`` the ``(Slack user id, Identity Center user id)``
    of each approval counted so far when its rule needs several."""

    id: int = 0
    status: ExtensionStatus = ExtensionStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    approvals: tuple[tuple[str, str | None], ...] = ()

    def counted(self, slack_id: str, principal: str | None) -> bool:
        """Whether an approval by this person (by Slack user id or Identity Center
        user) is counted already."""
        return any(
            who == slack_id or (principal is not None and pid == principal)
            for who, pid in self.approvals
        )
