"""A database jitbot cannot write is said in one line naming the path and the uid, not a
traceback; and a start-up's log carries no Alembic set-up noise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.__main__ import run


def test_db_upgrade_into_a_missing_folder_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "no-such-volume" / "jitbot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert run(["db", "upgrade"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == [
        f"jitbot: cannot write the database {path} as uid {os.getuid()} (gid {os.getgid()}): "
        f"its folder does not exist; make {path.parent} writable by that uid, or set DATABASE_URL"
    ]
    assert not path.parent.exists()


def db_upgrade(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``jitbot db upgrade`` in a process of its own, with ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_file_where_the_folder_should_be_is_one_line_from_a_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").write_text("not a folder")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/data/jitbot.db")
    env.update(SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s", JITBOT_CONFIG="/nonexistent")
    done = db_upgrade(env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and f"{tmp_path}/data/jitbot.db as uid" in done.stderr


def test_db_upgrade_logs_migrations_without_alembic_set_up_lines(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/jitbot.db")
    done = db_upgrade(env)
    assert done.returncode == 0, done.stderr
    assert "Running upgrade  -> 0001" in done.stderr
    for noise in ("Context impl", "Will assume", "alembic.runtime.plugins"):
        assert noise not in done.stderr
