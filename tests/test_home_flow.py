"""App Home driven from outside as Slack would: ``app_home_opened`` events and the home's
buttons, against the real Bolt app, the fake Slack Web API and moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from sim.aws_world import DemoWorld
from sim.fake_slack import blocks_to_text
from tests.bot_harness import Bot, running_bot
from tests.conftest import world_config
from tests.test_custom_flow import CUSTOM, S3_FORM, open_custom_form
from workflows.states import Status


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running


def home_of(bot: Bot, name: str, *, words: str = "", timeout: float = 5.0) -> dict[str, Any]:
    """Open the person's App Home and wait until it shows ``words``."""
    user = bot.user(name)
    user.open_home()
    return bot.fake.wait_for(
        lambda: (h := bot.fake.home(user.user_id)) and words in blocks_to_text(h["blocks"]) and h,
        timeout,
    )


def refreshed(bot: Bot, name: str, words: str, timeout: float = 5.0) -> dict[str, Any]:
    """Wait for the person's home to be re-published showing ``words`` (no new event)."""
    user_id = bot.user(name).user_id
    return bot.fake.wait_for(
        lambda: (h := bot.fake.home(user_id)) and words in blocks_to_text(h["blocks"]) and h,
        timeout,
    )


def test_requester_sees_stat_cards_and_requests_but_no_approver_section(bot: Bot) -> None:
    bot.request_access("alice")
    home = home_of(bot, "alice", words="My Requests")
    text = blocks_to_text(home["blocks"])
    assert "*Pending Requests*\n1" in text and "*Total Requests*\n1" in text
    assert "ReadOnlyAccess* on Sandbox" in text
    for approver_only in ("Pending Approvals", "Manage Sessions", "Owned Accounts"):
        assert approver_only not in text


def test_owner_approves_from_home_then_revokes_with_a_reason(bot: Bot) -> None:
    request = bot.request_access("alice")
    alice_root = bot.root(request, "alice")
    home_of(bot, "alice", words="My Requests")  # so her home is kept fresh
    home = home_of(bot, "oscar", words="Pending Approvals (1)")
    oscar = bot.user("oscar")
    assert oscar.click(home, ids.ACTION_APPROVE).status == 200
    bot.wait_status(request.id, Status.ACTIVE)
    assert bot.assigned(request)

    home = refreshed(bot, "oscar", "Revoke")  # the session is under Manage Sessions
    text = blocks_to_text(home["blocks"])
    assert "Pending Approvals (0)" in text
    manage = text.split("Manage Sessions")[1]
    assert "Alice Archer" in manage and "left" in manage
    refreshed(bot, "alice", "*Active Sessions*\n1")

    oscar.click(home, ids.ACTION_REVOKE)
    modal = bot.fake.wait_for(
        lambda: (v := oscar.latest_view()) and v.get("callback_id") == ids.CALLBACK_REVOKE and v
    )
    warning = blocks_to_text(modal["blocks"])
    assert "immediately" in warning and "Alice Archer" in warning and "left" in warning
    oscar.submit(modal, {ids.ACTION_REVOKE_REASON: "Incident closed"})
    bot.wait_status(request.id, Status.REVOKED)
    assert not bot.assigned(request), "the assignment is gone at once"
    said = bot.wait_reply(alice_root, "revoked")
    assert "Oscar Owner" in said and "Incident closed" in said
    refreshed(bot, "alice", "*Active Sessions*\n0")


def test_a_viewers_forged_revoke_and_a_non_owners_stale_approve_are_refused(bot: Bot) -> None:
    request = bot.request_access("alice", account="Production")  # Olga owns Production
    oscar, bob = bot.user("oscar"), bot.user("bob")
    bob.forge_click(ids.ACTION_APPROVE, str(request.id))
    oscar.forge_click(ids.ACTION_APPROVE, str(request.id))  # owns Sandbox, not Production
    unseen = f":warning: There is no request #{request.id} that you can see."
    assert bot.wait_ephemeral(oscar, 1) == unseen  # not even which account it is on
    assert bot.wait_ephemeral(bob, 1) == unseen
    assert bot.get(request.id).status == Status.PENDING

    olga = bot.user("olga")
    olga.click(home_of(bot, "olga", words="Pending Approvals (1)"), ids.ACTION_APPROVE)
    bot.wait_status(request.id, Status.ACTIVE)
    bob.forge_click(ids.ACTION_REVOKE, str(request.id))
    assert bot.wait_ephemeral(bob, 2) == unseen
    alice = bot.user("alice")
    alice.forge_click(ids.ACTION_REVOKE, str(request.id))  # hers: she may see it
    assert "can't revoke" in bot.wait_ephemeral(alice, 1)
    assert bot.get(request.id).status == Status.ACTIVE and bot.assigned(request)


def test_requester_releases_and_cancels_from_home(bot: Bot) -> None:
    first = bot.request_access("alice")
    second = bot.request_access("alice", account="Production")
    alice = bot.user("alice")
    bot.user("oscar").click(bot.root(first, "oscar"), ids.ACTION_APPROVE)
    bot.wait_status(first.id, Status.ACTIVE)
    home = home_of(bot, "alice", words="Release now")
    alice.click(home, ids.ACTION_RELEASE)
    bot.wait_status(first.id, Status.REVOKED)
    assert not bot.assigned(first)
    home = refreshed(bot, "alice", "Cancel request")
    alice.click(home, ids.ACTION_CANCEL)
    bot.wait_status(second.id, Status.CANCELLED)
    olga_root = bot.root(second, "olga")
    bot.fake.wait_for(
        lambda: (
            ids.ACTION_APPROVE not in str(bot.fake.message(olga_root.channel, olga_root.ts).blocks)
        )
    )


@pytest.fixture
def roomy_bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    """A bot whose requesters may have more pending requests than one App Home page."""
    config = world_config(moto_world, "limits: {pending_per_requester: 10}")
    with running_bot(moto_world, tmp_path, config) as running:
        yield running


def test_paging_filter_and_search_republish_the_home(roomy_bot: Bot) -> None:
    bot = roomy_bot
    for _ in range(6):
        bot.request_access("alice")
    ada = bot.user("ada")
    home = home_of(bot, "ada", words="Pending Approvals (6)")
    ada.click(home, ids.ACTION_HOME_OLDER, block_id="pager-approvals")
    home = refreshed(bot, "ada", "6–6 of 6")
    ada.click(home, ids.ACTION_HOME_FILTER, value="rejected")
    refreshed(bot, "ada", "No requests.")
    home = bot.fake.home(ada.user_id)
    ada.click(home, ids.ACTION_HOME_SEARCH, value="production")
    home = bot.fake.wait_for(
        lambda: (
            (h := bot.fake.home(ada.user_id))
            and "*Sandbox*" not in blocks_to_text(h["blocks"]).split("Owned Accounts")[1]
            and h
        )
    )
    assert "*Production*" in blocks_to_text(home["blocks"]).split("Owned Accounts")[1]


@pytest.fixture
def custom_bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world, CUSTOM)) as running:
        yield running


def test_requester_cancels_a_pending_owner_custom_request_from_home(custom_bot: Bot) -> None:
    bot = custom_bot
    alice = bot.user("alice")
    view = open_custom_form(bot, alice)
    assert alice.submit(view, S3_FORM).json() == {}
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    assert bot.wait_status(request.id, Status.PENDING_OWNER).custom is not None
    home = home_of(bot, "alice", words="Cancel request")
    alice.click(home, ids.ACTION_CANCEL)
    bot.wait_status(request.id, Status.CANCELLED)
    home = refreshed(bot, "alice", "Cancelled")
    assert "Cancel request" not in blocks_to_text(home["blocks"])
