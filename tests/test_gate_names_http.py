"""The workspace's name in the gate's refusal, over HTTP: ``auth.test``'s ``team`` may
hold ``&`` and ``<`` (Slack lets an admin name a workspace ``R&D <Ops>``). Every place a
refused person reads it (the ``/jit`` answer, a modal, the App Home, an ephemeral by
``response_url`` and the ``chat.postEphemeral`` fallback) has it escaped exactly once
(Slack's formatting rules: ``&amp;``, ``&lt;``, ``&gt;``), so it shows as written."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import ids
from sim.aws_world import DemoWorld
from sim.blocks_text import text_of
from sim.fake_slack import FakeSlack
from tests import bot_harness
from tests.bot_harness import Bot, running_bot
from tests.conftest import world_config

NAME = "R&D <Ops>"
#: what the bot sends (mrkdwn): the name escaped once
SENT = ":no_entry: jitbot is only for members of *R&amp;D &lt;Ops&gt;*; guests can't use it."
#: what the person reads
SHOWN = ":no_entry: jitbot is only for members of *R&D <Ops>*; guests can't use it."


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    monkeypatch.setattr(bot_harness, "FakeSlack", functools.partial(FakeSlack, team_name=NAME))
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        assert running.fake.team_name == NAME
        yield running
    assert running.unexpected_refusals() == []


def section_text(view: dict | None) -> str:
    assert view is not None
    (block,) = view["blocks"]
    return block["text"]["text"]


def test_the_workspace_name_is_escaped_once_wherever_a_refusal_is_shown(bot: Bot) -> None:
    alice = bot.user("alice")
    request = bot.request_access()  # as a member: her DM has a View details button
    form = bot.open_form(alice)
    bot.settle()
    bot.fake.update_user(alice.user_id, is_restricted=True)
    bot.rt.directory.forget(alice.user_id)

    # the /jit answer
    assert alice.slash("/jit").status == 200
    assert [e.text for e in bot.fake.ephemerals(alice.user_id)] == [SENT]

    # a modal: the form she still had open, submitted (the answer turns it into why)
    answer = bot.forge_submission(alice, form, {})
    assert answer.status == 200 and answer.json()["response_action"] == "update"
    modal = answer.json()["view"]
    assert section_text(modal) == SENT
    assert text_of(modal["blocks"][0]["text"]) == SHOWN

    # a click on her request's message: by its response_url
    assert alice.click(bot.root(request, "alice"), ids.ACTION_DETAILS).status == 200
    assert bot.wait_ephemeral(alice, 2) == SENT

    # a click with no response_url: chat.postEphemeral in her DM
    assert alice.forge_click(ids.ACTION_APPROVE, str(request.id)).status == 200
    assert bot.wait_ephemeral(alice, 3) == SENT
    assert bot.fake.calls_to("chat.postEphemeral")[-1].args["text"] == SENT

    # the App Home
    assert alice.open_home().status == 200
    home = bot.fake.wait_for(lambda: bot.fake.home(alice.user_id))
    assert section_text(home) == SENT
    bot.settle()
    assert len(bot.fake.ephemerals(alice.user_id)) == 3
