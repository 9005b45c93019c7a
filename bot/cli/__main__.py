"""``python -m bot.cli`` and the ``jitbot`` command (``[project.scripts]``): :func:`run`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bot.cli import main
from storage.db import DatabaseNotWritable


def run(argv: Sequence[str] | None = None) -> int:
    """:func:`bot.cli.main`, with the start-up errors a deployer causes said in one line
    on stderr instead of a traceback (a database this uid cannot write: exit 1)."""
    try:
        return main(argv)
    except DatabaseNotWritable as exc:
        print(f"jitbot: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(run())
