"""``jitbot bench``: ``python -m benchmarks`` from a source checkout."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``bench``; its flags are left for the benchmarks' own parser."""
    bench = sub.add_parser(
        "bench",
        add_help=False,  # --help and every flag go to the benchmarks' own parser
        help="run the benchmarks (source checkout only): [--quick] [--only NAME] "
        "[--output FILE]; see jitbot bench --help",
    )
    bench.set_defaults(func=cmd_bench, bench_args=[])


def benchmarks_main() -> Callable[..., int] | None:
    """``main`` of ``benchmarks/__main__.py``: importable as is, or from the source
    checkout this ``bot`` package (or the current directory) is in; None when there is
    none (a wheel install: the benchmarks are not packaged)."""
    roots = [None, Path(__file__).resolve().parent.parent.parent, Path.cwd()]
    for root in roots:
        if root is not None:
            if not (root / "benchmarks" / "__main__.py").is_file():
                continue
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))  # spawned benchmark processes inherit it
        try:
            module = importlib.import_module("benchmarks.__main__")
        except ImportError:
            continue
        main = getattr(module, "main", None)
        if callable(main):
            return main
    return None


def cmd_bench(args: argparse.Namespace) -> int:
    """``python -m benchmarks`` with the flags given after ``bench``; exit 2 with a
    hint when the benchmarks are not there (they are not in the wheel)."""
    from bot import cli  # looked up on the package, where tests replace it

    main = cli._benchmarks_main()
    if main is None:
        print(
            "jitbot bench: the benchmarks are not installed with jitbot; run it from a "
            "source checkout of jitbot (they live in benchmarks/ at the repository root), "
            "e.g. `python -m benchmarks --quick` there.",
            file=sys.stderr,
        )
        return 2
    return int(main(list(args.bench_args), prog="jitbot bench") or 0)
