"""Where the bot's time goes, with cProfile in the bot process (not part of the table).

``python -m benchmarks.profiling`` approves 40 pending requests by calling
``Services.decide`` directly, then ends their sessions with ``Services.sweep``, each
under cProfile in the bot process, and prints the functions with the most cumulative
time, plus the time spent waiting on Slack's Web API (``WebClient.api_call``), AWS
(``BaseClient._make_api_call``) and the database (``Session.execute`` / ``commit``).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import start_world
from benchmarks.host import BotHost, spec_for

SPOTS = {
    "Slack Web API (WebClient.api_call)": ("slack_sdk/web/base_client.py", "api_call"),
    "AWS (BaseClient._make_api_call)": ("botocore/client.py", "_make_api_call"),
    "SQL (Session.execute)": ("sqlalchemy/orm/session.py", "execute"),
    "SQL (Session.commit)": ("sqlalchemy/orm/session.py", "commit"),
    "store.get / _reload": ("storage/store.py", "get"),
}


def _profiled(action: Any) -> dict[str, Any]:
    profile = cProfile.Profile()
    profile.enable()
    action()
    profile.disable()
    stats = pstats.Stats(profile)
    total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
    spots = {}
    for label, (path, name) in SPOTS.items():
        spots[label] = sum(
            v[3]
            for (file, _, func), v in stats.stats.items()  # type: ignore[attr-defined]
            if file.endswith(path) and func == name
        )
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(30)
    return {"total": total, "spots": spots, "text": text.getvalue()}


def decide_all(ctx: Any, request_ids: list[int]) -> dict[str, Any]:
    from workflows.domain import Person

    oscar = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")

    def action() -> None:
        for request_id in request_ids:
            ctx.rt.services.decide(request_id, oscar, True, ctx.rt.clock())

    return _profiled(action)


def expire_all(ctx: Any) -> dict[str, Any]:
    return _profiled(lambda: ctx.rt.services.sweep(ctx.rt.clock() + timedelta(hours=2)))


def main() -> None:
    world = start_world(requesters=40, workdir=Path(tempfile.mkdtemp(prefix="jitbot-prof-")))
    try:
        with BotHost(spec_for(world, "profile", http=False)) as host:
            people = [(p.slack_id, p.email, p.name) for p in world.requesters]
            ids = host.call(
                "benchmarks.host:submit_pending",
                people=people,
                count=len(people),
                account=world.aws.accounts["Sandbox"],
            )
            for what, got in (
                (
                    "decide (approve + grant), 40 requests",
                    host.call("benchmarks.profiling:decide_all", request_ids=ids),
                ),
                ("sweep ending 40 sessions", host.call("benchmarks.profiling:expire_all")),
            ):
                print(f"== {what}: {got['total'] * 1000:.0f} ms in all")
                for label, seconds in got["spots"].items():
                    print(f"   {label}: {seconds * 1000:.0f} ms ({seconds / got['total']:.0%})")
                print(got["text"])
    finally:
        world.stop()


if __name__ == "__main__":
    main()
