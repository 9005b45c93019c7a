"""Socket Mode's app-level token: a refused one is one line and exit 2 from ``jitbot
serve`` before any migration runs, and a problem of ``jitbot check-config``'s."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.checks_socket import app_token_problem
from bot.settings import Settings
from sim.fake_slack import FakeSlack

CONFIG = """
admins: [ada@example.com]
accounts:
  - id: "111111111111"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
"""


@pytest.fixture
def fake() -> FakeSlack:
    with FakeSlack() as running:
        yield running


def settings(fake: FakeSlack, app_token: str | None) -> Settings:
    return Settings(slack_bot_token=fake.token, slack_app_token=app_token, slack_api_url=fake.url)


def test_the_right_app_token_is_no_problem(fake: FakeSlack) -> None:
    assert app_token_problem(settings(fake, fake.app_token)) is None


@pytest.mark.parametrize(
    ("token", "error"), [("xapp-wrong", "invalid_auth"), ("xoxb-fake", "not_allowed_token_type")]
)
def test_a_refused_app_token_says_what_is_needed(fake: FakeSlack, token: str, error: str) -> None:
    problem = app_token_problem(settings(fake, token))
    assert problem is not None and error in problem
    assert "xapp-" in problem and "connections:write" in problem


def test_serve_exits_2_with_one_line_before_migrations(fake: FakeSlack, tmp_path: Path) -> None:
    config = tmp_path / "jitbot.yml"
    config.write_text(CONFIG)
    database = tmp_path / "jitbot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "JITBOT"))}
    env.update(
        SLACK_BOT_TOKEN=fake.token,
        SLACK_APP_TOKEN=fake.token,  # a bot token where the app-level one belongs
        SLACK_API_URL=fake.url,
        DATABASE_URL=f"sqlite:///{database}",
        JITBOT_CONFIG=str(config),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, timeout=60
    )
    # (alembic's plugin set-up logs at import, before anything runs)
    lines = [line for line in done.stderr.decode().splitlines() if " INFO alembic." not in line]
    assert done.returncode == 2
    assert len(lines) == 1 and "not_allowed_token_type" in lines[0] and "xapp-" in lines[0]
    assert "Traceback" not in done.stderr.decode()
    assert not database.exists(), "no migration ran"
