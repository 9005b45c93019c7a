"""Checks of single jitbot.yml values (emails, account ids, permission set names,
durations, ARNs, URLs), as pydantic ``BeforeValidator`` types, and the error they raise.

Each check raises a ``PydanticCustomError`` of type ``jitbot_<kind>`` whose message is
shown to a person as is (:mod:`workflows.config.problems`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from workflows.durations import duration_code, parse_duration
from workflows.people import is_slack_id

_CTX_SUBPATH = "subpath"  # error-context key: a path suffix below the failing field

#: Every model of the file: immutable, unknown keys refused.
_MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid")


def _kind(value: object) -> str:
    """What a person would call a YAML value's type."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _error(kind: str, message: str, subpath: str | None = None) -> PydanticCustomError:
    context = {_CTX_SUBPATH: subpath} if subpath else None
    return PydanticCustomError(f"jitbot_{kind}", message, context)


def _check_email(value: object) -> str:
    if not isinstance(value, str):
        raise _error("email", "not an email address")
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise _error("email", "not an email address") from None
    return checked.normalized.lower()


def _check_person(value: object) -> str:
    """A person named in the config: a Slack user id (``U…``/``W…``, kept as written) or
    an email (lower-cased); see :mod:`workflows.people`."""
    if isinstance(value, str) and is_slack_id(value.strip()):
        return value.strip()
    try:
        return _check_email(value)
    except PydanticCustomError:
        raise _error("person", "not an email address or a Slack user id (U0123ABCD)") from None


_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


def _check_account_id(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # Show the digits as written (YAML reads 011111111111 as octal, for one).
        written = getattr(value, "source", None) or str(value)
        if not written.isdigit() or len(written) > 12:
            written = str(value) if 0 <= value < 10**12 else "012345678901"
        raise _error("account_id", f'must be 12 digits, quoted ("{written.zfill(12)}")')
    if not isinstance(value, str):
        raise _error(
            "account_id", f'must be 12 digits, quoted ("012345678901"), not {_kind(value)}'
        )
    text = value.strip()
    if not _ACCOUNT_ID.match(text):
        raise _error("account_id", f'must be 12 digits, got "{text}"')
    return text


_PERMISSION_SET_NAME = re.compile(r"^[\w+=,.@-]{1,32}$", re.ASCII)


def _check_permission_set(value: object) -> str:
    if not isinstance(value, str):
        raise _error("permission_set", f"expected a permission set name, got {_kind(value)}")
    text = value.strip()
    if not _PERMISSION_SET_NAME.match(text):
        raise _error(
            "permission_set",
            f'not a permission set name: "{text}" (1-32 letters, digits and + = , . @ _ -)',
        )
    return text


def _check_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise _error("duration", "must be more than zero")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise _error("duration", f'needs a unit: write e.g. "{value}h" (use s, m, h, d, w, mo)')
    if not isinstance(value, str):
        raise _error("duration", f'expected a duration like "4h", got {_kind(value)}')
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _error("duration", str(exc)) from None


_INSTANCE_ARN = re.compile(r"^arn:aws(-us-gov|-cn)?:sso:::instance/ssoins-[0-9a-f]{16}$")
_IDENTITY_STORE_ID = re.compile(r"^d-[0-9a-f]{10}$")


def _pattern_checker(pattern: re.Pattern[str], example: str, kind: str):
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _error(kind, f'must look like "{example}", got {_kind(value)}')
        text = value.strip()
        if not pattern.match(text):
            raise _error(kind, f'must look like "{example}", got "{text}"')
        return text

    return check


def _check_url(value: object) -> str:
    example = "https://d-0123456789.awsapps.com/start"
    if not isinstance(value, str):
        raise _error("url", f'must be an http(s) URL like "{example}", got {_kind(value)}')
    text = value.strip()
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid or any(c.isspace() for c in text):
        raise _error("url", f'must be an http(s) URL like "{example}", got "{text}"')
    return text


def _check_slash_command(value: object) -> str:
    if not isinstance(value, str):
        raise _error(
            "slash_command", f'must be text starting with "/", e.g. "/jit", got {_kind(value)}'
        )
    text = value.strip()
    if not text.startswith("/"):
        raise _error("slash_command", f'must start with "/" (e.g. "/jit"), got "{text}"')
    if len(text) < 2 or len(text) > 32 or any(c.isspace() for c in text):
        raise _error(
            "slash_command", f'must be "/" and a name of at most 31 characters, no spaces: "{text}"'
        )
    return text


def _check_calls_per_second(value: object) -> float | None:
    """``max_calls_per_second``: a number >= 0; 0 and null mean no limit (None)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(
            "calls_per_second",
            f"must be a number of calls per second (e.g. 20), or 0 for no limit, got "
            f"{_kind(value)}",
        )
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise _error(
            "calls_per_second", f"must be 0 (no limit) or more calls per second, got {value}"
        )
    return float(value) or None


def _strip_or_none(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    return value


Email = Annotated[str, BeforeValidator(_check_email)]
#: A person in the config: an email or a Slack user id (:func:`_check_person`).
PersonEntry = Annotated[str, BeforeValidator(_check_person)]
AccountId = Annotated[str, BeforeValidator(_check_account_id)]
PermissionSetName = Annotated[str, BeforeValidator(_check_permission_set)]
Duration = Annotated[timedelta, BeforeValidator(_check_duration)]


def _in_range(name: str, value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    if not low <= value <= high:
        raise _error(
            name,
            f"must be between {duration_code(low)} and {duration_code(high)}, "
            f"got {duration_code(value)}",
        )
    return value
