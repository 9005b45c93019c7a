"""``jitbot reload``: every ``jitbot serve`` on this database re-reads its config file
(:mod:`bot.reload`), and this command says what each one made of it."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
import time
from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from workflows.config import ConfigError, load_config

#: how far before the request the answers are looked for: the replicas' clocks may be
#: behind this host's
CLOCK_SKEW = timedelta(minutes=5)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``reload`` (``--wait``)."""
    reload = sub.add_parser(
        "reload", help="have every running jitbot serve re-read its config (as SIGHUP does)"
    )
    reload.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="seconds to wait for each replica's answer (default 30)",
    )
    reload.set_defaults(func=cmd_reload)


def cmd_reload(args: argparse.Namespace) -> int:
    """Check the config here, record a reload request in the database, and print each
    live replica's answer. Exit 0 when every one reloaded; 1 when one refused, did not
    answer within ``--wait`` seconds, or none is running; 2 for a config that does not
    validate here (then nothing is asked of the replicas)."""
    from bot.reload import REFUSED, RELOADED
    from storage.db import create_schema, make_engine
    from storage.store import SqlStore

    settings = Settings()
    try:
        load_config(settings.jitbot_config)
    except ConfigError as exc:
        print(
            f"{settings.jitbot_config}: invalid config, nothing was reloaded:\n{exc}",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.database_url)
    create_schema(engine)
    store = SqlStore(engine)
    now = datetime.now(UTC)
    replicas = store.live_replica_names(now)
    generation = store.request_reload(f"{getpass.getuser()}@{socket.gethostname()}", now)
    if not replicas:
        print(
            "jitbot reload: no jitbot serve is running on this database (no live heartbeat);"
            " each one reads the config when it starts",
            file=sys.stderr,
        )
        return 1
    answers: dict[str, tuple[str, dict]] = {}
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline and not set(replicas) <= set(answers):
        time.sleep(0.5)
        for event in store.audit_between(since=now - CLOCK_SKEW):
            detail = event.get("detail") or {}
            if event["action"] in (RELOADED, REFUSED) and detail.get("generation") == generation:
                answers[str(detail.get("replica"))] = (event["action"], detail)
    return _report(replicas, answers, args.wait, RELOADED)


def _report(
    replicas: list[str], answers: dict[str, tuple[str, dict]], wait: float, reloaded: str
) -> int:
    """One line per replica; the exit status."""
    status = 0
    for name in sorted(set(replicas) | set(answers)):
        if name not in answers:
            print(f"{name}: no answer within {wait:g} s (the config it serves is unchanged)")
            status = 1
            continue
        action, detail = answers[name]
        if action == reloaded:
            print(
                f"{name}: reloaded {detail.get('file')} (sha256 {str(detail.get('sha256'))[:12]})"
            )
        else:
            print(f"{name}: refused, its config stays in force: {detail.get('reason')}")
            status = 1
    return status
