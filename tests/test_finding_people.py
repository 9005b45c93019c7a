"""A Slack person found in Identity Center when the addresses differ, as an external
IdP with SCIM makes them: another case, another domain, an explicit override
(``identity.email_domains``, ``identity.overrides``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import ids
from sim.aws_world import DemoWorld
from sim.demo_setup import PEOPLE
from tests.bot_harness import ZED, running_bot
from tests.conftest import world_config
from workflows.config.identity import IdentityConfig
from workflows.states import Status

ALICE_ID, _ = PEOPLE["alice@example.com"]
MAPPED = """
identity:
  email_domains: {corp.com: example.com}
"""


@pytest.mark.parametrize("slack_email", ["Alice@Example.com", "alice@corp.com"])
def test_a_requester_is_found_under_another_case_or_a_mapped_domain(
    moto_world: DemoWorld, tmp_path: Path, slack_email: str
) -> None:
    with running_bot(moto_world, tmp_path, world_config(moto_world, MAPPED)) as bot:
        bot.fake.add_user(ALICE_ID, slack_email, "Alice Archer")

        request = bot.request_access("alice")
        bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)

        granted = bot.fake.wait_for(
            lambda: (r := bot.get(request.id)).status == Status.ACTIVE and r
        )
        assert granted.principal_id == moto_world.users["alice@example.com"]
        assert bot.assigned(granted)


def test_the_message_names_every_address_tried(moto_world: DemoWorld, tmp_path: Path) -> None:
    with running_bot(moto_world, tmp_path, world_config(moto_world, MAPPED)) as bot:
        bot.fake.add_user(ZED[0] + "X", "zed@corp.com", "Zed Other")
        zed = bot.user("zed")
        zed.user_id = ZED[0] + "X"

        explanation = bot.open_form(zed, title="Can't request access")

        assert "looked up: zed@corp.com and zed@example.com" in str(explanation), (
            "the Slack address and its mapped domain"
        )


def test_an_override_is_tried_first() -> None:
    config = IdentityConfig(
        email_domains={"corp.com": "example.com"}, overrides={"U0ZED": "zed.z", "Eve@X.com": "eve"}
    )
    assert config.lookups("zed@corp.com", "U0ZED") == ["zed.z", "zed@corp.com", "zed@example.com"]
    assert config.lookups("eve@x.com", "U0EVE") == ["eve", "eve@x.com"]
    assert config.lookups("bob@example.com") == ["bob@example.com"]
