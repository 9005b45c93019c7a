"""The names, tags and limits of permission sets as IAM Identity Center and jitbot
define them, and the pure helpers that check or shape them (no AWS calls).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: Tag key (value ``"true"``) on every permission set jitbot creates.
MANAGED_TAG = "jitbot:managed"
#: Tag key whose value is the id of the request a jitbot permission set was created for.
REQUEST_TAG = "jitbot:request-id"
#: Longest permission set name AWS accepts (CreatePermissionSet ``Name``).
MAX_PERMISSION_SET_NAME = 32
#: Longest permission set description AWS accepts (CreatePermissionSet ``Description``).
MAX_PERMISSION_SET_DESCRIPTION = 700
#: Session duration of a permission set that has none (AWS's default, one hour).
DEFAULT_SESSION_DURATION = "PT1H"
#: Highest name suffix tried when a custom permission set name is taken (``-2`` … ``-100``).
MAX_NAME_SUFFIX = 100

# The request syntax of CreatePermissionSet: Name, SessionDuration (ISO 8601) and the
# characters allowed in Description.
_NAME_RE = re.compile(r"[\w+=,.@-]+", re.ASCII)
_DURATION_RE = re.compile(
    r"(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_DESCRIPTION_FORBIDDEN = re.compile(r"[^\t\n\r\x20-\x7e\xa1-\xff]")
#: Name prefix of every custom permission set jitbot creates.
JIT_PREFIX = "JIT-"


def _duration_text(value: object) -> str:
    """A permission set's ``SessionDuration`` (ISO 8601 text, e.g. ``"PT4H"``); absent
    means AWS's default of one hour."""
    return str(value) if value else DEFAULT_SESSION_DURATION


def _clean_description(description: str) -> str | None:
    """``description`` made acceptable to CreatePermissionSet: characters outside its
    pattern (tab, newlines, printable ASCII, U+00A1-U+00FF) become ``?``, and it is cut to
    :data:`MAX_PERMISSION_SET_DESCRIPTION` characters (ending ``...``). None when empty
    (AWS wants at least one character, so the parameter is left out)."""
    text = _DESCRIPTION_FORBIDDEN.sub("?", description.strip())
    if len(text) > MAX_PERMISSION_SET_DESCRIPTION:
        text = text[: MAX_PERMISSION_SET_DESCRIPTION - 3].rstrip() + "..."
    return text or None


def _candidate_names(name: str) -> Iterator[str]:
    """``name``, then ``name-2`` … ``name-100``, each trimmed at the end of ``name`` so
    the whole stays within :data:`MAX_PERMISSION_SET_NAME` characters."""
    yield name
    for number in range(2, MAX_NAME_SUFFIX + 1):
        suffix = f"-{number}"
        yield name[: MAX_PERMISSION_SET_NAME - len(suffix)] + suffix
