"""Request again: the request form filled in from one of the requester's ended requests,
re-checked against what the form offers them today (issue 19).

Nothing is stored here: the person changes what they like and submits, and the
submission is checked and audited like any other (:mod:`workflows.services.submit`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from workflows.actions import may_request_again
from workflows.config import Config
from workflows.custom_sets.spec import PREFIX
from workflows.domain import AccessRequest, CustomPermissionSet, Person
from workflows.durations import duration_code, duration_label
from workflows.errors import AlreadyDecided
from workflows.services.authority import Authority
from workflows.services.offering import FormChoice
from workflows.validation import KIND_CUSTOM, KIND_STANDARD, RequestForm

#: :meth:`workflows.services.Services.form_choice`'s shape.
ChoiceOf = Callable[[str, str | None, str | None, bool], FormChoice]


@dataclass(frozen=True)
class Refill:
    """The form to open: ``form`` its values (what is no longer offered left empty),
    ``choice`` what it offers (as for a fresh ``/jit``), ``notes`` what was changed or
    left out and why (plain sentences; escape them to render), ``request_id`` the old
    request."""

    request_id: int
    form: RequestForm
    choice: FormChoice
    notes: tuple[str, ...] = ()


def fitted_duration(asked: timedelta, allowed: list[timedelta]) -> timedelta | None:
    """``asked`` if allowed; else the longest allowed duration shorter than it (cut);
    None when every allowed duration is longer (the person chooses)."""
    if asked in allowed:
        return asked
    shorter = [d for d in allowed if d < asked]
    return max(shorter) if shorter else None


@dataclass(frozen=True)
class Again:
    """Builds the :class:`Refill` of a request for its requester."""

    config: Config
    authority: Authority
    choice_of: ChoiceOf

    def refill(self, request_id: int, actor: Person) -> Refill:
        """The form ``actor`` gets from Request again on ``request_id``.

        Raises:
            UnknownRequest, NotAuthorized (not their request: the words Cancel and
            Release use), AlreadyDecided (the request has not ended).
        """
        request = self.authority.own(request_id, actor, "request this again")
        if not may_request_again(request):
            raise AlreadyDecided(
                f"Request #{request.id} is {request.status_label}: you can request it "
                "again once it has ended."
            )
        custom = request.custom is not None
        choice = self.choice_of(
            actor.slack_id,
            request.account_id,
            None if custom else request.permission_set_name,
            custom,
        )
        notes: list[str] = []
        account = choice.account
        if account is None:
            notes.append(f"{request.account_label} is no longer offered to you: choose an account.")
            what: dict[str, object] = {}
        elif custom:
            what = self._custom(request, notes)
        elif request.permission_set_name in account.permission_sets:
            what = {"permission_set": request.permission_set_name}
        else:
            notes.append(
                f"{request.permission_set_name} is no longer offered on {account.label}: "
                "choose a permission set."
            )
            what = {}
        duration = self._duration(request.duration, choice.durations, notes)
        form = RequestForm(
            account_id=account.id if account is not None else None,
            permission_set=None,
            duration=duration_code(duration) if duration is not None else None,
            justification=request.justification,
        )
        form = replace(form, **what)  # type: ignore[arg-type]
        return Refill(request.id, form, choice, tuple(notes))

    def _custom(self, request: AccessRequest, notes: list[str]) -> dict[str, object]:
        """The custom set's inputs, within today's custom set settings."""
        spec = request.custom
        assert spec is not None
        if not self.config.custom_allowed_on(request.account_id):
            notes.append(
                f"Custom permission sets are no longer offered on {request.account_label}: "
                "choose a permission set."
            )
            return {"kind": KIND_STANDARD}
        settings = self.config.custom_permission_sets
        managed = tuple(p for p in spec.managed_policies if p in settings.managed_policies)
        dropped = [p for p in spec.managed_policies if p not in managed]
        if dropped:
            notes.append(f"No longer offered, so left out: {', '.join(dropped)}.")
        return {
            "kind": KIND_CUSTOM,
            "custom_name": spec.name.removeprefix(PREFIX),
            "custom_session_hours": _session_hours(spec, settings.max_session_duration, notes),
            "custom_managed": managed,
            "custom_inline": spec.inline_policy,
        }

    @staticmethod
    def _duration(asked: timedelta, allowed: list[timedelta], notes: list[str]) -> timedelta | None:
        duration = fitted_duration(asked, allowed)
        if duration is None:
            notes.append(f"{duration_label(asked)} is no longer allowed: choose a duration.")
        elif duration != asked:
            notes.append(
                f"{duration_label(asked)} is no longer allowed: cut to {duration_label(duration)}."
            )
        return duration


def _session_hours(spec: CustomPermissionSet, most: timedelta, notes: list[str]) -> str:
    """The custom set's session duration in whole hours, cut to today's longest."""
    hours = max(1, int(spec.session_duration.total_seconds() // 3600))
    top = max(1, int(most.total_seconds() // 3600))
    if hours > top:
        notes.append(f"The session duration is cut to {top} hours, the longest now allowed.")
        hours = top
    return str(hours)
