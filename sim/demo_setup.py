"""The cast and stage of ``jitbot demo``: the people in Slack, the demo's ``jitbot.yml``,
and the bot started for real (a runtime on SQLite in a temporary folder, served over HTTP
by waitress) against the fake Slack and moto (behind :mod:`sim.aws_standin`).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.http import make_server
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from sim.aws_world import DemoWorld, seed_demo_world
from sim.demo_watch import Printer
from sim.fake_slack import FakeSlack
from sim.people import SlackUser
from workflows.config import parse_config

__all__ = ["PEOPLE", "DemoBot", "DemoRun", "demo_config", "start_bot"]

#: email -> (Slack user id, real name) of the people in the demo's workspace
PEOPLE = {
    "alice@example.com": ("U01ALICE", "Alice Archer"),
    "oscar@example.com": ("U02OSCAR", "Oscar Owner"),
    "olga@example.com": ("U03OLGA", "Olga Owner"),
    "sam@example.com": ("U04SAM", "Sam SsoAdmin"),
    "ada@example.com": ("U05ADA", "Ada Admin"),
    "bob@example.com": ("U06BOB", "Bob Builder"),
}


def demo_config(world: DemoWorld, session_seconds: int) -> str:
    """The demo's ``jitbot.yml``: Sandbox owned by Oscar and Olga, Production by Olga."""
    return f"""\
identity_center:
  portal_url: https://d-0000000000.awsapps.com/start
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - id: "{world.accounts["Sandbox"]}"
    owners: [oscar@example.com, olga@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
  - id: "{world.accounts["Production"]}"
    name: Production
    owners: [olga@example.com]
    permission_sets: [ReadOnlyAccess]
durations: [{session_seconds}s, 1h, 4h, 8h, 1d, 1w]
approval_timeout: 24h
sweep_interval: 1s
"""


@dataclass
class DemoBot:
    """What :func:`start_bot` started so far (None: not yet), for :meth:`stop`."""

    rt: Runtime | None = None
    server: Any = None  # bot.http.make_server's waitress server

    def stop(self) -> None:
        """Stop the scheduler and the HTTP server, whichever were started."""
        if self.rt is not None:
            self.rt.timekeeper.shutdown(wait=False)
        if self.server is not None:
            self.server.close()


@dataclass
class DemoRun:
    """Everything a demo step needs: the printer, the fake Slack, the AWS world, the
    bot's runtime and the four people who act."""

    p: Printer
    fake: FakeSlack
    world: DemoWorld
    rt: Runtime
    session_seconds: int
    alice: SlackUser
    oscar: SlackUser
    olga: SlackUser
    bob: SlackUser


def start_bot(
    bot: DemoBot, p: Printer, fake: FakeSlack, folder: str, session_seconds: int, endpoint: str
) -> DemoRun:
    """Seed the AWS world, add the people to ``fake``, start the bot (its SQLite database
    and ``jitbot.yml`` in ``folder``) into ``bot``, and print where everything listens."""
    world = seed_demo_world()
    for email, (user_id, name) in PEOPLE.items():
        fake.add_user(user_id, email, name)
    config_path = Path(folder) / "jitbot.yml"
    config_path.write_text(demo_config(world, session_seconds))
    secret = secrets.token_hex(16)
    settings = Settings(
        slack_bot_token=fake.token,
        slack_signing_secret=secret,
        slack_api_url=fake.url,
        database_url=f"sqlite:///{folder}/jitbot.db",
        jitbot_config=config_path,
    )
    rt = build_runtime(settings, parse_config(config_path.read_text(), str(config_path)))
    bot.rt = rt
    rt.timekeeper.start()
    server = bot.server = make_server(rt, "127.0.0.1", 0)
    threading.Thread(target=server.run, daemon=True).start()
    bot_url = f"http://127.0.0.1:{server.effective_port}/slack/events"
    p.line(
        f"AWS (moto behind the Identity Center stand-in) at {endpoint}; "
        f"Slack Web API (fake) at {fake.url}; bot at {bot_url}"
    )
    fake.on_event(p.slack)

    def person(name: str) -> SlackUser:
        user_id = PEOPLE[f"{name}@example.com"][0]
        return SlackUser(fake, user_id, bot_url=bot_url, signing_secret=secret)

    people = {name: person(name) for name in ("alice", "oscar", "olga", "bob")}
    return DemoRun(p, fake, world, rt, session_seconds, **people)
