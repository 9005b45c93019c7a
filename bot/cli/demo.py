"""``jitbot demo``: the whole lifecycle on moto and a fake Slack."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``demo`` (``--session-seconds``)."""
    demo = sub.add_parser("demo", help="the whole lifecycle on moto and a fake Slack")
    demo.add_argument(
        "--session-seconds",
        type=int,
        default=10,
        help="length of the demo's short session (default 10)",
    )
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo with a session of ``--session-seconds`` seconds; its exit code."""
    # sim is not part of the product: loaded only here, and it needs the demo extra
    try:
        from sim.demo import run_demo
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ("bot", "sim", "storage", "workflows"):
            raise
        print(
            f"jitbot demo needs the demo extra ({exc.name} is missing): pip install '.[demo]'",
            file=sys.stderr,
        )
        return 1
    return run_demo(session_seconds=args.session_seconds)
