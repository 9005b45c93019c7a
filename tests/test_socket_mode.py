"""End to end in Socket Mode, as Slack drives it: a ``jitbot serve`` process (no
``--http``) whose ``SLACK_API_URL`` points at the fake Slack, whose
``apps.connections.open`` hands out URLs of :class:`~sim.slack_socket.SlackSocket` (a
WebSocket server on the ``websockets`` package, no part of the product), and whose
``AWS_ENDPOINT_URL`` points at the Identity Center stand-in in front of a moto server.
People act through :class:`~sim.slack_socket.SocketUser`: the payloads of the HTTP tests,
sent as envelopes, each answer an ack.

One bot process for the module (one for each pytest-xdist worker that runs some of its
tests); each test stands on its own, in any order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from sim.aws_standin import AwsStandin
from sim.aws_world import DemoWorld, assignments, seed_demo_world, start_moto_server
from sim.demo_setup import PEOPLE
from sim.fake_slack import FakeSlack
from sim.slack_socket import SlackSocket, SocketUser
from tests.test_e2e_http import approval_dm, bot_env, free_port


@dataclass
class Bot:
    world: DemoWorld
    fake: FakeSlack
    socket: SlackSocket
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def user(self, name: str) -> SocketUser:
        return SocketUser(self.fake, PEOPLE[f"{name}@example.com"][0], self.socket)

    def healthz(self) -> tuple[int, dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())

    def wait_healthz(self, state: str) -> dict[str, Any]:
        """Wait until ``/healthz`` says the websocket is ``state``; its answer."""
        return self.fake.wait_for(lambda: (h := self.healthz()[1])["socket_mode"] == state and h)

    def request_modal(self, user: SocketUser) -> dict[str, Any]:
        """Type ``/jit``: it must be acked (no ack raises), then the request modal opens."""
        before = {v["id"] for v in self.fake.open_modals(user.user_id)}
        assert user.slash("/jit").status == 200
        return self.fake.wait_for(
            lambda: next(
                (
                    v
                    for v in self.fake.open_modals(user.user_id)
                    if v.get("callback_id") == ids.CALLBACK_REQUEST and v["id"] not in before
                ),
                None,
            )
        )

    def refusals(self) -> list[str]:
        return [f"{c.method}: {c.response}" for c in self.fake.calls if not c.response.get("ok")]


def write_config(path: Path, world: DemoWorld) -> None:
    path.write_text(f"""
admins: [ada@example.com]
accounts:
  - id: "{world.accounts["Sandbox"]}"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
durations: [1h]
""")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("socket-mode")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        moto, endpoint = start_moto_server()
        standin = AwsStandin(endpoint, op_seconds=0.3)
        patch.setenv("AWS_ENDPOINT_URL", standin.url)
        fake = FakeSlack().start()
        slack_socket = SlackSocket(fake).start()
        proc = None
        try:
            world = seed_demo_world()
            for email, (user_id, name) in PEOPLE.items():
                fake.add_user(user_id, email, name)
            write_config(tmp / "jitbot.yml", world)
            env = bot_env(fake, f"sqlite:///{tmp}/jitbot.db", tmp / "jitbot.yml", standin.url)
            del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none
            env["SLACK_APP_TOKEN"] = fake.app_token
            port, log = free_port(), tmp / "bot.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
                    + ["--port", str(port)],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            running = Bot(world, fake, slack_socket, proc, port, log)
            slack_socket.wait_connections(1, timeout=30)
            yield running
        finally:
            if proc is not None and proc.poll() is None:
                proc.terminate()  # SIGTERM's prompt stop: tests/test_metrics_port.py
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            slack_socket.stop()
            fake.stop()
            standin.stop()
            moto.stop()


def test_healthz_answers_with_the_socket_connected_and_the_start_logs_no_warning(
    bot: Bot,
) -> None:
    health = bot.wait_healthz("connected")
    assert bot.healthz()[0] == 200, health
    started = bot.log.read_text()
    assert "connected to Slack in Socket Mode" in started
    assert [line for line in started.splitlines() if " WARNING " in line or " ERROR " in line] == []


def test_jit_is_acked_and_opens_the_request_modal(bot: Bot) -> None:
    view = bot.request_modal(bot.user("alice"))
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["AWS account", "Duration", "Justification"]


def test_a_submission_and_the_owners_approve_grant_access(bot: Bot) -> None:
    alice, oscar = bot.user("alice"), bot.user("oscar")
    view = bot.request_modal(alice)
    sandbox = bot.world.accounts["Sandbox"]
    assert alice.select_in_view(view, ids.ACTION_ACCOUNT, sandbox).status == 200
    view = bot.fake.wait_for(
        lambda: (
            (v := alice.latest_view())
            and any(b.get("block_id") == ids.BLOCK_PERMISSION_SET for b in v["blocks"])
            and v
        )
    )
    submitted = alice.submit(
        view,
        {
            ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: "Investigating failed deploys in OPS-1234",
        },
    )
    assert submitted.status == 200 and submitted.problems == []
    assert bot.fake.open_modals(alice.user_id) == [], "the ack closed the modal"
    asked = bot.fake.wait_for(lambda: approval_dm(bot.fake, oscar, 1))
    assert "OPS-1234" in asked.text + str(asked.blocks)
    assert assignments(bot.world) == []

    assert oscar.click(asked, ids.ACTION_APPROVE).status == 200
    bot.fake.wait_for(lambda: assignments(bot.world), timeout=10)
    assert assignments(bot.world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]


def test_after_slacks_refresh_disconnect_the_next_command_is_acked_in_time(bot: Bot) -> None:
    """Slack's ``disconnect`` (refresh_requested): the bot opens a new connection and
    the ``/jit`` Slack holds meanwhile is acked there in time for its trigger_id
    (3 s from the moment it was typed) to open the modal."""
    connections = bot.socket.connections
    bot.socket.refresh()
    bot.request_modal(bot.user("alice"))
    assert bot.socket.connections > connections
    assert not [r for r in bot.refusals() if "trigger_id" in r]
    assert bot.wait_healthz("connected")


def test_after_a_dropped_connection_the_bot_reconnects_and_serves(bot: Bot) -> None:
    connections = bot.socket.connections
    bot.socket.drop()
    bot.request_modal(bot.user("olga"))
    assert bot.socket.connections > connections
    assert not [r for r in bot.refusals() if "trigger_id" in r]
    assert bot.wait_healthz("connected")


def test_a_refused_app_token_is_one_line_and_exit_2(bot: Bot, tmp_path: Path) -> None:
    write_config(tmp_path / "jitbot.yml", bot.world)
    env = bot_env(bot.fake, f"sqlite:///{tmp_path}/j.db", tmp_path / "jitbot.yml", "http://x")
    env["SLACK_APP_TOKEN"] = "xapp-not-this-apps"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, timeout=60
    )
    lines = [line for line in done.stderr.decode().splitlines() if " INFO alembic." not in line]
    assert done.returncode == 2
    assert len(lines) == 1 and "invalid_auth" in lines[0], lines
    assert not (tmp_path / "j.db").exists(), "no migration ran"
