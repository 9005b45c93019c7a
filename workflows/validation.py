"""Rules for the request form. Errors map a form field to the sentence shown under it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from workflows.catalog import Catalog, CatalogAccount
from workflows.config import Config
from workflows.custom_sets import CustomSpec, validate_custom_spec
from workflows.durations import parse_duration
from workflows.errors import InvalidRequest

MIN_JUSTIFICATION = 10  # characters; "Justification (minimum 10 characters)" in the docs
MAX_JUSTIFICATION = 2000
#: The longest reason a reviewer may give (reject, revoke): the modals' ``max_length``,
#: checked here too because a forged submission skips Slack's client.
MAX_REASON = 1000


def check_reason(reason: str | None) -> str | None:
    """A reject or revoke reason, stripped (None when empty).

    Raises:
        InvalidRequest: ``{"reason": ...}`` when it is longer than :data:`MAX_REASON`.
    """
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidRequest(
            {"reason": f"Keep the reason to {MAX_REASON} characters (it has {len(reason)})."}
        )
    return reason


FIELD_ACCOUNT = "account"
FIELD_PERMISSION_SET = "permission_set"
FIELD_DURATION = "duration"
FIELD_JUSTIFICATION = "justification"


KIND_STANDARD = "standard"
KIND_CUSTOM = "custom"


@dataclass(frozen=True)
class RequestForm:
    """The request modal's values as submitted (any may be missing or forged).

    ``kind`` is ``standard`` or ``custom``; the ``custom_*`` fields are read only for a
    custom request (name as typed, session hours, managed policy names, inline JSON).
    """

    account_id: str | None
    permission_set: str | None
    duration: str | None  # a duration code such as "4h"
    justification: str | None
    kind: str = KIND_STANDARD
    custom_name: str | None = None
    custom_session_hours: str | None = None
    custom_managed: tuple[str, ...] = ()
    custom_inline: str | None = None
    ticket: str | None = None  # the "Ticket" input, shown when an access rule asks for one


@dataclass(frozen=True)
class ValidForm:
    """A form that passed: for a custom request ``permission_set_arn`` is empty (the set
    is created at grant) and ``custom`` holds the spec."""

    account: CatalogAccount
    permission_set_name: str
    permission_set_arn: str
    duration: timedelta
    justification: str
    custom: CustomSpec | None = None


def validate_form(config: Config, catalog: Catalog, form: RequestForm) -> ValidForm:
    """Check the form against the catalog and config.

    Raises:
        InvalidRequest: with every field that is wrong (keys are the ``FIELD_*`` names).
    """
    errors: dict[str, str] = {}
    account = catalog.account(form.account_id or "")
    if account is None:
        errors[FIELD_ACCOUNT] = "Choose an AWS account from the list."
    arn = None
    spec = None
    if form.kind == KIND_CUSTOM:
        custom = config.custom_permission_sets
        try:
            spec = validate_custom_spec(
                form.custom_name,
                form.custom_session_hours,
                list(form.custom_managed),
                form.custom_inline,
                allowed_managed=list(custom.managed_policies),
                max_session=custom.max_session_duration,
                deny_actions=custom.deny_actions,
            )
        except InvalidRequest as exc:
            errors.update(exc.errors)
        if not custom.enabled:
            errors[FIELD_ACCOUNT] = "Custom permission sets are not enabled."
        elif account is not None and not account.custom:
            errors[FIELD_ACCOUNT] = (
                account.custom_refusal
                or f"Custom permission sets can't be requested on {account.label}."
            )
    elif account is not None:
        arn = account.permission_sets.get(form.permission_set or "")
        if arn is None:
            errors[FIELD_PERMISSION_SET] = f"Choose a permission set allowed on {account.label}."
    duration = None
    with contextlib.suppress(ValueError):
        duration = parse_duration(form.duration or "")
    if duration is None or duration not in config.durations:
        errors[FIELD_DURATION] = "Choose a duration from the list."
    justification = (form.justification or "").strip()
    if len(justification) < MIN_JUSTIFICATION:
        errors[FIELD_JUSTIFICATION] = (
            f"Justification must be at least {MIN_JUSTIFICATION} characters "
            f"(you wrote {len(justification)})."
        )
    elif len(justification) > MAX_JUSTIFICATION:
        errors[FIELD_JUSTIFICATION] = (
            f"Justification must be at most {MAX_JUSTIFICATION} characters."
        )
    if errors:
        raise InvalidRequest(errors)
    assert account is not None and duration is not None
    if spec is not None:
        return ValidForm(account, spec.name, "", duration, justification, spec)
    assert arn is not None
    return ValidForm(account, form.permission_set or "", arn, duration, justification)
