"""Whom jitbot shows a request to: only people its gate (:mod:`bot.gate`) lets in.

The config names approvers and admins by email or Slack id, and they are bound to Slack
user ids (:mod:`workflows.people`); a deactivated account or a bot binds to nobody, but
a guest or a Slack Connect user of another organization binds like anyone. The gate
refuses their clicks; :class:`Reach` keeps them from being sent what they could not
act on either. The notifier asks it before every DM (approval requests, the requester's
thread, replies, re-renders, admin alerts), the App Home publisher before every home.

A configured approver it refuses is skipped, logged, and the admins are alerted, once
per person, reason and account in this process (an audit event ``approver_refused`` of
the request, with the alert in the same transaction's outbox): "owner
oscar@example.com can't use jitbot (guest): requests for Sandbox go to the others".
Their request goes on to the approvers who can use jitbot; when none of a stage can,
the outbox's "nobody reachable" path follows (:meth:`workflows.outbox.OutboxDispatcher.
_check_reachable`): the requester is told at once that no approver could be reached
and the admins are alerted with the request's number. The request stays where its
rules put it (routing is decided at submit, from who is bound), so an admin can still
act on a standard one from App Home, and nobody the gate refuses ever sees it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.directory import SlackDirectory
from bot.gate import Gate
from bot.gate_tell import Reason
from workflows.domain import AccessRequest, MessageRole, Outgoing, Stage
from workflows.outbox import DeliveryDeferred
from workflows.policy import Rules, admin_stage_approvers, roles_of

log = logging.getLogger("jitbot.reach")

#: A refusal in the admins' words (the refused person's own are :data:`bot.gate_tell.WHY`)
REFUSED_AS = {
    Reason.STRANGER: "Slack Connect, another organization",
    Reason.GUEST: "guest",
    Reason.BOT: "bot",
    Reason.DEACTIVATED: "deactivated",
    Reason.UNCONFIRMED: "email not confirmed",
    Reason.UNKNOWN: "not in the workspace",
    Reason.UNCHECKED: "Slack didn't answer",
}

#: ``audit(request_id, actor, action, now, detail, outbox=...)``, as the store has it
Audit = Callable[..., None]


class Reach:
    """The gate's verdict for the Slack side (see the module docstring); ``rules()`` the
    config's rules as bound now, ``audit`` the store's, times from ``clock`` (UTC)."""

    def __init__(
        self,
        gate: Gate,
        directory: SlackDirectory,
        rules: Callable[[], Rules],
        audit: Audit,
        clock: Callable[[], datetime],
    ) -> None:
        self.gate = gate
        self._directory = directory
        self._rules = rules
        self._audit = audit
        self._clock = clock
        self._told: set[tuple[str, Reason, str]] = set()
        self._lock = threading.Lock()

    def refused(self, user_id: str) -> Reason | None:
        """Why ``user_id`` may be shown nothing, or None (:meth:`bot.gate.Gate.refused`)."""
        return self.gate.refused(user_id)

    def may_see(self, user_id: str, what: str) -> bool:
        """Whether ``user_id`` may be sent ``what`` (a word for the log).

        Raises:
            DeliveryDeferred: Slack did not say who they are (the outbox tries again).
        """
        reason = self.refused(user_id)
        if reason == Reason.UNCHECKED:
            raise DeliveryDeferred(f"users.info {user_id}: no answer, {what} waits")
        if reason is not None:
            log.info("not sending %s to %s (%s)", what, user_id, reason.value)
        return reason is None

    def may_approve(self, request: AccessRequest, user_id: str, role: MessageRole) -> bool:
        """Whether the approver ``user_id`` may be DM'd ``request`` for the stage of
        ``role``; when not, they are skipped and the admins alerted (once).

        Raises:
            DeliveryDeferred: Slack did not say who they are.
        """
        reason = self.refused(user_id)
        if reason == Reason.UNCHECKED:
            raise DeliveryDeferred(f"users.info {user_id}: no answer, request waits")
        if reason is None:
            return True
        log.warning(
            "approver %s of request %s can't use jitbot (%s): skipped",
            user_id,
            request.id,
            reason.value,
        )
        key = (user_id, reason, request.account_id)
        with self._lock:
            first = key not in self._told
            self._told.add(key)
        if first:
            self._alert(request, user_id, role, reason)
        return False

    def _alert(
        self, request: AccessRequest, user_id: str, role: MessageRole, reason: Reason
    ) -> None:
        rules = self._rules()
        roles = roles_of(rules, user_id, request.account_id)
        titles = [(roles.owner, "owner"), (roles.admin, "admin"), (roles.sso_admin, "SSO admin")]
        title = next((t for held, t in titles if held), "approver")
        others = [
            u
            for u in self._stage(rules, request, role)
            if u != user_id and self.refused(u) in (None, Reason.UNCHECKED)
        ]
        where = f"requests for {request.account_name} ({request.account_id})"
        text = f"{title} {self._who(user_id)} can't use jitbot ({REFUSED_AS[reason]}): " + (
            f"{where} go to the others."
            if others
            else f"{where} have no other approver who can use jitbot; fix the config."
        )
        detail: dict[str, Any] = {
            "approver": user_id,
            "reason": reason.value,
            "stage": "admin" if role == MessageRole.ADMIN_APPROVER else "owner",
        }
        self._audit(
            request.id,
            "jitbot",
            "approver_refused",
            self._clock(),
            detail,
            outbox=[Outgoing.alert(text)],
        )

    @staticmethod
    def _stage(rules: Rules, request: AccessRequest, role: MessageRole) -> Sequence[str]:
        """The approvers of ``request``'s stage for ``role``."""
        if role != MessageRole.ADMIN_APPROVER:
            return request.approvers
        first = request.review_of(Stage.OWNER)
        if first is None:
            return [*rules.sso_admins(), *rules.admins()]
        return admin_stage_approvers(rules, request, first.reviewer)

    def _who(self, user_id: str) -> str:
        """The person's email (what the config names them by), else their id."""
        try:
            return self._directory.person(user_id).email
        except Exception:  # a bot, an id Slack doesn't know: the id says it
            return user_id
