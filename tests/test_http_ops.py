"""Operations endpoints over HTTP: ``/healthz`` says whether the database and AWS answer,
``/metrics`` speaks Prometheus's text format with what an operator watches."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from bot import ids
from bot.metrics import Metrics
from sim.aws_world import DemoWorld
from tests.bot_harness import Bot, running_bot
from tests.conftest import world_config
from workflows.assignments import AwsError
from workflows.states import Status


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running


def get(bot: Bot, path: str) -> tuple[int, str]:
    url = bot.url.replace("/slack/events", path)
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_healthz_is_200_when_the_database_and_aws_answer(bot: Bot) -> None:
    status, body = get(bot, "/healthz")
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "database": "ok",
        "aws": "ok",
        "outbox_backlog": 0,
    }


def test_healthz_is_503_naming_aws_when_identity_center_does_not_answer(bot: Bot) -> None:
    def unreachable(**_kwargs: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sso.us-east-1.amazonaws.com")

    bot.rt.aws._client("sso-admin").meta.events.register(
        "before-call.sso-admin.ListPermissionSets", unreachable
    )
    status, body = get(bot, "/healthz")
    assert status == 503
    answer = json.loads(body)
    assert answer == {"status": "unhealthy", "database": "ok", "aws": "failed", "outbox_backlog": 0}
    # anyone can reach /healthz: the endpoint, hosts and ARNs stay in the log
    assert "amazonaws" not in body and "arn:" not in body


def test_healthz_names_no_host_or_path_when_the_database_fails(
    bot: Bot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot.rt.store.engine.dispose()
    (tmp_path / "j.db").unlink()
    (tmp_path / "j.db").mkdir()
    with caplog.at_level("WARNING", logger="jitbot.http"):
        status, body = get(bot, "/healthz")
    assert status == 503
    assert json.loads(body)["database"] == "failed"
    assert str(tmp_path) not in body
    assert any("database does not answer" in r.getMessage() for r in caplog.records)


def test_healthz_is_503_when_the_database_is_gone(bot: Bot, tmp_path: Path) -> None:
    bot.rt.store.engine.dispose()
    (tmp_path / "j.db").unlink()
    (tmp_path / "j.db").mkdir()  # not a database any more
    status, body = get(bot, "/healthz")
    assert status == 503 and json.loads(body)["database"] != "ok"


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if (
            line.startswith(name + " ")
            or line.startswith(name + "{")
            and line.split(" ")[0] == name
        ):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics:\n{text}")


def test_metrics_count_requests_by_status_and_time_grants(bot: Bot) -> None:
    request = bot.request_access()
    status, text = get(bot, "/metrics")
    assert status == 200
    assert metric(text, 'jitbot_requests{status="pending"}') == 1
    assert metric(text, 'jitbot_requests{status="active"}') == 0

    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    bot.settle()
    _, text = get(bot, "/metrics")
    assert metric(text, 'jitbot_requests{status="active"}') == 1
    assert metric(text, "jitbot_grant_seconds_count") == 1
    assert metric(text, "jitbot_outbox_backlog") == 0
    assert metric(text, "jitbot_oldest_overdue_session_seconds") == 0


def test_metrics_show_an_overdue_session_and_the_outbox_backlog(bot: Bot) -> None:
    request = bot.request_access()
    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    bot.settle()
    ends = active.session.expires_at
    # AWS refuses to remove it, Slack is down: the session stays Active past its end
    # and the admins' alert waits in the outbox
    bot.rt.services.aws.unassign = _fail  # type: ignore[method-assign]
    bot.fake.go_down()
    bot.rt.services.sweep(ends)
    bot.rt.metrics = Metrics(bot.rt.store, lambda: ends + timedelta(seconds=42))
    _, text = get(bot, "/metrics")
    assert metric(text, "jitbot_oldest_overdue_session_seconds") == 42
    assert metric(text, "jitbot_outbox_backlog") >= 1
    bot.fake.come_back()


def _fail(_assignment: Any) -> None:
    raise AwsError("ThrottlingException: Rate exceeded", code="ThrottlingException")
