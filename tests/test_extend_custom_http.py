"""Extending a custom permission set's session over HTTP: the extension goes through
the request's two stages again (an owner of the account, then an SSO admin or an admin
who is another person); only ``expires_at`` moves, the ``JIT-`` set and its assignment
stay until the new end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import ids
from sim.aws_world import DemoWorld
from tests.bot_harness import Bot, running_bot
from tests.conftest import world_config
from tests.test_custom_flow import CUSTOM, S3_FORM, jit_sets, open_custom_form, root_when_sent
from tests.test_extend_http import _ask, _asked_reply, _every_thread_says
from workflows.states import Status

HOUR = timedelta(hours=1)


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world, CUSTOM)) as running:
        yield running
        assert running.unexpected_refusals() == []


def test_a_custom_sessions_extension_needs_an_owner_then_an_sso_admin(bot: Bot) -> None:
    alice, oscar, sam = bot.user("alice"), bot.user("oscar"), bot.user("sam")
    assert alice.submit(open_custom_form(bot, alice), S3_FORM).json() == {}
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    oscar.click(root_when_sent(bot, request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_status(request.id, Status.PENDING_ADMIN)
    sam.click(root_when_sent(bot, request, "sam"), ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert active.session is not None
    planned = active.session.expires_at
    bot.settle()

    _ask(bot, active)
    sam.click(_asked_reply(bot, active, "sam"), ids.ACTION_APPROVE_EXTENSION)
    assert "the first approval is for an owner of Sandbox" in bot.wait_ephemeral(sam, 1)
    oscar.click(_asked_reply(bot, active, "oscar"), ids.ACTION_APPROVE_EXTENSION)
    bot.wait_reply(bot.root(active, "alice"), "Extension: 1 of 2 approvals (Oscar")
    assert bot.get(request.id).session.expires_at == planned

    sam.click(_asked_reply(bot, active, "sam"), ids.ACTION_APPROVE_EXTENSION)
    bot.fake.wait_for(lambda: bot.get(request.id).session.expires_at == planned + HOUR)
    _every_thread_says(bot, active, "Access extended until")

    bot.rt.services.sweep(planned + timedelta(seconds=1))
    assert bot.get(request.id).status == Status.ACTIVE and bot.assigned(active)
    assert list(jit_sets()) == ["JIT-S3Debug"]
    bot.rt.services.sweep(planned + HOUR)
    assert bot.get(request.id).status == Status.EXPIRED and not bot.assigned(active)
    assert jit_sets() == {}
