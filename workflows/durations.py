"""The one place jitbot turns durations into text and back.

Durations are written as one whole number and one unit, e.g. ``"4h"`` or ``"1mo"``:

====  =======================
unit  meaning
====  =======================
s     seconds
m     minutes
h     hours
d     days
w     weeks (7 days)
mo    months (always 30 days)
====  =======================

Whitespace around and between the parts is ignored and units are case-insensitive
(``" 2 H "`` is two hours). Fractions (``"1.5h"``), zero, negative values, several
parts (``"1h30m"``) and unknown units are refused with a :class:`ValueError` whose
message says what is wrong, so it can be shown to a person as is.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = [
    "UNITS",
    "duration_code",
    "duration_label",
    "format_remaining",
    "iso8601_duration",
    "parse_duration",
]

#: Seconds in each unit, largest first (the order labels and codes are chosen in).
UNITS: dict[str, int] = {
    "mo": 30 * 86400,
    "w": 7 * 86400,
    "d": 86400,
    "h": 3600,
    "m": 60,
    "s": 1,
}

_UNIT_NAMES = {
    "mo": "month",
    "w": "week",
    "d": "day",
    "h": "hour",
    "m": "minute",
    "s": "second",
}

_UNIT_LIST = "s, m, h, d, w, mo"
_EXAMPLE = 'e.g. "4h" or "1d"'

# A sign, a number (perhaps with a fraction, to refuse it precisely), then letters.
_SHAPE = re.compile(r"^([+-]?)\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)$", re.ASCII)


def parse_duration(text: str) -> timedelta:
    """Parse ``"<whole number><unit>"`` (units ``s m h d w mo``; 1mo = 30 days).

    >>> parse_duration("4h")
    datetime.timedelta(seconds=14400)
    >>> parse_duration(" 1 MO ")
    datetime.timedelta(days=30)

    Raises:
        ValueError: for anything else, with a message fit to show a person, e.g.
            ``unknown unit "x" (use s, m, h, d, w, mo)`` or
            ``whole numbers only: "1.5h" (use a smaller unit, e.g. "90m")``.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected text like {_EXAMPLE}, got {text!r}")
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"empty duration ({_EXAMPLE})")
    match = _SHAPE.match(stripped)
    if match is None:
        raise ValueError(
            f'not a duration: "{stripped}" (one whole number and one unit, {_EXAMPLE})'
        )
    sign, number, unit_text = match.groups()
    unit = unit_text.lower()
    if not unit:
        raise ValueError(f'missing unit in "{stripped}" (use {_UNIT_LIST})')
    if unit not in UNITS:
        raise ValueError(f'unknown unit "{unit_text}" (use {_UNIT_LIST})')
    if "." in number:
        raise ValueError(f'whole numbers only: "{stripped}" (use a smaller unit, e.g. "90m")')
    amount = int(number)
    if sign == "-" or amount == 0:
        raise ValueError(f'must be more than zero: "{stripped}"')
    try:
        return timedelta(seconds=amount * UNITS[unit])
    except OverflowError:
        raise ValueError(f'too long: "{stripped}"') from None


def _whole_seconds(td: timedelta, what: str) -> int:
    """``td`` in whole seconds (sub-second parts dropped); refuses negative values."""
    if not isinstance(td, timedelta):
        raise TypeError(f"{what} needs a timedelta, got {type(td).__name__}")
    if td < timedelta(0):
        raise ValueError(f"{what} needs a duration of zero or more, got {td}")
    return td.days * 86400 + td.seconds


def _largest_exact_unit(seconds: int) -> tuple[int, str]:
    for unit, size in UNITS.items():
        if seconds % size == 0:
            return seconds // size, unit
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


def duration_label(td: timedelta) -> str:
    """Words for a duration in the largest unit that divides it exactly.

    >>> duration_label(timedelta(hours=2))
    '2 hours'
    >>> duration_label(timedelta(minutes=90))
    '90 minutes'
    >>> duration_label(timedelta(days=30))
    '1 month'

    Units are tried largest first: month (30 days), week, day, hour, minute, second.
    Sub-second parts are ignored; zero is ``"0 seconds"``.

    Raises:
        ValueError: for a negative duration.
    """
    seconds = _whole_seconds(td, "duration_label")
    if seconds == 0:
        return "0 seconds"
    count, unit = _largest_exact_unit(seconds)
    name = _UNIT_NAMES[unit]
    return f"{count} {name}" if count == 1 else f"{count} {name}s"


def duration_code(td: timedelta) -> str:
    """The short form :func:`parse_duration` reads back, e.g. ``"1h"``, ``"90m"``, ``"1mo"``.

    Uses the same unit as :func:`duration_label`; zero is ``"0s"`` (which, being
    zero, :func:`parse_duration` refuses).

    Raises:
        ValueError: for a negative duration.
    """
    seconds = _whole_seconds(td, "duration_code")
    if seconds == 0:
        return "0s"
    count, unit = _largest_exact_unit(seconds)
    return f"{count}{unit}"


def format_remaining(td: timedelta) -> str:
    """Compact "time left": the two largest non-zero parts of days, hours, minutes, seconds.

    >>> format_remaining(timedelta(hours=2, minutes=10, seconds=59))
    '2h 10m'
    >>> format_remaining(timedelta(days=3, hours=4))
    '3d 4h'
    >>> format_remaining(timedelta(seconds=45))
    '45s'

    The second part is shown only when it is the next unit down and non-zero
    (``3d 0h 5m`` is ``"3d"``). Parts are rounded down. Anything below one second,
    including a time already past (negative), is ``"0s"``.
    """
    if td <= timedelta(0):
        return "0s"
    seconds = td.days * 86400 + td.seconds
    parts = [
        (seconds // 86400, "d"),
        (seconds % 86400 // 3600, "h"),
        (seconds % 3600 // 60, "m"),
        (seconds % 60, "s"),
    ]
    for index, (value, unit) in enumerate(parts):
        if value:
            text = f"{value}{unit}"
            if index + 1 < len(parts) and parts[index + 1][0]:
                following, following_unit = parts[index + 1]
                text += f" {following}{following_unit}"
            return text
    return "0s"


def parse_iso8601_duration(text: str) -> timedelta | None:
    """``PT4H``/``PT1H30M``/``P1DT2H`` -> timedelta; None when it is not that form
    (permission set ``SessionDuration`` values)."""
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text or "")
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def iso8601_duration(td: timedelta) -> str:
    """ISO 8601 duration, as IAM Identity Center's permission set ``SessionDuration`` takes.

    >>> iso8601_duration(timedelta(hours=4))
    'PT4H'
    >>> iso8601_duration(timedelta(minutes=90))
    'PT1H30M'
    >>> iso8601_duration(timedelta(days=1, hours=2))
    'P1DT2H'

    Whole days are written as days (``D``); sub-second parts are dropped; zero is
    ``"PT0S"``. AWS accepts session durations from ``PT1H`` to ``PT12H`` only; checking
    that range is the caller's business.

    Raises:
        ValueError: for a negative duration.
    """
    seconds = _whole_seconds(td, "iso8601_duration")
    if seconds == 0:
        return "PT0S"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "P"
    if days:
        text += f"{days}D"
    time = "".join(
        f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value
    )
    if time:
        text += "T" + time
    return text
