"""Extend: the requester asks for more time on an Active session (issue 19, point 1).

The request's access rule says what an extension needs (``extension:``,
:mod:`workflows.extensions`): ``approval: none`` applies it at once, ``same`` asks the
approvers the request would have in their threads (:mod:`.extend_decide` decides it).
Applied, only the session's ``expires_at`` moves, through the transition table's
``(Active, extend) -> Active`` and one compare-and-set; the assignment in AWS is left as
it is. Everything is checked again on the server at the modal's opening and at its
submission: the requester, the status, the rule's ``max_total`` from the grant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from workflows.config import Config
from workflows.domain import AccessRequest, Notice, NoticeKind, Outgoing, Person, changed
from workflows.durations import duration_label
from workflows.errors import InvalidRequest, WorkflowError
from workflows.extensions import (
    Extension,
    ExtensionPolicy,
    ExtensionStatus,
    NewExtension,
    extension_choices,
    resolve_policy,
)
from workflows.lifecycle import actor_detail
from workflows.services.authority import Authority
from workflows.services.hooks import Hooks
from workflows.services.warning import warning_time
from workflows.states import Event, Status, next_status
from workflows.validation import FIELD_DURATION, check_reason

#: The modal's reason field (its inline error's key).
FIELD_REASON = "reason"


@runtime_checkable
class ExtensionStore(Protocol):
    """Extensions in storage (:class:`storage.extensions.SqlExtensions`)."""

    def add_extension(
        self,
        new: NewExtension,
        *,
        action: str,
        detail: dict[str, Any],
        outbox: Sequence[Outgoing] = (),
    ) -> Extension | None: ...

    def extension(self, extension_id: int) -> Extension | None: ...

    def pending_extension(self, request_id: int) -> Extension | None: ...

    def close_extension(
        self,
        extension_id: int,
        status: ExtensionStatus,
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any],
        outbox: Sequence[Outgoing] = (),
    ) -> bool: ...

    def count_extension_approval(
        self,
        extension: Extension,
        approver: tuple[str, str | None],
        *,
        now: datetime,
        action: str,
        detail: dict[str, Any],
        outbox: Sequence[Outgoing] = (),
    ) -> bool: ...

    def apply_extension(
        self,
        extension_id: int,
        request_id: int,
        statuses: tuple[Status, Status],
        ends: tuple[datetime, datetime],
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any],
        outbox: Sequence[Outgoing] = (),
    ) -> bool: ...

    def extensions_due(self, now: datetime) -> list[Extension]: ...


@dataclass(frozen=True)
class ExtendOffer:
    """What the Extend modal may offer: the request, its policy and the durations that
    still fit (never empty)."""

    request: AccessRequest
    policy: ExtensionPolicy
    choices: tuple[timedelta, ...]


def extension_data(extension: Extension | NewExtension, until: datetime) -> dict[str, Any]:
    """A notice's ``extension`` data: time added (seconds) and the new end (ISO UTC)."""
    data: dict[str, Any] = {"seconds": int(extension.more.total_seconds())}
    data["until"] = until.isoformat()
    if isinstance(extension, Extension):
        data["id"] = extension.id
    return data


@dataclass(frozen=True)
class Extending:
    """Asks for, applies and decides extensions over ``store`` (requests, via
    ``authority``) and ``extensions``."""

    config: Config
    authority: Authority
    extensions: ExtensionStore
    hooks: Hooks

    def policy_of(self, request: AccessRequest) -> ExtensionPolicy:
        """The extension policy of ``request``'s access rule in the config now (an
        ``auto_approve`` rule's ``same`` approvals are none)."""
        applied = self.authority.rule_of(request)
        own = applied.extension if applied.name is not None else None
        policy = resolve_policy(
            own, self.config.extension.rule(), applied.max_duration, self.config.durations
        )
        if applied.auto_approve and policy.needs_approval:
            return ExtensionPolicy("none", policy.max_total)
        return policy

    def offer(self, request_id: int, actor: Person, now: datetime) -> ExtendOffer:
        """What ``actor`` may ask for on request ``request_id`` now.

        Raises:
            UnknownRequest, NotAuthorized (not the requester: the words of Release),
            TransitionNotAllowed (not Active), WorkflowError (the session ended, an
            extension is pending, or the rule allows no more time).
        """
        request = self.authority.own(request_id, actor, "extend this session")
        next_status(request.status, Event.EXTEND)
        session = request.session
        if session is None or session.ended_at is not None or session.expires_at <= now:
            raise WorkflowError("This session has ended, so it can't be extended.")
        pending = self.extensions.pending_extension(request.id)
        if pending is not None:
            raise WorkflowError(
                f"You already asked to extend this session by {duration_label(pending.more)}; "
                "that is waiting for approval."
            )
        policy = self.policy_of(request)
        choices = tuple(extension_choices(policy, session, self.config.durations))
        if not choices:
            raise WorkflowError(
                "This session can't be extended any more: it may last at most "
                f"{duration_label(policy.max_total)} from its grant."
            )
        return ExtendOffer(request, policy, choices)

    def ask(
        self,
        request_id: int,
        actor: Person,
        more: timedelta | None,
        reason: str | None,
        now: datetime,
    ) -> Extension:
        """Ask for ``more`` time on ``actor``'s session, for ``reason``: applied at once
        under ``approval: none``, else sent to the approvers' threads.

        Raises:
            InvalidRequest: ``{"duration": …}`` a choice the rule does not allow now,
            ``{"reason": …}`` no reason or too long one; and what :meth:`offer` raises.
        """
        offer = self.offer(request_id, actor, now)
        self.check_form(offer, more, reason)
        assert more is not None and offer.request.session is not None
        request, session = offer.request, offer.request.session
        until = session.expires_at + more
        deadline = min(now + self.config.approval_timeout, session.expires_at)
        new = NewExtension(request.id, more, (reason or "").strip(), actor.slack_id, now, deadline)
        asked = Notice(
            NoticeKind.EXTENSION_ASKED, new.reason, actor.name, extension=extension_data(new, until)
        )
        stored = self.extensions.add_extension(
            new,
            action="extension_requested",
            detail={
                **actor_detail(actor),
                "seconds": int(more.total_seconds()),
                "reason": new.reason,
                "approval": offer.policy.approval,
            },
            outbox=[Outgoing.announce(asked)] if offer.policy.needs_approval else [],
        )
        if stored is None:
            raise WorkflowError("You already asked to extend this session; that is waiting.")
        if offer.policy.needs_approval:
            self.hooks.kick()
            self.hooks.wake_at(deadline)
            return stored
        return self.apply(stored, request, actor, now, approved_by=None)

    @staticmethod
    def check_form(offer: ExtendOffer, more: timedelta | None, reason: str | None) -> None:
        """The modal's choice and reason against ``offer``.

        Raises:
            InvalidRequest: one message per field, shown inline.
        """
        errors: dict[str, str] = {}
        if more is None or more not in offer.choices:
            most = duration_label(offer.policy.max_total)
            errors[FIELD_DURATION] = (
                f"Choose one of the durations offered: a session may last at most {most} "
                "from its grant."
            )
        try:
            if check_reason(reason) is None:
                errors[FIELD_REASON] = "Say why you need more time."
        except InvalidRequest as exc:
            errors[FIELD_REASON] = exc.errors["reason"]
        if errors:
            raise InvalidRequest(errors)

    def apply(
        self,
        extension: Extension,
        request: AccessRequest,
        actor: Person,
        now: datetime,
        *,
        approved_by: Person | None,
        principal: str | None = None,
    ) -> Extension:
        """Move ``request``'s end by ``extension.more`` (one compare-and-set with the
        extension's approval), audited ``extended``; the threads are told and the
        scheduler woken at the new end. ``approved_by`` None: ``approval: none``.

        Raises:
            WorkflowError: the session changed first (ended, or extended).
        """
        session = request.session
        assert session is not None
        until = session.expires_at + extension.more
        by = approved_by.name if approved_by is not None else None
        who = approved_by or actor
        notice = Notice(NoticeKind.EXTENDED, by=by, extension=extension_data(extension, until))
        detail = {
            "extension": extension.id,
            "requested_by": extension.requested_by,
            "approved_by": approved_by.slack_id if approved_by else "none (rule)",
            "approvals": [who for who, _ in extension.approvals]
            + ([approved_by.slack_id] if approved_by else []),
            **actor_detail(who, principal),
            "old_end": session.expires_at.isoformat(),
            "new_end": until.isoformat(),
            "seconds": int(extension.more.total_seconds()),
        }
        statuses = (request.status, next_status(request.status, Event.EXTEND))
        if not self.extensions.apply_extension(
            extension.id,
            request.id,
            statuses,
            (session.expires_at, until),
            now=now,
            actor=who.slack_id,
            action="extended",
            detail=detail,
            outbox=changed(notice),
        ):
            raise WorkflowError(
                "The session changed while this was decided (it ended, or was extended "
                "meanwhile), so it was not extended."
            )
        self.hooks.kick()
        warn_at = warning_time(replace(session, expires_at=until), self.config.expiry_warning)
        if warn_at is not None:  # the new end's own warning (cleared in the same change)
            self.hooks.wake_at(warn_at)
        self.hooks.wake_at(until)
        return self.extensions.extension(extension.id) or extension
