"""Checking the custom permission set form (:func:`validate_custom_spec`): name, session
duration, managed policies and the inline policy, one sentence per wrong field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import timedelta

from workflows.custom_sets.document import inline_policy_problems
from workflows.custom_sets.guardrails import DEFAULT_DENY_ACTIONS, denied_actions, too_broad
from workflows.custom_sets.spec import (
    _HOUR,
    _NAME_CHAR,
    AWS_MAX_MANAGED,
    AWS_MAX_SESSION,
    DEFAULT_MAX_MANAGED,
    FIELD_INLINE,
    FIELD_MANAGED,
    FIELD_NAME,
    FIELD_SESSION,
    MAX_NAME,
    MAX_TYPED_NAME,
    PREFIX,
    CustomSpec,
)
from workflows.errors import InvalidRequest

#: At most this many problems are shown under the inline policy field.
_MAX_SHOWN_PROBLEMS = 5


def validate_custom_spec(
    name: str | None,
    session_hours: str | None,
    managed: list[str] | None,
    inline: str | None,
    *,
    allowed_managed: list[str],
    max_session: timedelta = AWS_MAX_SESSION,
    max_managed: int = DEFAULT_MAX_MANAGED,
    deny_actions: Sequence[str] = DEFAULT_DENY_ACTIONS,
) -> CustomSpec:
    """Check the custom permission set form.

    ``name`` is what the person typed (with or without ``JIT-``); ``session_hours`` a
    whole number of hours ("4", "4h" and "4 hours" are read the same); ``managed`` the
    chosen policy names; ``inline`` the inline policy JSON, if any. ``max_session``
    (capped at AWS's 12 hours), ``max_managed`` (at most AWS's 20) and ``deny_actions``
    (:mod:`workflows.custom_sets.guardrails`) come from config.

    Raises:
        InvalidRequest: with a sentence for every field that is wrong (keys are the
            ``FIELD_*`` names).
        ValueError: ``max_session`` under an hour or ``max_managed`` outside 1..20 (a
            configuration mistake, not the requester's).
    """
    if max_session < _HOUR:
        raise ValueError(f"max_session must be at least 1 hour, got {max_session}")
    if not 1 <= max_managed <= AWS_MAX_MANAGED:
        raise ValueError(
            f"max_managed must be 1..{AWS_MAX_MANAGED} (IAM Identity Center quota), "
            f"got {max_managed}"
        )
    errors: dict[str, str] = {}

    full_name, name_error = _check_name(name)
    if name_error:
        errors[FIELD_NAME] = name_error

    max_hours = min(max_session, AWS_MAX_SESSION) // _HOUR
    hours, session_error = _check_session(session_hours, max_hours)
    if session_error:
        errors[FIELD_SESSION] = session_error

    inline_text = (inline or "").strip() or None
    policies = _unique(p.strip() for p in (managed or []) if p and p.strip())
    managed_error = _check_managed(policies, inline_text, allowed_managed, max_managed)
    if managed_error:
        errors[FIELD_MANAGED] = managed_error

    inline_error = _check_inline(inline, inline_text, deny_actions)
    if inline_error:
        errors[FIELD_INLINE] = inline_error

    if errors:
        raise InvalidRequest(errors)
    assert hours is not None
    return CustomSpec(full_name, timedelta(hours=hours), policies, inline_text)


def _check_inline(
    inline: str | None, inline_text: str | None, deny_actions: Sequence[str]
) -> str | None:
    """The inline policy's syntax problems or, when it has none, wildcards too broad to
    check or else the denied actions it allows (:mod:`workflows.custom_sets.guardrails`),
    in one sentence; None if fine."""
    if inline_text is None:
        return None
    problems = inline_policy_problems(inline or "")
    if not problems:
        broad = too_broad(inline_text)
        problems = [broad] if broad else denied_actions(inline_text, deny_actions)
    if not problems:
        return None
    shown = "; ".join(problems[:_MAX_SHOWN_PROBLEMS])
    more = len(problems) - _MAX_SHOWN_PROBLEMS
    if more > 0:
        shown += f" (and {more} more {'problem' if more == 1 else 'problems'})"
    return shown


def _check_name(name: str | None) -> tuple[str, str | None]:
    """The full name and the sentence saying what is wrong with it, if anything."""
    typed = (name or "").strip()
    # Someone who typed the prefix themselves (in any case) gets it once, not twice.
    if typed[: len(PREFIX)].upper() == PREFIX.upper():
        typed = typed[len(PREFIX) :]
    full = PREFIX + typed
    if not typed:
        return full, f"Enter a name for the permission set ({PREFIX} is added in front)."
    sentences = []
    bad = _unique(ch for ch in typed if not _NAME_CHAR.fullmatch(ch))
    if bad:
        shown = ", ".join("space" if ch == " " else f'"{ch}"' for ch in bad)
        sentences.append(f"Use only letters, digits and + = , . @ _ - in the name (not {shown}).")
    if len(full) > MAX_NAME:
        sentences.append(
            f"The name can be at most {MAX_TYPED_NAME} characters ({PREFIX} is added in "
            f"front, and AWS allows {MAX_NAME} in all); you typed {len(typed)}."
        )
    return full, " ".join(sentences) or None


_HOURS_TEXT = re.compile(r"(\d+)\s*(?:h|hr|hrs|hour|hours)?", re.ASCII | re.IGNORECASE)


def _check_session(text: str | None, max_hours: int) -> tuple[int | None, str | None]:
    stripped = (text or "").strip()
    if not stripped:
        return None, "Choose a session duration."
    rule = f"Session duration must be a whole number of hours from 1 to {max_hours}"
    match = _HOURS_TEXT.fullmatch(stripped)
    if match is None:
        return None, f'{rule} (you entered "{stripped}").'
    hours = int(match.group(1))
    if not 1 <= hours <= max_hours:
        return None, f'{rule} (you entered "{stripped}").'
    return hours, None


def _check_managed(
    policies: tuple[str, ...],
    inline_text: str | None,
    allowed: list[str],
    max_managed: int,
) -> str | None:
    if not policies and inline_text is None:
        return "Choose at least one managed policy, or write an inline policy."
    sentences = []
    not_allowed = [p for p in policies if p not in allowed]
    if not_allowed:
        listed = ", ".join(not_allowed)
        allowed_text = ", ".join(allowed) if allowed else "none are configured"
        sentences.append(f"Not allowed here: {listed}. Choose from the list ({allowed_text}).")
    if len(policies) > max_managed:
        sentences.append(
            f"Choose at most {max_managed} managed policies (you chose {len(policies)})."
        )
    return " ".join(sentences) or None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """``items`` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(items))
