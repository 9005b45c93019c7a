"""A reminder that fell due while the bot was down (SIGKILLed) is sent once the bot is
back, once (issue 19, point 6): the bot as a real ``jitbot serve --http`` process
against moto's server behind the Identity Center stand-in, the fake Slack, SQLite.
Real time and processes (a few seconds)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_e2e_http import thread_replies
from tests.test_replicas import World, ask, wait_until, world

#: a spawned bot SIGKILLed and restarted (about 40 s): with the other replica tests, in -m slow
pytestmark = pytest.mark.slow

FIRST = 6  # seconds: reminders.first


@pytest.fixture
def reminding_world(tmp_path: Path) -> Iterator[World]:
    with world(tmp_path, f"sqlite:///{tmp_path}/jitbot.db") as w:
        config = w.tmp / "jitbot.yml"
        config.write_text(config.read_text() + f"reminders: {{first: {FIRST}s, backoff: 100}}\n")
        yield w


def test_a_reminder_due_while_the_bot_was_killed_is_sent_once_after_the_restart(
    reminding_world: World,
) -> None:
    w = reminding_world
    bot = w.replica()
    bot.start_bot()
    try:
        _alice, oscar, message = ask(bot, "1h")
        bot.kill_bot()  # before the first reminder fell due
        request = w.store.get(1)
        assert request is not None
        due = request.requested_at.timestamp() + FIRST
        time.sleep(max(0.0, due - time.time()) + 1)
        assert not [t for t in thread_replies(w.fake, message) if "Reminder" in t]

        bot.start_bot()  # the start-up sweep sends what fell due while it was down
        wait_until(
            lambda: any("Reminder" in t for t in thread_replies(w.fake, message)),
            10,
            "the reminder in Oscar's thread",
        )
        time.sleep(2.5)  # two more sweeps
        said = [t for t in thread_replies(w.fake, message) if "Reminder" in t]
        assert len(said) == 1, said
        assert "Alice" in said[0]
        reminded = [e for e in w.store.audit_events(1) if e["action"] == "reminded"]
        assert len(reminded) == 1 and oscar.user_id in reminded[0]["detail"]["approvers"]
    finally:
        bot.stop_bot()
