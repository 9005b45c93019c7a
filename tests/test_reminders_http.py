"""Reminders, escalation and Nudge driven from outside as Slack would (issue 19, point
3): signed payloads to the real Bolt app over HTTP, Slack faked, AWS on moto, SQLite;
time is moved by sweeping at a later moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import ids
from sim.aws_world import DemoWorld
from tests.bot_harness import Bot, action_ids, running_bot
from tests.conftest import world_config
from workflows.domain import AccessRequest, MessageRole
from workflows.states import Status

REMINDERS = "reminders: {first: 30m, backoff: 2, escalate_after: 2h}\n"
RULES = """
access_rules:
  - name: sandbox-admin
    accounts: ["{sandbox}"]
    permission_sets: [AdministratorAccess]
    approvers: [oscar@example.com]
    escalation: [bob@example.com]
"""


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    rules = RULES.format(sandbox=moto_world.accounts["Sandbox"])
    with running_bot(moto_world, tmp_path, world_config(moto_world, REMINDERS + rules)) as b:
        yield b


def reminders(bot: Bot, request: AccessRequest, who: str) -> list[str]:
    """The reminders in ``who``'s thread of ``request``."""
    return [r for r in bot.replies(bot.root(request, who)) if "Reminder" in r or "nudged" in r]


def sweep_at(bot: Bot, request: AccessRequest, after: timedelta) -> None:
    bot.rt.services.sweep(request.requested_at + after)
    bot.settle()


def test_owners_are_reminded_on_the_schedule_then_the_admins_get_it_and_approve(
    bot: Bot,
) -> None:
    request = bot.request_access("alice")
    assert set(request.approvers) == {bot.user("oscar").user_id, bot.user("olga").user_id}
    sweep_at(bot, request, timedelta(minutes=29))
    assert reminders(bot, request, "oscar") == []

    sweep_at(bot, request, timedelta(minutes=30))
    sweep_at(bot, request, timedelta(minutes=31))  # a second sweep sends nothing more
    for owner in ("oscar", "olga"):
        said = reminders(bot, request, owner)
        assert len(said) == 1, said
        assert "Reminder: Alice" in said[0] and "still waiting for 30 minutes" in said[0]
    assert reminders(bot, request, "alice") == []

    sweep_at(bot, request, timedelta(minutes=89))  # the next gap is 60 minutes
    assert len(reminders(bot, request, "oscar")) == 1
    sweep_at(bot, request, timedelta(minutes=90))
    assert len(reminders(bot, request, "oscar")) == 2

    sweep_at(bot, request, timedelta(hours=2))  # escalate_after
    ada_root = bot.root(request, "ada")  # an approval DM with its buttons
    assert ids.ACTION_APPROVE in action_ids(ada_root)
    assert ids.ACTION_APPROVE in action_ids(bot.root(request, "sam"))
    told = bot.wait_reply(bot.root(request, "alice"), "Sent to")
    assert "Sent to the SSO admins and admins after 2 hours with no answer" in told
    why = bot.wait_reply(ada_root, "Escalated to you")
    assert "nobody answered this request in 2 hours" in why
    assert not [r for r in bot.replies(bot.root(request, "oscar")) if "Escalated" in r]
    escalated = [e for e in bot.rt.store.audit_events(request.id) if e["action"] == "escalated"]
    assert len(escalated) == 1 and set(escalated[0]["detail"]["to"]) == {
        bot.user("ada").user_id,
        bot.user("sam").user_id,
    }

    bot.user("ada").click(ada_root, ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert bot.assigned(active)
    bot.settle()
    before = len(reminders(bot, request, "oscar"))
    sweep_at(bot, request, timedelta(hours=8))  # no reminder after a decision
    assert len(reminders(bot, request, "oscar")) == before == 2
    assert len(reminders(bot, request, "ada")) == 0


def test_a_rules_escalation_person_may_approve_only_once_escalated(bot: Bot) -> None:
    request = bot.request_access("alice", permission_set="AdministratorAccess")
    bob = bot.user("bob")
    assert request.approvers == (bot.user("oscar").user_id,)
    bob.forge_click(ids.ACTION_APPROVE, str(request.id))
    assert "no request" in bot.wait_ephemeral(bob, 1).lower()
    assert bot.get(request.id).status == Status.PENDING

    sweep_at(bot, request, timedelta(hours=2))
    bob_root = bot.root(request, "bob")
    assert [r.role for r in bot.get(request.id).messages if r.slack_user_id == bob.user_id] == [
        MessageRole.APPROVER
    ]
    told = bot.wait_reply(bot.root(request, "alice"), "Sent to")
    assert "more approvers (bob@example.com)" in told
    with pytest.raises(AssertionError):  # the admins are not this rule's escalation
        bot.root(request, "ada")

    bob.click(bob_root, ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert bot.assigned(active)
    assert active.decision is not None and active.decision.reviewer.slack_id == bob.user_id


def test_nudge_reminds_the_owners_once_per_interval_and_only_for_the_requester(
    bot: Bot,
) -> None:
    request = bot.request_access("alice")
    alice, oscar = bot.user("alice"), bot.user("oscar")
    root = bot.root(request, "alice")
    assert ids.ACTION_NUDGE in action_ids(root)

    oscar.forge_click(ids.ACTION_NUDGE, str(request.id))
    assert "only the requester" in bot.wait_ephemeral(oscar, 1)

    alice.click(root, ids.ACTION_NUDGE)
    assert "Nudged 2 approvers" in bot.wait_ephemeral(alice, 1)
    bot.settle()
    said = reminders(bot, request, "oscar")
    assert len(said) == 1 and "Alice" in said[0] and "nudged you" in said[0]
    assert len(reminders(bot, request, "olga")) == 1

    alice.click(bot.root(request, "alice"), ids.ACTION_NUDGE)
    too_soon = bot.wait_ephemeral(alice, 2)
    assert "You can nudge again in 29 minutes" in too_soon or "30 minutes" in too_soon
    bot.settle()
    assert len(reminders(bot, request, "oscar")) == 1
    nudged = [e for e in bot.rt.store.audit_events(request.id) if e["action"] == "nudged"]
    assert len(nudged) == 1

    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_status(request.id, Status.ACTIVE)
    bot.settle()
    assert ids.ACTION_NUDGE not in action_ids(bot.root(request, "alice"))
