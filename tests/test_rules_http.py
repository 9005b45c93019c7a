"""Access rules driven from outside as Slack would (issue 18's "Done when"): signed
payloads to the real Bolt app over HTTP, Slack faked, AWS on moto with an Identity Center
group. The rules: Sandbox AdministratorAccess needs two approvals from the group
ProdLeads, at most 1 hour and an INC- ticket; Production ReadOnlyAccess is approved
automatically; Sandbox ReadOnlyAccess may be asked for by Bob only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import ids
from sim.aws_world import DemoWorld, add_group
from sim.blocks_text import blocks_to_text
from tests.bot_harness import Bot, has_block, running_bot
from tests.conftest import world_config
from tests.test_custom_flow import root_when_sent
from workflows.states import Status

JUSTIFICATION = "Failing over the orders database, INC-77"


def _rules(world: DemoWorld) -> str:
    return f"""
access_rules:
  - name: sandbox-admin
    accounts: ["{world.accounts["Sandbox"]}"]
    permission_sets: [AdministratorAccess]
    approvers: [group:ProdLeads]
    approvals: 2
    max_duration: 1h
    ticket: {{pattern: "INC-[0-9]+", link: "https://tickets.example.com/{{}}"}}
  - name: prod-read
    accounts: ["{world.accounts["Production"]}"]
    permission_sets: [ReadOnlyAccess]
    auto_approve: true
  - name: sandbox-read
    accounts: ["{world.accounts["Sandbox"]}"]
    permission_sets: [ReadOnlyAccess]
    requesters: [bob@example.com]
"""


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    add_group(moto_world, "ProdLeads", ["bob@example.com", "sam@example.com"])
    with running_bot(moto_world, tmp_path, world_config(moto_world, _rules(moto_world))) as b:
        yield b


def _submit(bot: Bot, account: str, permission_set: str, duration: str, ticket: str | None):
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.world.accounts[account])
    values = {
        ids.ACTION_PERMISSION_SET: permission_set,
        ids.ACTION_DURATION: duration,
        ids.ACTION_JUSTIFICATION: JUSTIFICATION,
    }
    if ticket is not None:
        values[ids.ACTION_TICKET] = ticket
    return alice.submit(view, values)


def test_two_approvals_from_the_group_and_not_from_an_owner_outside_it(bot: Bot) -> None:
    alice = bot.user("alice")
    assert _submit(bot, "Sandbox", "AdministratorAccess", "1h", "INC-77").json() == {}
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    assert (request.rule_name, request.approvals_needed, request.ticket) == (
        "sandbox-admin",
        2,
        "INC-77",
    )
    bob, sam, oscar = bot.user("bob"), bot.user("sam"), bot.user("oscar")
    assert set(request.approvers) == {bob.user_id, sam.user_id}  # not Oscar, the owner

    oscar.forge_click(ids.ACTION_APPROVE, str(request.id))
    assert "not one of the approvers rule sandbox-admin names" in bot.wait_ephemeral(oscar, 1)
    alice.forge_click(ids.ACTION_APPROVE, str(request.id))
    assert "your own" in bot.wait_ephemeral(alice, 1)

    bob.click(root_when_sent(bot, request, "bob"), ids.ACTION_APPROVE)
    bot.fake.wait_for(lambda: bot.get(request.id).approvals_given == 1 or None)
    bot.settle()
    assert bot.get(request.id).status == Status.PENDING and not bot.assigned(request)
    root = bot.root(request, "sam")
    assert "1 of 2 approvals: Bob Builder" in blocks_to_text(root.blocks)
    bob.forge_click(ids.ACTION_APPROVE, str(request.id))
    assert "already counts: 1 of 2 approvals" in bot.wait_ephemeral(bob, 1)

    sam.click(root, ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert bot.assigned(active)
    actions = [e["action"] for e in bot.rt.store.audit_events(request.id)]
    assert actions[:3] == ["requested", "approval_counted", "approved"]


def test_a_missing_ticket_and_a_longer_duration_are_refused_inline(bot: Bot) -> None:
    alice = bot.user("alice")
    missing = _submit(bot, "Sandbox", "AdministratorAccess", "1h", None).json()
    assert missing["errors"] == {ids.BLOCK_TICKET: "This access needs a ticket."}
    wrong = _submit(bot, "Sandbox", "AdministratorAccess", "1h", "ops-1").json()
    assert "does not match the expected form" in wrong["errors"][ids.BLOCK_TICKET]
    longer = _submit(bot, "Sandbox", "AdministratorAccess", "4h", "INC-1").json()
    assert longer["errors"] == {ids.BLOCK_DURATION: "At most 1 hour under rule sandbox-admin."}
    assert bot.requests(alice.user_id) == []


def test_a_request_the_rule_approves_is_granted_with_no_click(bot: Bot) -> None:
    alice = bot.user("alice")
    assert _submit(bot, "Production", "ReadOnlyAccess", "1h", None).json() == {}
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert bot.assigned(active)
    approved = [e for e in bot.rt.store.audit_events(request.id) if e["action"] == "approved"]
    assert approved[0]["actor"] == "jitbot" and approved[0]["detail"]["automatic"] is True
    bot.settle()
    replies = bot.replies(bot.root(request, "alice"))
    assert any("Approved automatically by rule prod-read" in r for r in replies)


def test_the_form_says_what_the_rule_asks_and_offers_no_longer_duration(bot: Bot) -> None:
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    assert (
        alice.select_in_view(view, ids.ACTION_PERMISSION_SET, "AdministratorAccess").status == 200
    )

    def updated() -> dict | None:
        current = bot.fake.view(view["id"])
        return current if has_block(current, ids.BLOCK_RULE_LINE) else None

    form = bot.fake.wait_for(updated)
    text = blocks_to_text(form["blocks"])
    assert (
        "Needs 2 approvals from group:ProdLeads · at most 1 hour · a ticket (rule sandbox-admin)"
        in text
    )
    durations = next(b for b in form["blocks"] if b.get("block_id") == ids.BLOCK_DURATION)
    assert [o["value"] for o in durations["element"]["options"]] == ["1m", "1h"]
    assert has_block(form, ids.BLOCK_TICKET)
    chosen = next(b for b in form["blocks"] if b.get("block_id") == ids.BLOCK_PERMISSION_SET)
    assert chosen["element"]["initial_option"]["value"] == "AdministratorAccess"


def test_a_set_the_rule_does_not_let_alice_ask_is_not_offered_and_a_forged_one_is_refused(
    bot: Bot,
) -> None:
    alice, bob = bot.user("alice"), bot.user("bob")
    form = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    offered = next(b for b in form["blocks"] if b.get("block_id") == ids.BLOCK_PERMISSION_SET)
    assert [o["value"] for o in offered["element"]["options"]] == ["AdministratorAccess"]
    bobs = bot.choose_account(bob, bot.open_form(bob), bot.sandbox)
    offered = next(b for b in bobs["blocks"] if b.get("block_id") == ids.BLOCK_PERMISSION_SET)
    assert [o["value"] for o in offered["element"]["options"]] == [
        "ReadOnlyAccess",
        "AdministratorAccess",
    ]
    options = alice.suggest(form, ids.ACTION_ACCOUNT, "")
    assert {o["value"] for o in options["options"]} == set(bot.world.accounts.values())

    state = alice.fill(
        form,
        {
            ids.ACTION_PERMISSION_SET: "AdministratorAccess",
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: JUSTIFICATION,
        },
    )
    chosen = state[ids.BLOCK_PERMISSION_SET][ids.ACTION_PERMISSION_SET]["selected_option"]
    chosen["value"] = "ReadOnlyAccess"  # a set the form did not offer her
    forged = bot.forge_submission(alice, form, state)
    assert forged.status == 200
    told = bot.wait_ephemeral(alice, 1)
    assert "rule sandbox-read does not let you request this access" in told
    assert bot.requests(alice.user_id) == []
