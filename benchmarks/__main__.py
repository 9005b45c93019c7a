"""``python -m benchmarks [--quick] [--only NAME ...] [--output FILE]`` (also
``jitbot bench`` with the same flags, from a source checkout).

Runs the benchmarks (see :mod:`benchmarks`), prints a table of every number against
its goal and writes it as Markdown with the machine, the date and the run's output. A
full run writes ``benchmarks/results.md``; ``--quick`` and ``--only`` write into the run's
temporary folder unless ``--output`` says where. A hand-written section of the existing
file between ``<!-- findings -->`` and ``<!-- /findings -->`` is kept.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import Options, Row, machine, table

BENCHMARKS = {
    "ack": "benchmarks.ack",
    "grant": "benchmarks.grant_path",
    "aws-calls": "benchmarks.aws_calls",
    "expiry-lag": "benchmarks.expiry_lag",
    "mass-expiry": "benchmarks.mass_expiry",
    "home": "benchmarks.home",
    "memory": "benchmarks.memory",
    "approver-warnings": "benchmarks.approver_warnings",
    "rules-picker": "benchmarks.rules_picker",
    "reconcile-scale": "benchmarks.reconcile_scale",
}
RESULTS = Path(__file__).with_name("results.md")
FINDINGS = ("<!-- findings -->", "<!-- /findings -->")


def _kept_findings(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_text()
    start, end = text.find(FINDINGS[0]), text.find(FINDINGS[1])
    if start < 0 or end < start:
        return ""
    return text[start : end + len(FINDINGS[1])]


def _markdown(
    rows: list[Row], info: dict[str, str], started: datetime, args: Any, output: list[str]
) -> str:
    mode = "quick (smoke run)" if args.quick else "full"
    lines = [
        "# jitbot benchmarks",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {info['platform']}, {info['cpus']} CPUs, {info['python']}",
        f"- load average at start: {info['loadavg']} (the machine is shared: numbers are noisy)",
        f"- run: `python -m benchmarks{' --quick' if args.quick else ''}"
        + "".join(f" --only {n}" for n in args.only or [])
        + f"` ({mode})",
        "",
        "The bot runs in a child process of its own (real runtime, Bolt, waitress, scheduler);",
        "moto's server runs in another (since 2026-11-29; before, in the parent); the fake",
        "Slack and the simulated people run in the parent process.",
        "Identity Center quotas emulated in mass-expiry (by the Identity Center stand-in,",
        "sim/aws_standin.py): 20 calls/s collective rate (burst 20) for the sso-admin APIs,",
        "at most 15 outstanding asynchronous assignment operations, and one change at a time",
        "per account and permission set, from",
        "https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html; the bot runs",
        "on its defaults (15 calls/s client-side, burst 7.5, 15 outstanding operations).",
        "",
        "## Results",
        "",
        *table(rows),
        "",
    ]
    findings = _kept_findings(RESULTS)
    if findings:
        lines += ["## Findings", "", findings, ""]
    lines += ["## Output of the run", "", "```", *output, "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str = "python -m benchmarks") -> int:
    """Run the benchmarks the flags in ``argv`` (default ``sys.argv[1:]``) ask for;
    ``prog`` names the command in ``--help``. Returns the exit status: 1 if a benchmark
    crashed (a goal missed is a result, not a failure), else 0."""
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a ~1 minute smoke run")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only this (repeatable)"
    )
    parser.add_argument("--output", type=Path, help="where to write the Markdown results")
    args = parser.parse_args(argv)
    output: list[str] = []

    def log(line: str = "") -> None:
        print(line, flush=True)
        output.append(line)

    opts = Options(quick=args.quick, only=args.only or [], log=log)
    info = machine()
    started = datetime.now(UTC)
    log(f"jitbot benchmarks, {'quick' if args.quick else 'full'} run, {started:%Y-%m-%d %H:%M} UTC")
    log(f"machine: {info['platform']}, {info['cpus']} CPUs, {info['python']}")
    log(f"load average: {info['loadavg']}")
    rows: list[Row] = []
    shared: dict[str, Any] = {}
    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    for name in names:
        log(f"\n== {name}")
        began = time.perf_counter()
        try:
            module = importlib.import_module(BENCHMARKS[name])
            found = module.run(opts, shared)
        except Exception:
            log(traceback.format_exc().rstrip())
            found = [Row(name, "benchmark failed", "error", ok=False)]
        for row in found:
            log(f"  {row.metric}: {row.shown()} {row.goal} {row.verdict}".rstrip())
        log(f"  ({time.perf_counter() - began:.0f} s)")
        rows += found
    log("")
    for line in table(rows):
        log(line)
    log(f"\nload average at the end: {machine()['loadavg']}")
    target = args.output or (
        RESULTS if not (args.quick or args.only) else opts.workdir / "results.md"
    )
    target.write_text(_markdown(rows, info, started, args, output))
    print(f"\nwrote {target}")
    if not args.output and (args.quick or args.only):
        print("(a full run writes benchmarks/results.md)")
    shutil.rmtree(opts.workdir / "scratch", ignore_errors=True)
    # goals missed are results, not failures; a benchmark that crashed is one
    return 1 if any(r.metric == "benchmark failed" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
