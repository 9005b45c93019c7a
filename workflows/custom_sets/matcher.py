"""Which action names of a service an IAM wildcard could match, found without trying the
regular expression on every name, and what checking a policy's wildcards costs.

A wildcard such as ``ec2:*ab*`` has no literal start, so the sorted names cannot be cut
to a range. Instead each service has an index of the 1-, 2- and 3-letter pieces
(n-grams) its lower-case names contain, as bit masks over the sorted names: a name can
only match when it contains every n-gram of every literal piece of the pattern (``ab``
for ``*ab*``; ``des``, ``esc``, ... for ``*describe*``) and starts with the literal
start. Only those candidates are tried with the regular expression, so the result is
exactly what trying every name would give.

:func:`wildcard_cost` counts the candidates of a policy's distinct wildcards: the
regular-expression matches that checking them takes. Form validation refuses a policy
above :data:`MAX_WILDCARD_COST` (an unchecked wildcard could hide a denied action, so
the check is never skipped), and the approver warnings say "check by hand" instead.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator

#: Candidate names a policy's distinct wildcards may have, in all. The costliest policy
#: under it took 11.7 ms in the approver warnings, cold, at a load average of 3.6
#: (``jitbot bench --only approver-warnings``, 18 x ``ec2:*a*b*``); forty
#: ``ec2:*Instance*``-like wildcards have about 3,600.
MAX_WILDCARD_COST = 8_000

_WILDCARD_RUN = re.compile(r"[*?]+")
_GRAM = 3


def star_matcher(pattern: str) -> Callable[[str], bool] | None:
    """A test of a lower-case name against a wildcard ``pattern`` (lower case) made only
    of literal pieces and ``*``, without compiling a regular expression (a compile
    costs more than trying a few hundred names); None when it has ``?``.

    Greedy: each middle piece is found as early as it can be, which is exact for ``*``
    (any later match of the rest also fits after an earlier piece).
    """
    if "?" in pattern or "*" not in pattern:
        return None
    head, *middle, tail = pattern.split("*")
    pieces = [p for p in middle if p]
    shortest = len(head) + len(tail) + sum(map(len, pieces))

    def match(name: str) -> bool:
        if len(name) < shortest or not name.startswith(head) or not name.endswith(tail):
            return False
        at, stop = len(head), len(name) - len(tail)
        for piece in pieces:
            found = name.find(piece, at, stop)
            if found < 0:
                return False
            at = found + len(piece)
        return True

    return match


def exact(pattern: str) -> bool:
    """Whether :func:`candidates` of ``pattern`` are exactly its matches: ``head*``
    (the range of names that start with it) or ``*piece*`` with a piece of at most 3
    letters (the names containing it)."""
    if "?" in pattern:
        return False
    pieces = [p for p in pattern.split("*") if p]
    if len(pieces) != 1:
        return not pieces  # "*", "**": every name
    if pattern.endswith("*") and not pattern.startswith("*"):
        return pattern.rstrip("*") == pieces[0]
    return pattern.startswith("*") and pattern.endswith("*") and len(pieces[0]) <= _GRAM


def has_wildcard(name: str) -> bool:
    """Whether an action name (the part after ``service:``) has ``*`` or ``?``."""
    return "*" in name or "?" in name


def every_name(name: str) -> bool:
    """``*``, ``**``, ...: every action of the service, no matching needed."""
    return bool(name) and name.strip("*") == ""


#: services with fewer actions get no index (every name is a candidate): building one
#: costs about 30 µs a name, once a process
MIN_INDEXED = 64


def build_index(names: tuple[str, ...]) -> dict[str, int] | None:
    """``{n-gram: bit mask of the names (by sorted position) that contain it}``, for the
    1- to 3-letter pieces of ``names`` (lower case, sorted); None under
    :data:`MIN_INDEXED` names."""
    if len(names) < MIN_INDEXED:
        return None
    where: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        grams = {name[i : i + n] for n in range(1, _GRAM + 1) for i in range(len(name) - n + 1)}
        for gram in grams:
            where.setdefault(gram, []).append(position)
    size = (len(names) + 7) // 8
    index: dict[str, int] = {}
    for gram, found in where.items():
        bits = bytearray(size)  # one int per gram: OR-ing big ints one bit at a time is slow
        for position in found:
            bits[position >> 3] |= 1 << (position & 7)
        index[gram] = int.from_bytes(bits, "little")
    return index


def _grams(piece: str) -> Iterator[str]:
    if len(piece) <= _GRAM:
        yield piece
        return
    for i in range(len(piece) - _GRAM + 1):
        yield piece[i : i + _GRAM]


#: a service's sorted lower-case names and their :func:`build_index`
Names = tuple[tuple[str, ...], dict[str, int] | None]


def candidates(service: Names, pattern: str) -> int:
    """Bit mask of the names of ``service`` that a wildcard ``pattern`` (lower case, the
    part after ``service:``) could match."""
    names, index = service
    pieces = [p for p in _WILDCARD_RUN.split(pattern) if p]
    head = "" if pattern[:1] in ("*", "?") else pieces[0] if pieces else ""
    start = bisect.bisect_left(names, head)
    end = bisect.bisect_left(names, head + "\uffff") if head else len(names)
    mask = ((1 << end) - 1) ^ ((1 << start) - 1)
    if index is None:
        return mask
    for piece in pieces:
        for gram in _grams(piece):
            mask &= index.get(gram, 0)
            if not mask:
                return 0
    return mask


def positions(mask: int) -> Iterator[int]:
    """The set bits of ``mask``, lowest first (sorted order of the names)."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def wildcard_cost(
    actions: Iterable[str], names_of: Callable[[str], Names]
) -> tuple[int, str | None]:
    """``(candidates to try, the costliest wildcard)`` of the distinct (case-insensitive)
    wildcard actions among ``actions``; ``names_of(service)`` gives a service's
    :data:`Names`. Literal names and ``svc:*`` cost nothing."""
    total, worst, worst_cost = 0, None, -1
    for action in dict.fromkeys(a.strip().lower() for a in actions):
        service, _, name = action.partition(":")
        if not has_wildcard(name) or every_name(name):
            continue
        cost = candidates(names_of(service), name).bit_count()
        total += cost
        if cost > worst_cost:
            worst, worst_cost = action, cost
    return total, worst
