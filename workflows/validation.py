"""Rules for the request form. Errors map a form field to the sentence shown under it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from workflows.catalog import Catalog, CatalogAccount
from workflows.config import Config
from workflows.durations import parse_duration
from workflows.errors import InvalidRequest

MIN_JUSTIFICATION = 10  # characters; "Justification (minimum 10 characters)" in the docs
MAX_JUSTIFICATION = 2000

FIELD_ACCOUNT = "account"
FIELD_PERMISSION_SET = "permission_set"
FIELD_DURATION = "duration"
FIELD_JUSTIFICATION = "justification"


@dataclass(frozen=True)
class RequestForm:
    """The request modal's values as submitted (any may be missing or forged)."""

    account_id: str | None
    permission_set: str | None
    duration: str | None  # a duration code such as "4h"
    justification: str | None


@dataclass(frozen=True)
class ValidForm:
    account: CatalogAccount
    permission_set_name: str
    permission_set_arn: str
    duration: timedelta
    justification: str


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
    if account is not None:
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
    assert account is not None and arn is not None and duration is not None
    return ValidForm(account, form.permission_set or "", arn, duration, justification)
