"""The names, AWS limits and value types of custom permission sets: the form's fields,
a checked :class:`CustomSpec`, what a standard set grants, and an approver's
:class:`Warning`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

PREFIX = "JIT-"

FIELD_NAME = "ps_name"
FIELD_SESSION = "session_duration"
FIELD_MANAGED = "managed_policies"
FIELD_INLINE = "inline_policy"

#: PermissionSet ``Name``: length 1..32, pattern ``[\w+=,.@-]+`` (API_PermissionSet.html).
MAX_NAME = 32
#: What the requester may type: the bot adds :data:`PREFIX` in front.
MAX_TYPED_NAME = MAX_NAME - len(PREFIX)
_NAME_CHAR = re.compile(r"[\w+=,.@-]", re.ASCII)  # AWS's \w is ASCII: [A-Za-z0-9_]

#: "The minimum session duration is 1 hour, and can be set to a maximum of 12 hours"
#: (howtosessionduration.html).
AWS_MAX_SESSION = timedelta(hours=12)
_HOUR = timedelta(hours=1)

#: "Number of AWS managed and customer managed policies per permission set: 20", not
#: adjustable; IAM's default of 10 per role applies unless raised (limits.html).
AWS_MAX_MANAGED = 20
DEFAULT_MAX_MANAGED = 10

#: "Maximum size of inline policy per permission set: 32,768 bytes. Maximum size of
#: non-whitespace characters in the inline policy per permission set is 10,240 bytes."
#: (limits.html). Both are measured as UTF-8 bytes, the stricter reading.
MAX_INLINE_BYTES = 32_768
MAX_INLINE_NON_WHITESPACE = 10_240


@dataclass(frozen=True)
class CustomSpec:
    """A checked custom permission set, as requested."""

    name: str  # full name with the JIT- prefix
    session_duration: timedelta
    managed_policies: tuple[str, ...]  # policy NAMES as configured, e.g. "ReadOnlyAccess"
    inline_policy: str | None  # the JSON text as typed (stripped; None if empty)


@dataclass(frozen=True)
class StandardSetPolicies:
    """What a standard permission set grants, for "a standard set covers this"."""

    managed_policies: frozenset[str]  # names ("ReadOnlyAccess") or ARNs
    has_inline: bool


@dataclass(frozen=True)
class Warning:  # shadows the builtin on purpose: the name the approval message uses
    """One thing an approver should look at. ``text`` is a sentence shown as is."""

    severity: Literal["high", "medium", "info"]
    text: str
