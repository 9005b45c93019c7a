"""``jitbot demo``: the whole lifecycle of a standard request, for real, on embedded defaults.

AWS is moto's server (an organization with two accounts, an Identity Center instance,
users and two standard permission sets) behind the Identity Center stand-in
(:mod:`sim.aws_standin`: an account assignment change stays IN_PROGRESS for
:data:`OP_SECONDS`, as in AWS), Slack is the project's fake Web API, the store
is SQLite in a temporary folder. The real Bolt app is served over HTTP by waitress and
receives signed Slack payloads from simulated people; the scheduler expires a session a
few seconds long. The conversation is printed as people would see it, with the AWS
state after each step.

Needs the ``demo`` extra (moto's server): importing this module fails with
``ModuleNotFoundError`` without it, which ``jitbot demo`` turns into an install hint.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from typing import Any, TextIO

import moto.server  # noqa: F401 - the demo extra; missing, the import fails here

from bot import ids
from bot.runtime import Runtime
from sim.aws_standin import AwsStandin
from sim.aws_world import start_moto_server
from sim.demo_setup import PEOPLE, DemoBot, DemoRun, start_bot
from sim.demo_watch import (
    Printer,
    callback_view,
    fresh_modal,
    request_id,
    root_with_buttons,
    thread_says,
    wait_for,
    with_block,
)
from sim.fake_slack import FakeSlack, Message
from workflows.domain import AccessRequest

__all__ = ["OP_SECONDS", "PEOPLE", "run_demo"]

#: seconds an account assignment change stays IN_PROGRESS in the demo's AWS
OP_SECONDS = 0.3


def run_demo(session_seconds: int = 10, out: TextIO = sys.stdout) -> int:
    """Run the demo, printing to ``out``; 0 when every step behaved as expected.

    :raises TimeoutError: a step did not happen in time (the bot misbehaved).
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's access log
    p = Printer(out)
    p.line("jitbot demo: moto for AWS, a fake Slack, the real Bolt app over HTTP, SQLite.")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    moto_server, moto_endpoint = start_moto_server()
    standin = AwsStandin(moto_endpoint, op_seconds=OP_SECONDS)
    endpoint = os.environ["AWS_ENDPOINT_URL"] = standin.url
    fake = FakeSlack().start()
    tmp = tempfile.TemporaryDirectory(prefix="jitbot-demo-")
    bot = DemoBot()
    try:
        run = start_bot(bot, p, fake, tmp.name, session_seconds, endpoint)
        p.aws(run.world)
        view = _open_request_modal(run)
        form, oscar_msg = _submit_request(run, view)
        request = _forge_then_approve(run, oscar_msg)
        _expire(run, request)
        _reject(run, view, form)
        p.step("Done")
        p.line("  Every step behaved as expected: see README.md to run jitbot for real.")
        return 0
    finally:
        fake.on_event(lambda line: None)
        bot.stop()
        fake.stop()
        standin.stop()
        moto_server.stop()
        tmp.cleanup()


def _open_request_modal(run: DemoRun) -> dict[str, Any]:
    p, alice = run.p, run.alice
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
    alice.select_in_view(view, ids.ACTION_ACCOUNT, run.world.accounts["Sandbox"])
    return wait_for(
        "the permission set input",
        lambda: with_block(alice.latest_view(), ids.BLOCK_PERMISSION_SET),
    )


def _submit_request(run: DemoRun, view: dict[str, Any]) -> tuple[dict[str, str], Message]:
    p, fake, alice = run.p, run.fake, run.alice
    form = {
        ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
        ids.ACTION_DURATION: f"{run.session_seconds}s",
        ids.ACTION_JUSTIFICATION: "debugging",
    }
    p.step("3. Alice submits a 9-character justification: refused inline")
    response = alice.submit(view, form)
    p.line(f"  modal errors: {response.json().get('errors')}")

    p.step(f"4. Alice submits ReadOnlyAccess on Sandbox for {run.session_seconds} seconds")
    form[ids.ACTION_JUSTIFICATION] = "Investigating failed deploys in OPS-1234"
    alice.submit(view, form)
    oscar_msg = wait_for("Oscar's approval DM", lambda: root_with_buttons(fake, run.oscar))
    wait_for("Olga's approval DM", lambda: root_with_buttons(fake, run.olga))
    p.aws(run.world)
    return form, oscar_msg


def _forge_then_approve(run: DemoRun, oscar_msg: Message) -> AccessRequest:
    p, bob = run.p, run.bob
    p.step(
        "5. Bob (not an owner) forges an Approve click: refused as if there were no "
        "such request, nothing changes"
    )
    bob.forge_click(ids.ACTION_APPROVE, request_id(oscar_msg))
    wait_for("Bob's refusal", lambda: run.fake.ephemerals(bob.user_id))
    p.aws(run.world)

    p.step("6. Oscar clicks Approve: the account assignment is created")
    started = time.perf_counter()
    response = run.oscar.click(oscar_msg, ids.ACTION_APPROVE)
    p.line(
        f"  (Bolt acked the click with HTTP {response.status} in "
        f"{(time.perf_counter() - started) * 1000:.0f} ms)"
    )
    request = wait_for("the grant", lambda: _status(run.rt, "active"))
    p.aws(run.world)
    return request


def _expire(run: DemoRun, request: AccessRequest) -> None:
    ends = request.session.expires_at if request.session else None
    run.p.step(f"7. The scheduler ends the session at {ends:%H:%M:%S} UTC")
    wait_for("the expiry", lambda: _status(run.rt, "expired"), timeout=run.session_seconds + 20)
    wait_for("the expiry notice", lambda: thread_says(run.fake, run.alice, "expired"))
    run.p.aws(run.world)


def _reject(run: DemoRun, old_view: dict[str, Any], form: dict[str, str]) -> None:
    alice, olga = run.alice, run.olga
    run.p.step("8. Alice asks for ReadOnlyAccess on Production; Olga rejects it")
    alice.slash("/jit")
    view = wait_for("a new modal", lambda: fresh_modal(alice, old_view))
    alice.select_in_view(view, ids.ACTION_ACCOUNT, run.world.accounts["Production"])
    view = wait_for(
        "the permission set input",
        lambda: with_block(alice.latest_view(), ids.BLOCK_PERMISSION_SET),
    )
    form[ids.ACTION_DURATION] = "1h"
    form[ids.ACTION_JUSTIFICATION] = "Checking production alarms for INC-77"
    alice.submit(view, form)
    olga_msg = wait_for("Olga's second DM", lambda: root_with_buttons(run.fake, olga))
    olga.click(olga_msg, ids.ACTION_REJECT)
    reject_view = wait_for("the reject modal", lambda: callback_view(olga, ids.CALLBACK_REJECT))
    olga.submit(reject_view, {ids.ACTION_REJECT_REASON: "Use the staging account first"})
    wait_for("the rejection", lambda: _status(run.rt, "rejected"))
    wait_for("the rejection notice", lambda: thread_says(run.fake, alice, "Rejected"))
    run.p.aws(run.world)


def _status(rt: Runtime, status: str) -> AccessRequest | None:
    found = [
        r
        for r in rt.store.requests_of(PEOPLE["alice@example.com"][0], 1)
        if r.status.value == status
    ]
    return found[0] if found else None
