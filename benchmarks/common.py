"""What the benchmarks share: result rows, percentiles, the machine, waiting and the
closed-loop load generator. The world the bot runs against is :mod:`benchmarks.world`
(re-exported here)."""

from __future__ import annotations

import gc
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.world import (  # noqa: F401 - re-exported for the benchmarks
    REGION,
    MotoProcess,
    Person,
    World,
    aws_env,
    config_text,
    requester,
    start_world,
)

T = TypeVar("T")

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

#: The demo's people: Oscar and Olga own Sandbox, Olga owns Production, Ada is admin.
OWNERS = ("oscar@example.com", "olga@example.com")


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    """One number of one benchmark, with its goal (``ok`` None when it has none)."""

    bench: str
    metric: str
    value: float | int | str | None
    unit: str = ""
    goal: str = ""
    ok: bool | None = None
    note: str = ""

    def shown(self) -> str:
        v = self.value
        if v is None:
            return "n/a"
        if isinstance(v, float):
            text = f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}" if abs(v) < 1000 else f"{v:,.0f}"
        elif isinstance(v, int):
            text = f"{v:,}"
        else:
            text = str(v)
        return f"{text} {self.unit}".strip()

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: ""}[self.ok]


@dataclass
class Options:
    quick: bool = False
    only: list[str] = field(default_factory=list)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jitbot-bench-")))
    log: Callable[[str], None] = print


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (``p`` in 0..100) of ``values``."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def paired_ratio_interval(
    numerators: Sequence[float],
    denominators: Sequence[float],
    rounds: int = 2000,
    level: float = 95.0,
    seed: int = 0,
) -> tuple[float, float]:
    """A ``level``% bootstrap interval of ``p50(numerators) / p50(denominators)`` where
    the i-th values of both were measured together (a round): rounds are resampled with
    replacement, keeping each pair, ``rounds`` times (a fixed ``seed``, so a result can
    be recomputed). Says how far the ratio could move on another run of as many samples
    on an equally noisy machine, not how far the machine's speed can move it."""
    import random

    if len(numerators) != len(denominators) or not numerators:
        raise ValueError("need as many numerators as denominators, at least one")
    pick = random.Random(seed)
    n = len(numerators)
    ratios = []
    for _ in range(rounds):
        chosen = [pick.randrange(n) for _ in range(n)]
        ratios.append(
            percentile([numerators[i] for i in chosen], 50)
            / percentile([denominators[i] for i in chosen], 50)
        )
    tail = (100.0 - level) / 2
    return percentile(ratios, tail), percentile(ratios, 100.0 - tail)


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of durations in seconds, as milliseconds."""
    return {
        "p50": percentile(values, 50) * 1000,
        "p95": percentile(values, 95) * 1000,
        "p99": percentile(values, 99) * 1000,
        "max": max(values) * 1000 if values else math.nan,
    }


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "loadavg": " ".join(f"{x:.2f}" for x in load),
    }


def _status_mb(field: str) -> float:
    """A ``/proc/self/status`` size field (``VmRSS``, ``VmHWM``; KiB there), MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return math.nan


def rss_mb() -> float:
    """Resident set size now (``VmRSS``), MiB."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Highest resident set size of this process's own memory so far (``VmHWM``), MiB.

    Not ``getrusage``'s ``ru_maxrss``: Linux carries that over ``execve``, so a process
    started with multiprocessing's spawn reported the size of the process it was forked
    from (703 MiB for a 101 MiB idle bot until 2026-11-29); ``VmHWM`` belongs to the
    address space, which ``execve`` replaces (proc(5))."""
    return _status_mb("VmHWM")


def wait_until(
    check: Callable[[], T], timeout: float, interval: float = 0.01, what: str = "condition"
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def table(rows: Iterable[Row]) -> list[str]:
    """The rows as a Markdown table."""
    out = [
        "| benchmark | metric | value | goal | result |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for r in rows:
        metric = r.metric + (f" ({r.note})" if r.note else "")
        out.append(f"| {r.bench} | {metric} | {r.shown()} | {r.goal} | {r.verdict} |")
    return out


@dataclass
class Sample:
    ack: float  # seconds until the HTTP answer
    done: float | None  # seconds until the effect was seen (None: not seen in time)
    ok: bool  # HTTP 200


def closed_loop(
    senders: int, per_sender: int, action: Callable[[int, int], Sample]
) -> list[Sample]:
    """``senders`` threads, each calling ``action(sender, i)`` ``per_sender`` times in a
    row (each simulated person waits for the result before acting again)."""
    import threading

    results: list[Sample] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(senders)

    def worker(sender: int) -> None:
        try:
            barrier.wait()
            for i in range(per_sender):
                sample = action(sender, i)
                with lock:
                    results.append(sample)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in range(senders)]
    # No garbage collection in the load generator while it measures: the fake Slack keeps
    # every view and message it was sent, and a full pass over them stopped the senders'
    # threads for up to 100 ms, counted in the latencies (the bot itself is not affected).
    gc.disable()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        gc.enable()
    if errors:
        raise errors[0]
    return results


def shows_active(fake: Any, message: Any) -> bool:
    """Whether the approver's DM ``message`` now shows the request Active (the grant is
    done and the DM re-rendered; re-renders are coalesced, so count none)."""
    from sim.fake_slack import blocks_to_text

    live = fake.message(message.channel, message.ts)
    return live is not None and "Active" in f"{live.text}\n{blocks_to_text(live.blocks)}"
