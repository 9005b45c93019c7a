"""6. Memory: resident set size of the bot process (``VmRSS`` from /proc/self/status;
peak from its ``VmHWM``: see :func:`benchmarks.common.peak_rss_mb`).

Idle: a fresh bot process (runtime built, waitress listening, scheduler started) after
3 s without traffic. After the mass expiry: the bot process of the mass-expiry run, idle
at start and once its sessions were all revoked (run here, in its quick form, when
mass-expiry did not run in this invocation).
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.common import Options, Row, start_world
from benchmarks.host import BotHost, spec_for

NAME = "memory"


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    world = start_world(requesters=0, workdir=opts.workdir)
    try:
        with BotHost(spec_for(world, NAME, http=True, scheduler=True)) as host:
            time.sleep(3)
            idle = host.call("benchmarks.host:rss")
    finally:
        world.stop()
    rows = [
        Row(
            NAME,
            "idle bot (HTTP + scheduler): RSS",
            idle["rss_mb"],
            "MiB",
            note=f"peak {idle['peak_mb']:.0f} MiB",
        ),
    ]
    if "memory" not in shared:
        from benchmarks import mass_expiry

        quick = Options(quick=True, only=opts.only, workdir=opts.workdir, log=opts.log)
        opts.log("  memory: running the quick mass expiry to measure after it")
        mass_expiry._scenario(quick, shared, 150, 5.0, 0.0, "memory")
    got = shared["memory"]
    label = shared.get("memory_label", "mass expiry")
    rows += [
        Row(NAME, f"mass-expiry bot, before ({label}): RSS", got["idle"]["rss_mb"], "MiB"),
        Row(
            NAME,
            "mass-expiry bot, after: RSS",
            got["after"]["rss_mb"],
            "MiB",
            note=f"peak {got['after']['peak_mb']:.0f} MiB",
        ),
        Row(
            NAME,
            "growth over the mass expiry",
            got["after"]["rss_mb"] - got["idle"]["rss_mb"],
            "MiB",
        ),
    ]
    return rows
