"""Keeping the config's people bound to Slack user ids (:mod:`workflows.people`): what
to store, audit and tell the admins when a look-up in Slack says something new, and an
admin's confirmation of a change that waits for one (``identity.rebind: alert``).

The Slack look-ups are the bot's (:mod:`bot.bindings`); this module only decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from workflows.config import Config
from workflows.config.identity import Rebind
from workflows.domain import Outgoing, Person
from workflows.errors import NotAuthorized, WorkflowError
from workflows.lifecycle import actor_detail
from workflows.people import Binding, Roster, is_slack_id
from workflows.policy import Rules, roles_of
from workflows.ports import BindingStore


@dataclass(frozen=True)
class Seen:
    """What Slack said of one entry now: the user id it resolves to (None: nobody, or
    a deactivated user) and that user's email."""

    slack_id: str | None
    email: str | None


def _who(slack_id: str | None, email: str | None) -> str:
    return f"{slack_id} ({email})" if slack_id else "nobody in Slack"


def _change_detail(entry: str, stored: Binding, seen: Seen) -> dict[str, Any]:
    return {
        "entry": entry,
        "old_slack_id": stored.slack_id,
        "old_email": stored.email,
        "new_slack_id": seen.slack_id,
        "new_email": seen.email,
    }


@dataclass(frozen=True)
class Rebinding:
    """Applies look-ups to ``store``'s bindings under ``config.identity.rebind``."""

    config: Config
    store: BindingStore

    def observe(
        self,
        entry: str,
        seen: Seen,
        now: datetime,
        email_now: Callable[[str], str | None] = lambda slack_id: None,
    ) -> str | None:
        """Record what Slack said of ``entry`` (a config entry); returns the audit action
        written (None when nothing changed, or another replica recorded it first).
        ``email_now(user_id)`` is the bound person's email as Slack has it now (asked
        only on a rebind, for the alert and the audit: their email changed, say).

        First look-up: bound at once (trust on first use; an email that resolves to
        nobody binds nobody and the admins are told once). Later, an email entry that
        resolves to another user id (or to nobody, or to someone after nobody) is a
        rebind: audited and alerted, and bound at once under ``follow``, pending an
        admin's Confirm under ``alert``. An id entry's email changing is audited and
        alerted; the id stays (it is who the config names).
        """
        stored = {b.entry: b for b in self.store.bindings()}.get(entry)
        if stored is None:
            return self._first(entry, seen, now)
        if is_slack_id(entry):
            return self._id_entry(stored, seen, now)
        if seen.slack_id == stored.slack_id:
            if not stored.pending:
                return None
            fresh = replace(stored, pending_slack_id=None, pending_email=None, pending_at=None)
            return self._save(fresh, stored, now, "identity_rebind_withdrawn", seen)
        if stored.pending and stored.pending_slack_id == seen.slack_id:
            return None  # already told; waits for an admin
        detail = _change_detail(entry, stored, seen)
        text = (
            f"The config's {entry} now resolves in Slack to {_who(seen.slack_id, seen.email)}; "
            f"it was bound to {_who(stored.slack_id, stored.email)}"
        )
        if stored.slack_id is not None:
            detail["old_slack_id_email_now"] = email_now(stored.slack_id)
            text += f", whose email is now {detail['old_slack_id_email_now'] or 'unknown'}"
        text += "."
        if self.config.identity.rebind == Rebind.FOLLOW:
            fresh = Binding(entry, seen.slack_id, seen.email, now, noticed_at=now)
            alert = Outgoing.alert(
                text + " The new binding is in effect (identity.rebind: follow)."
            )
            return self._save(fresh, stored, now, "identity_rebound", seen, detail, [alert])
        fresh = replace(
            stored,
            pending_slack_id=seen.slack_id,
            pending_email=seen.email,
            pending_at=now,
            noticed_at=now,
        )
        alert = Outgoing.alert(
            text + " The old binding stays until an admin confirms the new one.",
            confirm={"entry": entry, "to": seen.slack_id},
        )
        return self._save(fresh, stored, now, "identity_rebind_detected", seen, detail, [alert])

    def _first(self, entry: str, seen: Seen, now: datetime) -> str | None:
        slack_id = entry if is_slack_id(entry) else seen.slack_id
        fresh = Binding(entry, slack_id, seen.email, now, noticed_at=now)
        alerts = []
        if seen.slack_id is None:
            alerts = [
                Outgoing.alert(
                    f"The config names {entry}, but Slack has no active user for it, so it "
                    "grants no role. Fix the config or the Slack profile (`jitbot check-config`)."
                )
            ]
        action = "identity_bound" if seen.slack_id else "identity_unresolved"
        return self._save(fresh, None, now, action, seen, {"entry": entry}, alerts)

    def _id_entry(self, stored: Binding, seen: Seen, now: datetime) -> str | None:
        if seen.email == stored.email:
            return None
        detail = _change_detail(stored.entry, stored, seen)
        alert = Outgoing.alert(
            f"The email of {stored.entry}, named in the config by Slack user id, changed from "
            f"{stored.email or 'none'} to {seen.email or 'none (not an active user)'}."
        )
        fresh = replace(stored, email=seen.email, noticed_at=now)
        return self._save(fresh, stored, now, "identity_email_changed", seen, detail, [alert])

    def _save(
        self,
        fresh: Binding,
        stored: Binding | None,
        now: datetime,
        action: str,
        seen: Seen,
        detail: dict[str, Any] | None = None,
        outbox: list[Outgoing] | None = None,
    ) -> str | None:
        detail = detail or {"entry": fresh.entry, "slack_id": seen.slack_id, "email": seen.email}
        saved = self.store.save_binding(
            fresh, expect=stored, now=now, action=action, detail=detail, outbox=outbox or []
        )
        return action if saved else None

    def confirm(self, entry: str, to: str | None, actor: Person, now: datetime) -> Binding:
        """An admin confirms, from the alert, that ``entry`` is now bound to ``to`` (the
        user id the alert named). Re-authorized here: only an admin (as bound now);
        audited as ``identity_rebind_confirmed`` with the admin's id and email.

        Raises:
            NotAuthorized: ``actor`` is not an admin.
            WorkflowError: no such change waits (confirmed already, or it changed since
                the alert: a newer alert says what to confirm).
        """
        bindings = self.store.bindings()
        rules = Rules(self.config, Roster.of(bindings))
        if not roles_of(rules, actor).admin:
            raise NotAuthorized("Only a jitbot admin can confirm a change of who a person is.")
        stored = next((b for b in bindings if b.entry == entry), None)
        if stored is None or not stored.pending or stored.pending_slack_id != to:
            raise WorkflowError(
                f"There is no change of {entry} to {to or 'nobody'} waiting: it was confirmed "
                "already, or it changed since (see the latest alert)."
            )
        fresh = Binding(entry, stored.pending_slack_id, stored.pending_email, now, noticed_at=now)
        detail = {
            **actor_detail(actor),
            "entry": entry,
            "old_slack_id": stored.slack_id,
            "old_email": stored.email,
            "new_slack_id": fresh.slack_id,
            "new_email": fresh.email,
        }
        if not self.store.save_binding(
            fresh,
            expect=stored,
            now=now,
            actor=actor.slack_id,
            action="identity_rebind_confirmed",
            detail=detail,
        ):
            raise WorkflowError(f"{entry} changed while you confirmed; see the latest alert.")
        return fresh
