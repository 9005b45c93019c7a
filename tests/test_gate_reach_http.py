"""Nobody the gate refuses is shown a request (bot.reach), over HTTP: the real Bolt app,
the fake Slack Web API, moto. An owner who is a guest (or a Slack Connect user of
another organization) is sent no approval DM, the other owner is, and the admins are
alerted once; when no approver is left the requester is told at once and the admins
alerted; a guest admin gets no alerts; a viewer who became a guest gets a home that
only says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from sim.aws_world import DemoWorld
from sim.people import SlackUser
from tests.bot_harness import JUSTIFICATION, Bot, running_bot, text_of, view_text
from tests.conftest import world_config
from tests.test_custom_flow import CUSTOM, S3_FORM, open_custom_form, root_when_sent
from workflows.domain import AccessRequest
from workflows.states import Status

GUEST_OSCAR = (
    "owner oscar@example.com can't use jitbot (guest): requests for Sandbox ({account}) "
    "go to the others."
)


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running
    assert running.unexpected_refusals() == []


def send(user: SlackUser, view: dict[str, Any]) -> None:
    """Fill in the rest of the request form ``view`` (an account chosen) and submit it."""
    values = {
        ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
        ids.ACTION_DURATION: "1h",
        ids.ACTION_JUSTIFICATION: JUSTIFICATION,
    }
    sent = user.submit(view, values)
    assert sent.status == 200 and sent.problems == []


def submit(bot: Bot, account: str = "Sandbox", who: str = "alice") -> AccessRequest:
    """``who``'s request on ``account`` through the form, once the bot is done with it."""
    user = bot.user(who)
    known = {r.id for r in bot.requests(user.user_id)}
    send(user, bot.choose_account(user, bot.open_form(user), bot.world.accounts[account]))
    request = bot.fake.wait_for(
        lambda: next((r for r in bot.requests(user.user_id) if r.id not in known), None)
    )
    bot.settle()
    return bot.get(request.id)


def dms(bot: Bot, who: str) -> list[str]:
    """Everything in ``who``'s DM with the bot (roots and replies), as they read it."""
    user_id = bot.user(who).user_id
    return [text_of(m) for m in bot.fake.messages if m.user_id_of_dm == user_id]


def alerts(bot: Bot, who: str = "ada") -> list[str]:
    return [t for t in dms(bot, who) if ":rotating_light:" in t]


def test_a_guest_owner_gets_no_dm_the_other_owner_does_and_the_admins_are_told_once(
    bot: Bot,
) -> None:
    bot.fake.update_user(bot.user("oscar").user_id, is_restricted=True)
    request = submit(bot)

    assert request.status == Status.PENDING
    assert dms(bot, "oscar") == []
    olga = bot.root(request, "olga")
    assert f"#{request.id}" in text_of(olga) and "Sandbox" in text_of(olga)
    told = alerts(bot)
    assert len(told) == 1 and GUEST_OSCAR.format(account=bot.sandbox) in told[0]
    refused = [
        e for e in bot.rt.store.audit_events(request.id) if e["action"] == "approver_refused"
    ]
    assert [e["detail"] for e in refused] == [
        {"approver": bot.user("oscar").user_id, "reason": "guest", "stage": "owner"}
    ]
    # Alice's thread says nothing about approvers missing: Olga has it
    assert not any("approver" in t for t in bot.replies(bot.root(request, "alice")))

    # a second request: Oscar still sees nothing, the admins are not told again
    second = submit(bot)
    assert dms(bot, "oscar") == [] and len(alerts(bot)) == 1
    assert f"#{second.id}" in text_of(bot.root(second, "olga"))

    # Olga approves: the re-renders and replies reach everyone but Oscar
    bot.user("olga").click(bot.root(request, "olga"), ids.ACTION_APPROVE)
    bot.wait_status(request.id, Status.ACTIVE)
    bot.settle()
    assert dms(bot, "oscar") == []
    assert bot.wait_reply(bot.root(request, "alice"), "Access granted")


def test_when_every_owner_is_refused_the_requester_and_the_admins_are_told(bot: Bot) -> None:
    # Production's only owner, now a Slack Connect user of another organization
    bot.fake.update_user(bot.user("olga").user_id, team_id="T0OTHER")
    request = submit(bot, "Production")

    assert dms(bot, "olga") == []
    assert bot.wait_reply(bot.root(request, "alice"), "approver")
    told = alerts(bot)
    assert len(told) == 2, told
    assert (
        "owner olga@example.com can't use jitbot (Slack Connect, another organization): "
        f"requests for Production ({bot.production}) have no other approver" in told[0]
    )
    assert f"Request #{request.id}" in told[1] and "could not be sent to any approver" in told[1]


def test_a_guest_admin_gets_no_alerts(bot: Bot) -> None:
    bot.fake.update_user(bot.user("ada").user_id, is_ultra_restricted=True)
    bot.fake.update_user(bot.user("oscar").user_id, is_restricted=True)
    request = submit(bot)

    assert any(e["action"] == "approver_refused" for e in bot.rt.store.audit_events(request.id))
    assert dms(bot, "ada") == [] and dms(bot, "oscar") == []
    assert f"#{request.id}" in text_of(bot.root(request, "olga"))


def test_a_viewer_who_became_a_guest_gets_a_home_that_only_says_why(bot: Bot) -> None:
    oscar = bot.user("oscar")
    assert oscar.open_home().status == 200
    bot.fake.wait_for(lambda: bot.fake.home(oscar.user_id))
    bot.settle()
    bot.fake.update_user(oscar.user_id, is_restricted=True)
    bot.rt.directory.forget(oscar.user_id)  # as if the minute had passed

    request = submit(bot)
    olga = bot.user("olga")
    olga.click(bot.root(request, "olga"), ids.ACTION_APPROVE)  # homes showing it re-published

    def refused_home() -> str | None:
        text = view_text(bot.fake.home(oscar.user_id) or {})
        return text if "guests can't use it" in text else None

    shown = bot.fake.wait_for(refused_home)
    assert "Sandbox" not in shown and f"#{request.id}" not in shown
    bot.wait_status(request.id, Status.ACTIVE)
    # forgotten: the next change publishes nothing more for him
    second = submit(bot)
    olga.click(bot.root(second, "olga"), ids.ACTION_APPROVE)
    bot.wait_status(second.id, Status.ACTIVE)
    bot.settle()
    oscars = [c for c in bot.fake.calls_to("views.publish") if c.args["user_id"] == oscar.user_id]
    assert len(oscars) == 2
    assert view_text(bot.fake.home(oscar.user_id) or {}) == shown


def test_while_slack_cannot_say_who_an_approver_is_their_dm_waits(bot: Bot) -> None:
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    bot.fake.fail_next("users.info", status=500)  # the outbox's look-up of Oscar
    bot.expect_refusal("users.info", "fatal_error")
    send(alice, view)
    (request,) = bot.fake.wait_for(lambda: bot.requests(alice.user_id))

    # neither skipped nor refused: delivered once Slack answers
    oscar = bot.user("oscar").user_id
    (dm,) = bot.fake.wait_for(lambda: bot.fake.dm_messages(oscar))
    assert f"#{request.id}" in text_of(dm)
    bot.settle()
    assert len(bot.fake.dm_messages(oscar)) == 1 and bot.root(request, "oscar").ts == dm.ts
    assert alerts(bot) == []
    assert not any(e["action"] == "approver_refused" for e in bot.rt.store.audit_events())


def test_a_guest_sso_admin_gets_no_final_approval_dm_and_the_admins_are_told(
    moto_world: DemoWorld, tmp_path: Path
) -> None:
    with running_bot(moto_world, tmp_path, world_config(moto_world, CUSTOM)) as bot:
        bot.fake.update_user(bot.user("sam").user_id, is_restricted=True)
        alice = bot.user("alice")
        assert alice.submit(open_custom_form(bot, alice), S3_FORM).status == 200
        (request,) = bot.fake.wait_for(lambda: bot.requests(alice.user_id))
        bot.user("oscar").click(root_when_sent(bot, request, "oscar"), ids.ACTION_APPROVE)
        bot.wait_status(request.id, Status.PENDING_ADMIN)

        assert f"#{request.id}" in text_of(root_when_sent(bot, request, "ada"))
        bot.settle()
        assert dms(bot, "sam") == []
        (told,) = alerts(bot)
        assert (
            f"SSO admin sam@example.com can't use jitbot (guest): requests for Sandbox "
            f"({bot.sandbox}) go to the others." in told
        )
        assert bot.unexpected_refusals() == []
