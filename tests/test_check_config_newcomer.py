"""``jitbot check-config`` for someone who has set nothing yet: each variable the chosen
mode needs, the config path it looked for, and where README says what to set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing set, in an empty folder."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "JITBOT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_http_mode_names_each_missing_variable_the_path_and_readme(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--http"]) == 1
    out = capsys.readouterr().out
    assert "✗ SLACK_BOT_TOKEN: not set" in out
    assert "✗ SLACK_SIGNING_SECRET: not set" in out and "HTTP mode" in out
    assert "SLACK_APP_TOKEN" not in out
    assert f"✗ JITBOT_CONFIG: no config file at {bare / 'jitbot.yml'}" in out
    assert "file not found" not in out
    assert '3 problem(s) found. What to set: README.md, "Running it for real"' in out


def test_socket_mode_asks_for_the_app_token(
    bare: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-set")
    monkeypatch.setenv("JITBOT_CONFIG", str(bare / "conf" / "bot.yml"))
    assert main(["check-config", "--socket"]) == 1
    out = capsys.readouterr().out
    assert "✗ SLACK_APP_TOKEN: not set (the App-Level Token" in out
    assert "SLACK_BOT_TOKEN: not set" not in out and "SIGNING_SECRET" not in out
    assert f"no config file at {bare / 'conf' / 'bot.yml'}" in out
    assert "2 problem(s) found." in out


def test_no_mode_told_names_the_bot_token_and_both_flags(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config"]) == 1
    out = capsys.readouterr().out
    assert "✗ SLACK_BOT_TOKEN: not set" in out
    assert "ℹ mode: neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET" in out
    assert "`check-config --http` or `--socket`" in out
