"""``jitbot serve --metrics-port N``: ``/metrics`` on a listener of its own, bound to
127.0.0.1 unless ``--metrics-host`` says otherwise, and then no longer on the port Slack
reaches; in HTTP mode and in Socket Mode; SIGTERM stops both listeners and exits 0.

Real processes, as an operator runs them, against a moto server and the fake Slack (for
Socket Mode, the fake's ``apps.connections.open`` hands out URLs of
:class:`~sim.slack_socket.SlackSocket`, which says hello as Slack does).
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.aws_world import seed_demo_world, start_moto_server
from sim.demo_setup import PEOPLE
from sim.fake_slack import FakeSlack
from sim.slack_socket import SlackSocket
from tests.test_e2e_http import bot_env


def free_port() -> int:
    """A port the kernel has just found free. It may hand it out again before the bot
    binds it (rarely: it cycles through its ephemeral range), so a test also checks in
    the bot's log that the port it waits on is this bot's (:func:`wait_answering`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class World:
    fake: FakeSlack
    ws: SlackSocket
    env: dict[str, str]
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def serve(self, *args: str) -> subprocess.Popen[bytes]:
        """``jitbot serve ARGS`` in a process of its own (stopped at the end)."""
        log = open(self.tmp / f"bot-{len(self.procs)}.log", "wb")  # noqa: SIM115 - the process's
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("bot-*.log")))

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """moto's server with the demo's organization, the fake Slack with the demo's people
    and the WebSocket endpoint; a config of one account. Bots started with
    :meth:`World.serve` are killed at the end if a test left one running."""
    tmp = tmp_path_factory.mktemp("metrics-port")
    with contextlib.ExitStack() as stack, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        moto, endpoint = start_moto_server()
        stack.callback(moto.stop)
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        accounts = seed_demo_world().accounts
        fake = FakeSlack()
        stack.enter_context(fake)
        ws = SlackSocket(fake)
        stack.enter_context(ws)
        for email, (user_id, name) in PEOPLE.items():
            fake.add_user(user_id, email, name)
        config = tmp / "jitbot.yml"
        sandbox = {"id": accounts["Sandbox"], "owners": ["oscar@example.com"]}
        config.write_text(
            json.dumps(  # YAML reads JSON
                {
                    "admins": ["ada@example.com"],
                    "accounts": [{**sandbox, "permission_sets": ["ReadOnlyAccess"]}],
                }
            )
        )
        env = bot_env(fake, f"sqlite:///{tmp}/jitbot.db", config, endpoint)
        env["SLACK_APP_TOKEN"] = fake.app_token
        running = World(fake, ws, env, tmp)
        stack.callback(running.kill_all)
        yield running


def get(port: int, path: str) -> tuple[int, str, str]:
    """``GET http://127.0.0.1:port/path``: status, Content-Type and body."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def wait_answering(world: World, proc: subprocess.Popen[bytes], port: int, what: str) -> None:
    """Wait until ``proc`` logs that it serves ``what`` (``metrics`` or ``Slack``) on
    ``port`` and the port answers: the log says the answer is this process's (another
    test process on this machine might have taken the port first)."""
    deadline = time.monotonic() + 30
    log = world.tmp / f"bot-{world.procs.index(proc)}.log"
    line = f"serving {what} at http://"
    while time.monotonic() < deadline and proc.poll() is None:
        if any(line in t and f":{port}/" in t for t in log.read_text().splitlines()):
            with contextlib.suppress(OSError):
                get(port, "/")
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing of this bot answers on port {port}:\n{world.logs()}")


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on TCP ``port`` (Linux's
    /proc/net/tcp: little-endian hex address, state 0A is LISTEN)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _remote, state = line.split()[1:4]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def stop(world: World, proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no exit within 20 s of SIGTERM:\n{world.logs()}") from None


@pytest.fixture(scope="module")
def http_bot(world: World) -> tuple[subprocess.Popen[bytes], int, int]:
    slack_port, metrics_port = free_port(), free_port()
    proc = world.serve(
        "--http", "--host", "127.0.0.1", "--port", str(slack_port),
        "--metrics-port", str(metrics_port),
    )  # fmt: skip
    wait_answering(world, proc, slack_port, "Slack")
    wait_answering(world, proc, metrics_port, "metrics")
    return proc, slack_port, metrics_port


def test_the_metrics_port_answers_in_prometheus_text(http_bot) -> None:
    _proc, _slack, metrics = http_bot
    status, content_type, body = get(metrics, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    assert 'jitbot_requests{status="pending"} 0.0' in body
    assert "jitbot_outbox_backlog 0.0" in body
    # the metrics port serves nothing else
    assert get(metrics, "/healthz")[0] == 404
    assert get(metrics, "/slack/events")[0] == 404


def test_the_slack_port_has_no_metrics_when_they_have_a_port_of_their_own(http_bot) -> None:
    _proc, slack, _metrics = http_bot
    assert get(slack, "/metrics") == (404, "text/plain", "not found")
    assert get(slack, "/healthz")[0] == 200


def test_the_metrics_port_is_bound_to_127_0_0_1_by_default(http_bot) -> None:
    _proc, slack, metrics = http_bot
    assert listening_addresses(metrics) == {"127.0.0.1"}
    assert listening_addresses(slack) == {"127.0.0.1"}  # --host 127.0.0.1, as given


def test_sigterm_stops_both_listeners_and_exits_0(world: World, http_bot) -> None:
    proc, slack, metrics = http_bot
    assert stop(world, proc) == 0
    assert refused(slack) and refused(metrics)
    assert "stopped" in world.logs()


def test_socket_mode_serves_metrics_on_the_metrics_port_and_stops_on_sigterm(
    world: World,
) -> None:
    metrics = free_port()
    proc = world.serve("--metrics-port", str(metrics), "--port", str(free_port()))
    wait_answering(world, proc, metrics, "metrics")
    status, _type, body = get(metrics, "/metrics")
    assert status == 200 and "jitbot_oldest_overdue_session_seconds 0.0" in body
    assert listening_addresses(metrics) == {"127.0.0.1"}
    world.fake.wait_for(lambda: world.ws.connections >= 1 or None, 10)
    assert world.fake.calls_to("apps.connections.open")
    assert stop(world, proc) == 0
    assert refused(metrics)


def test_metrics_host_binds_where_it_is_told(world: World) -> None:
    metrics = free_port()
    proc = world.serve(
        "--metrics-port", str(metrics), "--metrics-host", "0.0.0.0", "--port", str(free_port())
    )
    wait_answering(world, proc, metrics, "metrics")
    assert listening_addresses(metrics) == {"0.0.0.0"}
    assert stop(world, proc) == 0


def test_socket_mode_answers_healthz_and_metrics_on_its_port_with_the_websockets_state(
    world: World,
) -> None:
    """Socket Mode has no Slack port, but readiness probes and scrapes need one: --port
    answers /healthz (saying whether the websocket to Slack is open) and /metrics, and
    nothing else (Slack comes over the websocket, not to /slack/events)."""
    port = free_port()
    proc = world.serve("--host", "127.0.0.1", "--port", str(port))
    wait_answering(world, proc, port, "healthz and metrics")
    world.fake.wait_for(lambda: world.ws.connections >= 1 or None, 10)
    deadline = time.monotonic() + 10
    while True:
        status, _type, body = get(port, "/healthz")
        if '"connected"' in body or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == 200, body
    assert json.loads(body)["socket_mode"] == "connected"
    status, _type, body = get(port, "/metrics")
    assert status == 200 and "jitbot_oldest_overdue_session_seconds" in body
    assert get(port, "/slack/events")[0] == 404
    assert stop(world, proc) == 0
    assert refused(port)
