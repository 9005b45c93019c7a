"""``expiry_warning``: how long before a session ends its requester is warned, or
None (``0``, ``none``, ``false`` or an empty value) for no warning."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from workflows.config.fields import _check_duration, _error

#: What turns the warning off, besides an empty value and ``false``.
_OFF = frozenset({"0", "0s", "0m", "none", "off", "no"})


def _check_expiry_warning(value: object) -> timedelta | None:
    """A duration like ``15m``; ``0``, ``none``, ``off``, ``false`` or nothing: None."""
    if value is None or value is False or value == 0:
        return None
    if isinstance(value, str) and value.strip().lower() in _OFF:
        return None
    try:
        return _check_duration(value)
    except PydanticCustomError as exc:
        raise _error("expiry_warning", f"{exc.message()} (or 0 for no warning)") from None


#: ``expiry_warning``'s type: a positive duration, or None for no warning.
ExpiryWarning = Annotated[timedelta | None, BeforeValidator(_check_expiry_warning)]
