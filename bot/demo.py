"""``jitbot demo``: the whole lifecycle of a standard request, for real, on embedded defaults.

AWS is moto's server (an organization with two accounts, an Identity Center instance,
users and two standard permission sets), Slack is the project's fake Web API, the store
is SQLite in a temporary folder. The real Bolt app is served over HTTP by waitress and
receives signed Slack payloads from simulated people; the scheduler expires a session a
few seconds long. The conversation is printed as people would see it, with the AWS
state after each step.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot import ids
from bot.demo_aws import DemoWorld, assignments, seed_demo_world, start_moto_server
from bot.fake_slack import FakeSlack
from bot.settings import Settings
from bot.slack_client_sim import SlackUser

T = TypeVar("T")

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


class Printer:
    """Prints steps, the Slack conversation as it happens, and the AWS state."""

    def __init__(self, out: Any = sys.stdout) -> None:
        self.out = out
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def line(self, text: str = "") -> None:
        with self.lock:
            print(text, file=self.out, flush=True)

    def step(self, title: str) -> None:
        self.line(f"\n── {title} " + "─" * max(0, 70 - len(title)))

    def slack(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        for i, part in enumerate(text.splitlines() or [""]):
            self.line(f"  {elapsed:5.1f}s │ {part}" if i == 0 else f"         │   {part}")

    def aws(self, world: DemoWorld) -> None:
        current = assignments(world)
        if not current:
            self.line("  AWS    │ account assignments: none")
        for account, permission_set, email in current:
            self.line(f"  AWS    │ account assignment: {email} → {permission_set} on {account}")


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError(f"demo: timed out waiting for {what}")


def run_demo(session_seconds: int = 10, out: Any = sys.stdout) -> int:
    """Run the demo; 0 when every step behaved as expected."""
    import logging

    from bot.http import make_server
    from bot.runtime import build_runtime
    from workflows.config import parse_config

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's access log
    p = Printer(out)
    p.line("jitbot demo: moto for AWS, a fake Slack, the real Bolt app over HTTP, SQLite.")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    moto, endpoint = start_moto_server()
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    fake = FakeSlack().start()
    tmp = tempfile.TemporaryDirectory(prefix="jitbot-demo-")
    server = None
    rt = None
    try:
        world = seed_demo_world()
        for email, (user_id, name) in PEOPLE.items():
            fake.add_user(user_id, email, name)
        config_path = Path(tmp.name) / "jitbot.yml"
        config_path.write_text(demo_config(world, session_seconds))
        secret = secrets.token_hex(16)
        settings = Settings(
            slack_bot_token=fake.token,
            slack_signing_secret=secret,
            slack_api_url=fake.url,
            database_url=f"sqlite:///{tmp.name}/jitbot.db",
            jitbot_config=config_path,
        )
        rt = build_runtime(settings, parse_config(config_path.read_text(), str(config_path)))
        rt.timekeeper.start()
        server = make_server(rt, "127.0.0.1", 0)
        threading.Thread(target=server.run, daemon=True).start()
        bot_url = f"http://127.0.0.1:{server.effective_port}/slack/events"
        p.line(f"AWS (moto) at {endpoint}; Slack Web API (fake) at {fake.url}; bot at {bot_url}")
        fake.on_event(p.slack)

        def person(email: str) -> SlackUser:
            return SlackUser(fake, PEOPLE[email][0], bot_url=bot_url, signing_secret=secret)

        alice, oscar, olga, bob = (
            person(e)
            for e in (
                "alice@example.com",
                "oscar@example.com",
                "olga@example.com",
                "bob@example.com",
            )
        )
        sandbox, production = world.accounts["Sandbox"], world.accounts["Production"]
        p.aws(world)

        p.step("1. Alice types /jit")
        started = time.perf_counter()
        response = alice.slash("/jit")
        p.line(
            f"  (Bolt acked /jit with HTTP {response.status} in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms)"
        )
        view = wait_for("the request modal", alice.latest_view)

        p.step("2. Alice picks the Sandbox account; the modal offers its permission sets")
        options = alice.suggest(view, ids.ACTION_ACCOUNT, "")
        p.line("  account options: " + ", ".join(o["text"]["text"] for o in options["options"]))
        alice.select_in_view(view, ids.ACTION_ACCOUNT, sandbox)
        view = wait_for(
            "the permission set input",
            lambda: _with_block(alice.latest_view(), ids.BLOCK_PERMISSION_SET),
        )

        form = {
            ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
            ids.ACTION_DURATION: f"{session_seconds}s",
            ids.ACTION_JUSTIFICATION: "debugging",
        }
        p.step("3. Alice submits a 9-character justification: refused inline")
        response = alice.submit(view, form)
        p.line(f"  modal errors: {response.json().get('errors')}")

        p.step(f"4. Alice submits ReadOnlyAccess on Sandbox for {session_seconds} seconds")
        form[ids.ACTION_JUSTIFICATION] = "Investigating failed deploys in OPS-1234"
        alice.submit(view, form)
        oscar_msg = wait_for("Oscar's approval DM", lambda: _root_with_buttons(fake, oscar))
        wait_for("Olga's approval DM", lambda: _root_with_buttons(fake, olga))
        p.aws(world)

        p.step(
            "5. Bob (not an owner) forges an Approve click: refused as if there were no "
            "such request, nothing changes"
        )
        bob.forge_click(ids.ACTION_APPROVE, _request_id(oscar_msg))
        wait_for("Bob's refusal", lambda: fake.ephemerals(bob.user_id))
        p.aws(world)

        p.step("6. Oscar clicks Approve: the account assignment is created")
        started = time.perf_counter()
        response = oscar.click(oscar_msg, ids.ACTION_APPROVE)
        p.line(
            f"  (Bolt acked the click with HTTP {response.status} in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms)"
        )
        request = wait_for("the grant", lambda: _status(rt, "active"))
        p.aws(world)
        ends = request.session.expires_at if request.session else None

        p.step(f"7. The scheduler ends the session at {ends:%H:%M:%S} UTC")
        wait_for("the expiry", lambda: _status(rt, "expired"), timeout=session_seconds + 20)
        wait_for("the expiry notice", lambda: _thread_says(fake, alice, "expired"))
        p.aws(world)

        p.step("8. Alice asks for ReadOnlyAccess on Production; Olga rejects it")
        alice.slash("/jit")
        view = wait_for("a new modal", lambda: _fresh_modal(alice, view))
        alice.select_in_view(view, ids.ACTION_ACCOUNT, production)
        view = wait_for(
            "the permission set input",
            lambda: _with_block(alice.latest_view(), ids.BLOCK_PERMISSION_SET),
        )
        form[ids.ACTION_DURATION] = "1h"
        form[ids.ACTION_JUSTIFICATION] = "Checking production alarms for INC-77"
        alice.submit(view, form)
        olga_msg = wait_for("Olga's second DM", lambda: _root_with_buttons(fake, olga))
        olga.click(olga_msg, ids.ACTION_REJECT)
        reject_view = wait_for("the reject modal", lambda: _callback(olga, ids.CALLBACK_REJECT))
        olga.submit(reject_view, {ids.ACTION_REJECT_REASON: "Use the staging account first"})
        wait_for("the rejection", lambda: _status(rt, "rejected"))
        wait_for("the rejection notice", lambda: _thread_says(fake, alice, "Rejected"))
        p.aws(world)

        p.step("Done")
        p.line("  Every step behaved as expected: see README.md to run jitbot for real.")
        return 0
    finally:
        fake.on_event(lambda line: None)
        if rt is not None:
            rt.timekeeper.shutdown(wait=False)
        if server is not None:
            server.close()
        fake.stop()
        moto.stop()
        tmp.cleanup()


def _request_id(message: Any) -> str:
    for block in message.blocks or []:
        for element in block.get("elements", []):
            if element.get("action_id") == ids.ACTION_APPROVE:
                return str(element["value"])
    raise LookupError("no Approve button")


def _with_block(view: dict[str, Any] | None, block_id: str) -> dict[str, Any] | None:
    if view and any(b.get("block_id") == block_id for b in view.get("blocks", [])):
        return view
    return None


def _callback(user: SlackUser, callback_id: str) -> dict[str, Any] | None:
    view = user.latest_view()
    return view if view and view.get("callback_id") == callback_id else None


def _fresh_modal(user: SlackUser, old: dict[str, Any]) -> dict[str, Any] | None:
    view = user.latest_view()
    return view if view and view["id"] != old["id"] else None


def _root_with_buttons(fake: FakeSlack, user: SlackUser) -> Any:
    for message in reversed(fake.dm_messages(user.user_id)):
        for block in message.blocks or []:
            for element in block.get("elements", []):
                if element.get("action_id") == ids.ACTION_APPROVE:
                    return message
    return None


def _thread_says(fake: FakeSlack, user: SlackUser, words: str) -> bool:
    roots = fake.dm_messages(user.user_id)
    return any(
        words in reply.text for root in roots for reply in fake.thread(root.channel, root.ts)[1:]
    )


def _status(rt: Any, status: str) -> Any:
    found = [
        r
        for r in rt.store.requests_of(PEOPLE["alice@example.com"][0], 1)
        if r.status.value == status
    ]
    return found[0] if found else None
