"""The ``jitbot`` command line: check-config against moto and the fake Slack, serve's
refusals, and the demo itself."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from sim.aws_world import DemoWorld
from sim.demo_setup import PEOPLE
from sim.fake_slack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        for email, (user_id, name) in PEOPLE.items():
            slack.add_user(user_id, email, name)
        yield slack


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeSlack) -> Path:
    config = tmp_path / "jitbot.yml"
    monkeypatch.setenv("JITBOT_CONFIG", str(config))
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
    monkeypatch.setenv("SLACK_API_URL", fake.url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/jitbot.db")
    for name in ("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return config


def test_check_config_passes_on_a_good_setup(
    moto_world: DemoWorld, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.write_text(f"""
admins: [ada@example.com]
accounts:
  - id: "{moto_world.accounts["Sandbox"]}"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
""")
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "look good" in out
    assert f"Identity Center instance {moto_world.instance_arn}" in out and "in us-east-1" in out


def test_check_config_prints_every_problem_and_exits_1(
    moto_world: DemoWorld, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.write_text(f"""
admins: [ada@example.com]
accounts:
  - id: "{moto_world.accounts["Sandbox"]}"
    owners: [oscar@example.com, ghost@example.com]
    permission_sets: [ReadOnlyAccess, PowerUserAccess]
""")
    assert main(["check-config"]) == 1
    out = capsys.readouterr().out
    assert "accounts[0].permission_sets[1]: no permission set named 'PowerUserAccess'" in out
    assert "accounts[0].owners[1]: no active Slack user with email ghost@example.com" in out
    assert "2 problem(s) found." in out


def test_check_config_names_a_person_identity_center_does_not_know(
    moto_world: DemoWorld, env: Path, fake: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_user("U0NEW", "newcomer@corp.com", "New Comer")
    env.write_text(f"""
admins: [ada@example.com, newcomer@corp.com]
accounts:
  - id: "{moto_world.accounts["Sandbox"]}"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
identity:
  email_domains: {{corp.com: example.com}}
""")
    assert main(["check-config"]) == 1
    out = capsys.readouterr().out
    assert (
        "admins[1]: no Identity Center user (looked up: newcomer@corp.com and "
        "newcomer@example.com)" in out
    )
    assert "1 problem(s) found." in out


def test_check_config_names_the_key_path_of_a_bad_value(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.write_text("""
accounts:
  - id: "111111111111"
    owners: [oscar@example.com]
  - id: "222222222222"
    owners: [not-an-email]
""")
    assert main(["check-config"]) == 1
    assert "accounts[1].owners[0]: not an email address or a Slack user" in capsys.readouterr().out


def test_serve_says_which_settings_are_missing(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert main(["serve", "--http"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "SLACK_SIGNING_SECRET" in err


def test_demo_prints_the_whole_lifecycle(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.demo import run_demo

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    out = io.StringIO()
    assert run_demo(session_seconds=3, out=out) == 0
    text = out.getvalue()
    for seen in (
        "[modal for @alice] opened",
        "Justification must be at least 10 characters",
        "[DM @oscar] jitbot:",
        "[ephemeral to @bob] :warning: There is no request #1 that you can see.",
        "account assignment: alice@example.com → ReadOnlyAccess on Sandbox",
        "Access expired",
        "Rejected by Olga Owner",
    ):
        assert seen in text, seen
    assert text.rstrip().endswith("see README.md to run jitbot for real.")


def test_db_upgrade_migrates_an_empty_database(env: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["db", "upgrade"]) == 0
    assert "empty -> 0012" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "0012 -> 0012" in capsys.readouterr().out


def test_audit_export_writes_the_events_between_two_times(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv as csv_module
    import json as json_module
    from datetime import UTC, datetime

    from storage.db import make_engine, upgrade
    from storage.store import SqlStore

    url = f"sqlite:///{env.parent}/audit.db"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    store = SqlStore(engine)
    for day in (1, 2, 3):
        store.audit(
            day,
            "ada@example.com",
            "revoked",
            datetime(2026, 11, day, 9, tzinfo=UTC),
            {"reason": f"day {day}"},
        )
    assert main(["audit", "export", "--since", "2026-11-02", "--until", "2026-11-03"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json_module.loads(line)["detail"] for line in lines] == [{"reason": "day 2"}]
    assert main(["audit", "export", "--format", "csv"]) == 0
    rows = list(csv_module.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["id", "at", "request_id", "actor", "action", "detail"]
    assert [r[2] for r in rows[1:]] == ["1", "2", "3"]


def test_each_committed_audit_event_is_logged_as_one_json_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import json as json_module
    from datetime import UTC, datetime

    from storage.db import make_engine, upgrade
    from storage.store import SqlStore

    engine = make_engine(f"sqlite:///{tmp_path}/log.db")
    upgrade(engine)
    with caplog.at_level("INFO", logger="jitbot.audit"):
        SqlStore(engine).audit(
            7, "oscar@example.com", "approved", datetime(2026, 11, 22, tzinfo=UTC)
        )
    [record] = [r for r in caplog.records if r.name == "jitbot.audit"]
    event = json_module.loads(record.getMessage())
    assert event["action"] == "approved" and event["request_id"] == 7
    assert event["at"] == "2026-11-22T00:00:00+00:00"


def test_json_log_lines_carry_level_logger_and_message() -> None:
    import json as json_module
    import logging

    from bot.cli import JsonFormatter

    record = logging.LogRecord(
        "jitbot.aws", logging.WARNING, __file__, 1, "throttled %s", ("x",), None
    )
    line = json_module.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "jitbot.aws"
    assert line["message"] == "throttled x" and line["ts"].endswith("+00:00")
