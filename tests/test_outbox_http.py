"""Slack failing, over HTTP: the real Bolt app and outbox worker against the fake Slack
Web API answering 429 and 5xx, and down altogether for two minutes. Access still ends on
time; every notice arrives afterwards, exactly once per thread.

The two-minute outage runs against the outbox's real 30 s backoff cap (marked ``slow``);
the fast suite sees the same outage scaled down tenfold: 12 s against a 3 s cap
(``JITBOT_OUTBOX_MAX_BACKOFF``), and asserts the same.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import ids
from sim.aws_world import DemoWorld
from tests.bot_harness import Bot, running_bot
from tests.conftest import world_config
from workflows.domain import AccessRequest
from workflows.states import Status

EXPIRED = ":black_circle: Access expired"
#: (outage, the outbox's backoff cap), seconds: the issue's two minutes against the
#: product's cap, and the same scaled down tenfold
OUTAGES = [pytest.param(120.0, 30.0, marks=pytest.mark.slow, id="120s"), (12.0, 3.0)]


@pytest.fixture
def outbox_max_backoff() -> float:
    return 30.0


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path, outbox_max_backoff: float) -> Iterator[Bot]:
    config = world_config(moto_world)
    with running_bot(moto_world, tmp_path, config, outbox_max_backoff=outbox_max_backoff) as bot:
        yield bot


def granted(bot: Bot, permission_set: str = "ReadOnlyAccess") -> AccessRequest:
    request = bot.request_access(permission_set=permission_set)
    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    return bot.get(request.id)


def expiry_replies(bot: Bot, request: AccessRequest) -> list[list[str]]:
    return [
        [text for text in bot.replies(root) if text.startswith(EXPIRED)]
        for root in bot.roots(request)
    ]


def test_slack_answering_429_and_500_for_a_while_delays_the_notices_only(bot: Bot) -> None:
    request = granted(bot)
    bot.settle()
    bot.fake.fail_next("chat.postMessage", status=429, retry_after=1, times=3)
    bot.fake.fail_next("chat.update", status=500, times=3)
    for _ in range(3):
        bot.expect_refusal("chat.postMessage", "ratelimited")
        bot.expect_refusal("chat.update", "fatal_error")

    bot.rt.services.sweep(request.session.expires_at)
    assert bot.get(request.id).status == Status.EXPIRED and not bot.assigned(request)
    for root in bot.roots(request):
        bot.wait_reply(root, EXPIRED, timeout=30)
    bot.settle()
    assert all(len(r) == 1 for r in expiry_replies(bot, request)), "each thread once"
    assert all(
        "Expired" in root.text or "Expired" in str(root.blocks) for root in bot.roots(request)
    )
    assert bot.unexpected_refusals() == []


@pytest.mark.parametrize(("outage", "outbox_max_backoff"), OUTAGES)
def test_with_slack_down_for_two_minutes_access_ends_on_time_and_every_notice_arrives_once(
    bot: Bot, outage: float
) -> None:
    requests = [granted(bot, "ReadOnlyAccess"), granted(bot, "AdministratorAccess")]
    bot.settle()
    before = len(bot.fake.calls)

    bot.fake.go_down(status=503)
    started = time.monotonic()
    for request in requests:
        bot.rt.services.sweep(request.session.expires_at)
    for request in requests:  # AWS answered: the access is gone while Slack is down
        assert bot.get(request.id).status == Status.EXPIRED
        assert not bot.assigned(request)
    assert bot.rt.store.outbox_backlog()[0] > 0, "the notices wait in the outbox"
    time.sleep(max(0.0, outage - (time.monotonic() - started)))
    refused_during_outage = [c for c in bot.fake.calls[before:] if not c.response.get("ok")]
    bot.fake.come_back()

    for request in requests:
        for root in bot.roots(request):
            bot.wait_reply(root, EXPIRED, timeout=45)
    bot.settle()
    for request in requests:
        replies = expiry_replies(bot, request)
        assert len(replies) == 3 and all(len(r) == 1 for r in replies), replies
    assert refused_during_outage, "the bot did try during the outage"
    print(f"\n{len(refused_during_outage)} calls refused in the {outage:.0f} s outage")
    assert len(refused_during_outage) < outage * 2, "and backed off rather than hammer"
    assert bot.rt.store.outbox_backlog()[0] == 0
