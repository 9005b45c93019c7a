"""What a request's threads are told and what the outbox is asked to do: the kinds of
root message (:class:`MessageRole`), the notices (:class:`Notice`) and the outbox's
entries (:class:`Outgoing`). Plain values, no I/O; :mod:`workflows.domain` re-exports
them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class MessageRole(StrEnum):
    """Which kind of root message of a request's conversation a Slack message is (design
    §6): the requester's, an approver's, or an admin-stage approver's. Not a person's
    roles in the config (admin, SSO admin, owner): those are :class:`workflows.policy.Roles`."""

    REQUESTER = "requester"
    APPROVER = "approver"  # standard requests, and the owner stage of custom ones
    ADMIN_APPROVER = "admin_approver"  # the admin stage of custom requests
    # the request posted once in an approvals channel (its ``slack_user_id`` is the
    # channel's id): the approvers' root, for the stage APPROVER messages decide
    CHANNEL = "channel"


class NoticeKind(StrEnum):
    """Things the requester and approvers are told in the request's threads."""

    SENT_TO_ADMINS = "sent_to_admins"  # the account has no owner who may approve
    APPROVERS_UNREACHABLE = "approvers_unreachable"  # no approver could be DM'd
    OWNER_APPROVED = "owner_approved"  # custom: waiting for an SSO admin
    APPROVED = "approved"
    APPROVAL_COUNTED = "approval_counted"  # one of several approvals an access rule needs
    REJECTED = "rejected"
    GRANTED = "granted"
    GRANT_FAILED = "grant_failed"
    # AWS had not finished the assignment in time: still Approved, followed by the sweep
    GRANT_PENDING = "grant_pending"
    EXPIRED = "expired"
    REVOKED = "revoked"
    RELEASED = "released"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    REVOKE_FAILED = "revoke_failed"
    # the assignment was removed outside jitbot before the session's end (reconciler)
    ASSIGNMENT_VANISHED = "assignment_vanished"
    # the session ends in ``expiry_warning``: told in the requester's thread only, with
    # Extend and Release now (``detail``: the whole seconds left when it was written)
    EXPIRY_WARNING = "expiry_warning"
    # extending an Active session (workflows.extensions): asked (approvers get buttons),
    # applied, refused by an approver, or not decided in time / the session ended first
    EXTENSION_ASKED = "extension_asked"
    EXTENSION_APPROVAL_COUNTED = "extension_approval_counted"  # one of several needed
    EXTENDED = "extended"
    EXTENSION_REJECTED = "extension_rejected"
    EXTENSION_TIMED_OUT = "extension_timed_out"
    # reminders and escalation (workflows.reminders): approvers who have not acted are
    # reminded (on the schedule, or nudged by the requester); the request also went to
    # the escalation approvers (``detail``: after how long, in words)
    REMINDER = "reminder"
    NUDGED = "nudged"
    ESCALATED = "escalated"


@dataclass(frozen=True)
class Notice:
    """One thing to tell; ``detail`` carries a reason (AWS's FailureReason, say)."""

    kind: NoticeKind
    detail: str | None = None
    by: str | None = None  # the person who caused it, when not the reviewer
    # an ending whose account assignment stays for another active grant of the same
    # person, permission set and account (so the access itself did not end)
    kept: bool = False
    # what became of the AWS sign-ins already open at an ending
    # (workflows.services.live_sessions.LiveOutcome): "" not tried, "ended", "role_gone",
    # "failed"
    live: str = ""
    # an extension's notices: ``{"id": extension id, "seconds": time added, "until":
    # the new end, ISO 8601 UTC}`` (workflows.extensions)
    extension: dict[str, Any] | None = None
    # the Slack user ids whose threads this notice is for (empty: every thread)
    to: tuple[str, ...] = ()


class OutgoingKind(StrEnum):
    """What an outbox entry asks the notifier to do (see :mod:`workflows.outbox`)."""

    THREAD = "thread"  # DM the requester the request: the root of their thread
    APPROVAL = "approval"  # DM one approver the request with its buttons
    REFRESH = "refresh"  # re-render every root from the request's current state
    ANNOUNCE = "announce"  # reply in each thread of the request
    ALERT = "alert"  # DM every admin a text
    CHANNEL = "channel"  # post the request with its buttons in an approvals channel


@dataclass(frozen=True)
class Outgoing:
    """One Slack notice, written to the outbox in the transaction of the state change
    it tells about, and delivered afterwards by :mod:`workflows.outbox`.

    ``payload`` is plain JSON data: ``user`` (a Slack user id; ``email`` in entries
    written before people were bound)/``role``/``last`` for APPROVAL, ``kind``/
    ``detail``/``by`` (a :class:`Notice`) for ANNOUNCE, ``text`` (and ``confirm``, an
    entry to confirm the rebinding of) for ALERT, ``channel``/``last`` for CHANNEL.
    """

    kind: OutgoingKind
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def thread(cls) -> Outgoing:
        return cls(OutgoingKind.THREAD)

    @classmethod
    def approval(cls, slack_id: str, role: MessageRole, *, last: bool) -> Outgoing:
        """DM the approver with Slack user id ``slack_id`` (bound from the config,
        :mod:`workflows.people`); ``last``: the last approver of its stage, where
        "nobody reachable" is judged."""
        return cls(OutgoingKind.APPROVAL, {"user": slack_id, "role": role.value, "last": last})

    @classmethod
    def channel(cls, channel: str, *, last: bool) -> Outgoing:
        """Post the request with its buttons in the approvals channel ``channel`` (an
        id, or a ``#name`` the notifier looks up; :mod:`workflows.config.approval_channel`);
        ``last``: the last root of the approvers' stage, where "nobody reachable" is
        judged."""
        return cls(OutgoingKind.CHANNEL, {"channel": channel, "last": last})

    @classmethod
    def refresh(cls) -> Outgoing:
        return cls(OutgoingKind.REFRESH)

    @classmethod
    def announce(cls, notice: Notice) -> Outgoing:
        payload = {"kind": notice.kind.value, "detail": notice.detail, "by": notice.by}
        if notice.kept:
            payload["kept"] = True
        if notice.live:
            payload["live"] = notice.live
        if notice.extension is not None:
            payload["extension"] = notice.extension
        if notice.to:
            payload["to"] = list(notice.to)
        return cls(OutgoingKind.ANNOUNCE, payload)

    @classmethod
    def alert(cls, text: str, *, confirm: dict[str, str | None] | None = None) -> Outgoing:
        """DM every admin ``text``; ``confirm`` (``{"entry": …, "to": user id}``, a config
        entry whose new binding waits for an admin, :mod:`workflows.people`) adds a
        Confirm button for it."""
        payload: dict[str, Any] = {"text": text}
        if confirm is not None:
            payload["confirm"] = confirm
        return cls(OutgoingKind.ALERT, payload)

    @property
    def notice(self) -> Notice:
        """The notice of an ANNOUNCE entry."""
        return Notice(
            NoticeKind(self.payload["kind"]),
            self.payload.get("detail"),
            self.payload.get("by"),
            bool(self.payload.get("kept")),
            str(self.payload.get("live") or ""),
            self.payload.get("extension"),
            tuple(self.payload.get("to") or ()),
        )


def changed(notice: Notice) -> list[Outgoing]:
    """What every status change sends: re-rendered roots, then one reply per thread."""
    return [Outgoing.refresh(), Outgoing.announce(notice)]
