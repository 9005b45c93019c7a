"""Plain-text aligned tables for the command line (a terminal, not Slack: no mrkdwn)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_CELL", "aligned", "cell"]

#: Longest a cell may be before it is cut with ``…`` (a group name can be 1,024
#: characters; the table stays readable in a terminal).
MAX_CELL = 40


def cell(text: str, limit: int = MAX_CELL) -> str:
    """One line, at most ``limit`` characters (control characters and line breaks a
    name could carry become spaces, so a row stays one row)."""
    flat = "".join(c if c.isprintable() else " " for c in text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of ``rows`` under ``header``, each column as wide as its widest cell,
    two spaces apart, trailing spaces cut; no lines when there are no rows."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
