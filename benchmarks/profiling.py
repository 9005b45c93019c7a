"""Where the bot's time goes, with cProfile in the bot process (not part of the table).

``python -m benchmarks.profiling`` first has Oscar click Approve on 40 pending requests
over HTTP (waitress, Bolt, the listener pool: each request's handling thread and its
``Services.decide`` are profiled, per call, and summed), then approves 40 more by
calling ``Services.decide`` directly, then ends all 80 sessions with ``Services.sweep``,
each under cProfile in the bot process, and prints the functions with the most
cumulative time, plus the time spent waiting on Slack's Web API
(``WebClient.api_call``), AWS (``BaseClient._make_api_call``) and the database
(``Session.execute`` / ``commit``). Approvals are paced (a tenth of a second apart,
outside the profile) so the bot's Identity Center rate limiter never waits.
"""

from __future__ import annotations

import cProfile
import functools
import io
import pstats
import tempfile
import time
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
    "store.transition_leasing (decision + lease)": ("storage/store.py", "transition_leasing"),
}
#: seconds between two approvals, outside the profile (the limiter allows 20 calls/s)
PACE = 0.1


def _profiled(action: Any) -> dict[str, Any]:
    profile = cProfile.Profile()
    profile.enable()
    action()
    profile.disable()
    return _summary([profile])


def _summary(profiles: list[cProfile.Profile]) -> dict[str, Any]:
    stats = pstats.Stats(profiles[0])
    for more in profiles[1:]:
        stats.add(more)
    table = stats.stats  # type: ignore[attr-defined]
    total = max(v[3] for v in table.values())
    spots = {}
    for label, (path, name) in SPOTS.items():
        spots[label] = sum(
            v[3] for (file, _, func), v in table.items() if file.endswith(path) and func == name
        )
    text = io.StringIO()
    stats.stream = text  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(30)
    return {"total": total, "spots": spots, "text": text.getvalue()}


# ---- Approve clicks over HTTP, profiled in the threads that handle them -------------

_CLICKS: dict[str, list[cProfile.Profile]] = {}


def _per_call(label: str, function: Any) -> Any:
    @functools.wraps(function)
    def profiled(*args: Any, **kwargs: Any) -> Any:
        profile = cProfile.Profile()
        profile.enable()
        try:
            return function(*args, **kwargs)
        finally:
            profile.disable()
            _CLICKS.setdefault(label, []).append(profile)

    return profiled


def profile_clicks(ctx: Any) -> None:
    """In the bot: profile each HTTP request's handling (waitress thread, until Bolt's
    answer) and each ``Services.decide`` (listener pool), one profile per call."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    ctx.data["unprofiled"] = SlackRequestHandler.__call__
    handler = _per_call("HTTP request to Bolt's answer", SlackRequestHandler.__call__)
    SlackRequestHandler.__call__ = handler  # type: ignore[method-assign]
    ctx.data["decide"] = decide = ctx.rt.services.decide
    ctx.rt.services.decide = _per_call("Services.decide (listener pool)", decide)


def clicks_report(ctx: Any) -> dict[str, dict[str, Any]]:
    """The profiles of :func:`profile_clicks` (summed per label); stops profiling."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    SlackRequestHandler.__call__ = ctx.data.pop("unprofiled")  # type: ignore[method-assign]
    # as it was: an attribute Services sets itself, so ``del`` would leave none
    ctx.rt.services.decide = ctx.data.pop("decide")
    return {label: _summary(profiles) for label, profiles in _CLICKS.items()}


def decide_all(ctx: Any, request_ids: list[int]) -> dict[str, Any]:
    from workflows.domain import Person

    oscar = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")

    profile = cProfile.Profile()
    for request_id in request_ids:
        time.sleep(PACE)
        profile.enable()
        ctx.rt.services.decide(request_id, oscar, True, ctx.rt.clock())
        profile.disable()
    return _summary([profile])


def expire_all(ctx: Any) -> dict[str, Any]:
    return _profiled(lambda: ctx.rt.services.sweep(ctx.rt.clock() + timedelta(hours=2)))


def _print(what: str, got: dict[str, Any]) -> None:
    print(f"== {what}: {got['total'] * 1000:.0f} ms in all")
    for label, seconds in got["spots"].items():
        print(f"   {label}: {seconds * 1000:.0f} ms ({seconds / got['total']:.0%})")
    print(got["text"])


def main() -> None:
    from benchmarks.ack import OSCAR, delivered_approvals
    from benchmarks.common import shows_active, wait_until
    from bot import ids as slack_ids

    world = start_world(requesters=80, workdir=Path(tempfile.mkdtemp(prefix="jitbot-prof-")))
    try:
        with BotHost(spec_for(world, "profile")) as host:
            people = [(p.slack_id, p.email, p.name) for p in world.requesters]
            ids = host.call(
                "benchmarks.host:submit_pending",
                people=people,
                count=len(people),
                account=world.aws.accounts["Sandbox"],
            )
            clicked, called = ids[:40], ids[40:]
            messages = delivered_approvals(world.fake, (OSCAR,), clicked)[OSCAR]
            oscar = world.user(OSCAR, host.url)
            host.call("benchmarks.profiling:profile_clicks")
            for request_id in clicked:
                time.sleep(PACE)
                oscar.click(messages[request_id], slack_ids.ACTION_APPROVE)
                wait_until(
                    lambda m=messages[request_id]: shows_active(world.fake, m), 15, what="grant"
                )
            for label, got in host.call("benchmarks.profiling:clicks_report").items():
                _print(f"Approve clicks over HTTP, 40 requests: {label}", got)
            _print(
                "decide (approve + grant) called directly, 40 requests",
                host.call("benchmarks.profiling:decide_all", request_ids=called),
            )
            _print("sweep ending the 80 sessions", host.call("benchmarks.profiling:expire_all"))
    finally:
        world.stop()


if __name__ == "__main__":
    main()
