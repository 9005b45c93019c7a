"""Request again: driven from outside as Slack would (the button on an ended request's
root and in App Home, the pre-filled modal, its submission, someone else's click),
and the re-check against today's offer over the fakes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from bot.render.again_modal import BLOCK_AGAIN_NOTE, again_modal
from sim.aws_world import DemoWorld
from sim.fake_slack import blocks_to_text
from tests.bot_harness import JUSTIFICATION, Bot, action_ids, running_bot, text_of
from tests.conftest import world_config
from tests.fakes import FAKE_CONFIG, READ_ONLY_ARN, SANDBOX, FakeWorld, fake_world
from tests.test_render import assert_view_ok
from workflows.catalog import build_catalog
from workflows.config import parse_config
from workflows.domain import Person
from workflows.errors import AlreadyDecided, NotAuthorized
from workflows.services import Services
from workflows.states import Status
from workflows.validation import KIND_CUSTOM, RequestForm

ALICE = Person("U01ALICE", "alice@example.com", "Alice Requester")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


def expired(bot: Bot, duration: str = "4h") -> int:
    """Alice's request of ``duration``, approved by Oscar and run to its end."""
    request = bot.request_access(duration=duration)
    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    session = bot.get(request.id).session
    assert session is not None
    bot.rt.services.sweep(session.expires_at)
    bot.wait_reply(bot.root(request, "alice"), "Access expired")
    return request.id


def test_request_again_on_an_expired_request_opens_the_form_filled_in_and_submits_anew(
    bot: Bot,
) -> None:
    request_id = expired(bot)
    old = bot.get(request_id)
    alice = bot.user("alice")
    root = bot.fake.wait_for(
        lambda: ids.ACTION_REQUEST_AGAIN in action_ids(r := bot.root(old, "alice")) and r
    )
    assert action_ids(root) == [ids.ACTION_DETAILS, ids.ACTION_REQUEST_AGAIN]
    for approver in ("oscar", "olga"):  # only the requester's root offers it
        assert ids.ACTION_REQUEST_AGAIN not in action_ids(bot.root(old, approver))

    before = alice.latest_view()
    assert alice.click(root, ids.ACTION_REQUEST_AGAIN).status == 200
    view = bot.next_modal(alice, before)

    assert view["title"]["text"] == "Request AWS access"
    assert element(view, ids.BLOCK_ACCOUNT)["initial_option"]["value"] == bot.sandbox
    assert element(view, ids.BLOCK_PERMISSION_SET)["initial_option"]["value"] == "ReadOnlyAccess"
    assert element(view, ids.BLOCK_DURATION)["initial_option"]["value"] == "4h"
    assert element(view, ids.BLOCK_JUSTIFICATION)["initial_value"] == JUSTIFICATION
    assert f"Filled in from your request #{request_id}" in blocks_to_text(view["blocks"])

    response = alice.submit(view)  # as filled in
    assert response.status == 200 and response.body == "" and response.problems == []
    new = bot.fake.wait_for(
        lambda: next((r for r in bot.requests(alice.user_id) if r.id != request_id), None)
    )
    assert (new.status, new.account_id, new.permission_set_name) == (
        Status.PENDING,
        bot.sandbox,
        "ReadOnlyAccess",
    )
    assert new.duration == timedelta(hours=4) and new.justification == JUSTIFICATION
    bot.fake.wait_for(lambda: len(bot.get(new.id).messages) == 3)  # Alice's, two owners'
    assert f"(request #{new.id})" in text_of(bot.root(new, "oscar"))
    assert bot.get(request_id).status == Status.EXPIRED  # the old one is left as it was
    assert bot.unexpected_refusals() == []


def test_someone_elses_request_again_click_is_refused_and_opens_nothing(bot: Bot) -> None:
    request_id = expired(bot)
    for who, words in (
        ("bob", f":warning: There is no request #{request_id} that you can see."),
        ("oscar", ":warning: You can't request this again: only the requester can do that."),
    ):
        user = bot.user(who)
        before = user.latest_view()
        assert user.forge_click(ids.ACTION_REQUEST_AGAIN, str(request_id)).status == 200
        assert bot.wait_ephemeral(user, 1) == words
        bot.settle()
        assert user.latest_view() == before
    assert len(bot.requests(bot.user("alice").user_id)) == 1


def test_the_button_shows_on_ended_and_rejected_requests_only(bot: Bot) -> None:
    pending = bot.request_access()
    assert ids.ACTION_REQUEST_AGAIN not in action_ids(bot.root(pending, "alice"))
    rejected = bot.request_access(account="Production")
    bot.rt.services.decide(
        rejected.id, bot.rt.directory.person(bot.user("olga").user_id), False, T0
    )
    bot.fake.wait_for(lambda: ids.ACTION_REQUEST_AGAIN in action_ids(bot.root(rejected, "alice")))

    alice = bot.user("alice")
    alice.open_home()
    home = bot.fake.wait_for(
        lambda: (
            (h := bot.fake.home(alice.user_id)) and "Rejected" in blocks_to_text(h["blocks"]) and h
        )
    )
    again = [
        e.get("value")
        for b in home["blocks"]
        for e in b.get("elements") or []
        if isinstance(e, dict) and e.get("action_id") == ids.ACTION_REQUEST_AGAIN
    ]
    assert again == [str(rejected.id)]  # not on the pending one
    before = alice.latest_view()
    alice.click(home, ids.ACTION_REQUEST_AGAIN)
    view = bot.next_modal(alice, before)
    assert element(view, ids.BLOCK_ACCOUNT)["initial_option"]["value"] == bot.production


# ------------------------------------------------------------- today's offer, over the fakes


def today(world: FakeWorld, config_text: str) -> Services:
    """Services under a changed config, over the same store: the offer of today."""
    config = parse_config(config_text)
    catalog = build_catalog(config, {"ReadOnlyAccess": READ_ONLY_ARN}, {SANDBOX: "Sandbox"})
    return Services(config, catalog, world.store, world.aws)


def rejected_request(
    world: FakeWorld, duration: str = "4h", form: RequestForm | None = None
) -> int:
    form = form or RequestForm(SANDBOX, "ReadOnlyAccess", duration, "Investigating OPS-1")
    request = world.services.submit_request(ALICE, form, T0)
    world.services.decide(request.id, OSCAR, False, T0)
    return request.id


def test_a_duration_longer_than_now_allowed_is_cut_to_the_longest_allowed() -> None:
    world = fake_world()
    request_id = rejected_request(world, "4h")
    refill = today(world, FAKE_CONFIG.replace("[1h, 4h]", "[30m, 1h, 2h]")).request_again(
        request_id, ALICE
    )
    assert refill.form.duration == "2h"
    assert refill.notes == ("4 hours is no longer allowed: cut to 2 hours.",)
    assert refill.form.permission_set == "ReadOnlyAccess"
    assert refill.form.justification == "Investigating OPS-1"


def test_a_set_or_account_no_longer_offered_is_left_empty_with_a_note() -> None:
    world = fake_world()
    request_id = rejected_request(world, "1h")
    other_set = FAKE_CONFIG.replace("[ReadOnlyAccess]", "[AdministratorAccess]")
    config = parse_config(other_set)
    catalog = build_catalog(
        config, {"AdministratorAccess": READ_ONLY_ARN + "x"}, {SANDBOX: "Sandbox"}
    )
    refill = Services(config, catalog, world.store, world.aws).request_again(request_id, ALICE)
    assert refill.form.account_id == SANDBOX and refill.form.permission_set is None
    assert refill.notes == (
        f"ReadOnlyAccess is no longer offered on Sandbox ({SANDBOX}): choose a permission set.",
    )
    view = again_modal(catalog, refill, config.custom_permission_sets)
    assert_view_ok(view)
    assert "initial_option" not in element(view, ids.BLOCK_PERMISSION_SET)
    assert "no longer offered" in blocks_to_text(
        [b for b in view["blocks"] if b.get("block_id") == BLOCK_AGAIN_NOTE]
    )

    gone = FAKE_CONFIG.replace(SANDBOX, "222222222222")
    config = parse_config(gone)
    catalog = build_catalog(config, {"ReadOnlyAccess": READ_ONLY_ARN}, {"222222222222": "Other"})
    refill = Services(config, catalog, world.store, world.aws).request_again(request_id, ALICE)
    assert refill.form.account_id is None and refill.form.permission_set is None
    assert refill.notes[0] == f"Sandbox ({SANDBOX}) is no longer offered to you: choose an account."


def test_a_custom_request_comes_back_with_its_definition_within_todays_settings() -> None:
    custom = """
custom_permission_sets:
  enabled: true
  managed_policies: [ReadOnlyAccess, AmazonS3ReadOnlyAccess]
  max_session_duration: 8h
"""
    world = fake_world(custom)
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    form = RequestForm(
        SANDBOX,
        None,
        "1h",
        "Reading artifacts for OPS-81",
        kind=KIND_CUSTOM,
        custom_name="S3Debug",
        custom_session_hours="6",
        custom_managed=("ReadOnlyAccess", "AmazonS3ReadOnlyAccess"),
        custom_inline=policy,
    )
    request_id = rejected_request(world, form=form)
    narrower = custom.replace("ReadOnlyAccess, ", "").replace("8h", "4h")
    services = today(world, FAKE_CONFIG + narrower)
    refill = services.request_again(request_id, ALICE)
    assert refill.form.kind == KIND_CUSTOM and refill.form.custom_name == "S3Debug"
    assert refill.form.custom_session_hours == "4"
    assert refill.form.custom_managed == ("AmazonS3ReadOnlyAccess",)
    assert refill.form.custom_inline == policy
    assert refill.notes == (
        "No longer offered, so left out: ReadOnlyAccess.",
        "The session duration is cut to 4 hours, the longest now allowed.",
    )
    view = again_modal(services.catalog, refill, services.config.custom_permission_sets)
    assert_view_ok(view)
    assert element(view, ids.BLOCK_CUSTOM_NAME)["initial_value"] == "S3Debug"
    assert element(view, ids.BLOCK_CUSTOM_SESSION)["initial_option"]["value"] == "4"
    assert [o["value"] for o in element(view, ids.BLOCK_CUSTOM_MANAGED)["initial_options"]] == [
        "AmazonS3ReadOnlyAccess"
    ]
    assert element(view, ids.BLOCK_CUSTOM_INLINE)["initial_value"] == policy
    assert element(view, ids.BLOCK_DURATION)["initial_option"]["value"] == "1h"


def test_only_the_requester_may_and_only_once_it_has_ended() -> None:
    world = fake_world()
    pending = world.submit(ALICE, T0)
    with pytest.raises(AlreadyDecided, match="is Pending: you can request it again once"):
        world.services.request_again(pending.id, ALICE)
    request_id = rejected_request(world, "1h")
    with pytest.raises(NotAuthorized, match="^You can't request this again: only the requester"):
        world.services.request_again(request_id, OSCAR)
