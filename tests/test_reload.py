"""Reloading the config of a running ``jitbot serve --http`` (issue 18, point 5), driven
from outside: the config file is rewritten, the process gets SIGHUP or someone runs
``jitbot reload``, and what people see in Slack follows the new rules; a config that
fails validation is refused, logged and audited, and the one in force stays; a grant
under way while the config is swapped finishes."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.store import SqlStore
from tests.test_e2e_http import Env, approval_dm, submit_request, thread_replies
from tests.test_replicas import World, wait_until, world
from workflows.states import Status

#: seconds the stand-in keeps an assignment change IN_PROGRESS: long enough for a reload
#: to happen while a grant is under way
OP_SECONDS = 1.5


def config_text(w: World, rules: str = "") -> str:
    return f"""
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - id: "{w.world.accounts["Sandbox"]}"
    owners: [oscar@example.com, olga@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
durations: [20s, 1m, 1h]
sweep_interval: 1s
lease_duration: 4s
{rules}"""


AUTO_READ = """
access_rules:
  - name: sandbox-read
    accounts: ["{sandbox}"]
    permission_sets: [ReadOnlyAccess]
    auto_approve: true
"""


def auto_read(w: World) -> str:
    return config_text(w, AUTO_READ.replace("{sandbox}", w.world.accounts["Sandbox"]))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Env]]:
    tmp = tmp_path_factory.mktemp("reload")
    with world(tmp, f"sqlite:///{tmp}/jitbot.db", OP_SECONDS) as w:
        (tmp / "jitbot.yml").write_text(config_text(w))
        bot = w.replica()
        bot.start_bot()
        try:
            yield w, bot
        finally:
            bot.stop_bot()


def audited(store: SqlStore, action: str) -> list[dict]:
    return [e for e in store.audit_events() if e["action"] == action]


def hup(w: World, bot: Env, text: str, action: str) -> dict:
    """Write ``text`` as the config, send SIGHUP, and return the audit event of the
    outcome (``action``) once it is there."""
    before = len(audited(w.store, action))
    (w.tmp / "jitbot.yml").write_text(text)
    assert bot.proc is not None
    bot.proc.send_signal(signal.SIGHUP)
    return wait_until(
        lambda: (events := audited(w.store, action))[before:] and events[-1], 30, action
    )


def jitbot_reload(bot: Env) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "reload", "--wait", "30"],
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sighup_puts_new_rules_in_force_and_a_grant_under_way_finishes(
    served: tuple[World, Env],
) -> None:
    w, bot = served
    alice, oscar = bot.user("alice@example.com"), bot.user("oscar@example.com")
    submit_request(bot, alice, "Sandbox", "ReadOnlyAccess", "1m")
    dm = bot.fake.wait_for(lambda: approval_dm(bot.fake, oscar, 1))
    assert w.store.get(1).status == Status.PENDING  # no rule yet: an owner must approve
    oscar.click(dm, "approve_request")
    # the assignment stays IN_PROGRESS for 1.5 s at the stand-in: reload meanwhile
    event = hup(w, bot, auto_read(w), "config_reloaded")
    assert event["detail"]["trigger"] == "SIGHUP" and len(event["detail"]["sha256"]) == 64
    wait_until(
        lambda: (r := w.store.get(1)) is not None and r.status == Status.ACTIVE,
        15,
        "request 1 active",
    )
    assert w.assigned(w.store.get(1).principal_id)

    # the new rule: Bob's request is approved with no click
    bob = bot.user("bob@example.com")
    submit_request(bot, bob, "Sandbox", "ReadOnlyAccess", "1m")
    wait_until(
        lambda: (r := w.store.get(2)) is not None and r.status == Status.ACTIVE,
        15,
        "request 2 granted",
    )
    root = bot.fake.dm_messages(bob.user_id)[0]
    wait_until(
        lambda: any(
            "approved automatically by rule sandbox-read" in t.lower()
            for t in thread_replies(bot.fake, root)
        ),
        10,
        "the thread says it was automatic",
    )
    assert "config reloaded from" in bot.logs()


def test_an_invalid_config_is_refused_and_the_one_in_force_stays(
    served: tuple[World, Env],
) -> None:
    w, bot = served
    event = hup(w, bot, auto_read(w) + "approval_timout: 1h\n", "config_reload_refused")
    assert "approval_timout" in event["detail"]["reason"]
    assert "config reload refused, the config in force stays" in bot.logs()
    # the rule of the config in force still approves at once
    sam = bot.user("sam@example.com")
    submit_request(bot, sam, "Sandbox", "ReadOnlyAccess", "1m")
    request = wait_until(
        lambda: next(
            (r for r in w.store.requests_of(sam.user_id, 10) if r.status == Status.ACTIVE), None
        ),
        15,
        "Sam's request granted under the old rule",
    )
    assert request.rule_name == "sandbox-read"


def test_jitbot_reload_asks_the_running_bot_and_prints_its_answer(
    served: tuple[World, Env],
) -> None:
    w, bot = served
    # a rule naming a group Identity Center does not have: the replica refuses it
    missing = auto_read(w).replace("auto_approve: true", "approvers: [group:NoSuchGroup]")
    (w.tmp / "jitbot.yml").write_text(missing)
    refused = jitbot_reload(bot)
    assert refused.returncode == 1, refused.stderr
    assert "refused, its config stays in force" in refused.stdout
    assert "no Identity Center group named 'NoSuchGroup'" in refused.stdout

    # without the rule: reloaded, and the next request waits for an owner again
    (w.tmp / "jitbot.yml").write_text(config_text(w))
    done = jitbot_reload(bot)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reloaded" in done.stdout and "sha256" in done.stdout
    ada = bot.user("ada@example.com")
    submit_request(bot, ada, "Sandbox", "ReadOnlyAccess", "1m")
    oscar = bot.user("oscar@example.com")
    request_no = wait_until(lambda: w.store.requests_of(ada.user_id, 10), 10, "Ada's request")[0].id
    wait_until(lambda: approval_dm(bot.fake, oscar, request_no), 10, "the owner is asked")
    assert w.store.get(request_no).status == Status.PENDING


def test_jitbot_reload_refuses_a_config_that_does_not_validate_here(
    served: tuple[World, Env],
) -> None:
    w, bot = served
    (w.tmp / "jitbot.yml").write_text("accounts: nope\n")
    result = jitbot_reload(bot)
    assert result.returncode == 2
    assert "invalid config, nothing was reloaded" in result.stderr
    (w.tmp / "jitbot.yml").write_text(config_text(w))


def test_jitbot_reload_with_no_bot_running_says_so(tmp_path: Path) -> None:
    with world(tmp_path, f"sqlite:///{tmp_path}/jitbot.db") as w:
        bot = w.replica()
        result = jitbot_reload(bot)
    assert result.returncode == 1
    assert "no jitbot serve is running on this database" in result.stderr
