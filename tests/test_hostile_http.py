"""Driven over HTTP through the fake Slack: a justification full of Slack tokens reaches
the owners' approval DMs as text a person reads, not as a broadcast, a mention or a
disguised link next to the Approve button."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.aws_world import DemoWorld
from sim.blocks_text import blocks_to_text
from tests.bot_harness import Bot, running_bot
from tests.conftest import world_config
from tests.test_hostile_text import live_tokens, mrkdwn_texts
from workflows.domain import MessageRole

TYPED = (
    "<!channel> deploy is down, <@U0ADMIN> approve at "
    "<https://evil.example|https://console.aws.amazon.com/approve>"
)


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running


def test_a_hostile_justification_arrives_in_the_owners_dms_as_plain_text(bot: Bot) -> None:
    request = bot.request_access(justification=TYPED)
    owners = bot.roots(request, MessageRole.APPROVER)
    assert owners
    for message in owners:
        payload = {"text": message.text, "blocks": message.blocks}
        texts = mrkdwn_texts(payload) + [message.text]
        assert live_tokens(texts) == []
        # what the owner reads is what Alice typed, character for character
        assert TYPED in blocks_to_text(message.blocks)
