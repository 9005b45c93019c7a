"""Approvals channel (issue 19, point 4), driven from outside as Slack would: signed
payloads to the real Bolt app over HTTP, Slack faked (with a channel the approvers and
a stranger are in), AWS on moto. Sandbox (owners Oscar and Olga) posts its requests in
#sandbox-approvals; a rule sends Sandbox AdministratorAccess to Bob and Sam (two
approvals) in #admin-approvals, named by ``#name``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import ids
from sim.aws_world import DemoWorld
from sim.client_elements import SlackClientError
from sim.fake_slack import Message
from tests.bot_harness import Bot, action_ids, running_bot, text_of
from tests.test_custom_flow import CUSTOM, S3_FORM, open_custom_form
from workflows.config import Config, parse_config
from workflows.domain import AccessRequest, MessageRole
from workflows.states import Status

SANDBOX_CHANNEL = "C0SANDBOX"
ADMIN_CHANNEL = "C0ADMINS"


def channel_config(world: DemoWorld, notify: str | None = None, extra: str = "") -> Config:
    """Sandbox's requests go to #sandbox-approvals (``notify_approvers`` as given);
    AdministratorAccess on it to Bob, in #admin-approvals; ``extra`` keys added."""
    notify_line = f"\n    notify_approvers: {notify}" if notify else ""
    return parse_config(f"""
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - id: "{world.accounts["Sandbox"]}"
    name: Sandbox
    owners: [oscar@example.com, olga@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
    approval_channel: {SANDBOX_CHANNEL}{notify_line}
  - id: "{world.accounts["Production"]}"
    name: Production
    owners: [olga@example.com]
    permission_sets: [ReadOnlyAccess]
durations: [1m, 1h, 4h, 1d]
access_rules:
  - name: sandbox-admin
    accounts: ["{world.accounts["Sandbox"]}"]
    permission_sets: [AdministratorAccess]
    approvers: [bob@example.com, sam@example.com]
    approvals: 2
    approval_channel: "#admin-approvals"
{extra}""")


def _channels(bot: Bot) -> None:
    members = [bot.user(n).user_id for n in ("oscar", "olga", "bob", "alice", "sam")]
    bot.fake.add_channel(SANDBOX_CHANNEL, "sandbox-approvals", members)
    bot.fake.add_channel(ADMIN_CHANNEL, "admin-approvals", members, private=True)


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, channel_config(moto_world)) as b:
        _channels(b)
        yield b


def submit(bot: Bot, permission_set: str = "ReadOnlyAccess", account: str = "Sandbox"):
    """Alice asks for ``permission_set`` on ``account``; the stored request once its
    channel root is posted, and that root."""
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.world.accounts[account])
    values = {
        ids.ACTION_PERMISSION_SET: permission_set,
        ids.ACTION_DURATION: "1h",
        ids.ACTION_JUSTIFICATION: "Reading the deploy logs for OPS-1",
    }
    assert alice.submit(view, values).json() == {}

    def posted() -> AccessRequest | None:
        for request in bot.requests(alice.user_id):
            if any(r.role == MessageRole.CHANNEL for r in request.messages):
                return request
        return None

    request = bot.fake.wait_for(posted)
    return request, channel_root(bot, request)


def channel_root(bot: Bot, request: AccessRequest) -> Message:
    roots = bot.roots(request, MessageRole.CHANNEL)
    assert len(roots) == 1
    return roots[0]


def test_one_message_reaches_the_channel_names_the_owners_and_an_owner_approves_it(
    bot: Bot,
) -> None:
    request, root = submit(bot)
    bot.settle()
    oscar, olga = bot.user("oscar"), bot.user("olga")
    assert bot.fake.channel_messages(SANDBOX_CHANNEL) == [root]
    assert bot.fake.dm_messages(oscar.user_id) == [] and bot.fake.dm_messages(olga.user_id) == []
    shown = text_of(root)
    who = next(line for line in shown.splitlines() if "Who can approve" in line)
    assert f"<@{oscar.user_id}>" in who and f"<@{olga.user_id}>" in who
    assert "or an SSO admin or admin" in who
    assert action_ids(root)[:2] == [ids.ACTION_APPROVE, ids.ACTION_REJECT]
    assert len(bot.fake.dm_messages(bot.user("alice").user_id)) == 1  # her own thread

    oscar.click(root, ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert bot.assigned(active)
    assert active.decision is not None and active.decision.reviewer.slack_id == oscar.user_id
    bot.wait_reply(root, "Access granted until")
    assert "Approved by" in " ".join(bot.replies(root))
    bot.settle()
    live = bot.fake.message(root.channel, root.ts)
    assert live is not None and ids.ACTION_APPROVE not in action_ids(live)
    assert "Who can approve" not in text_of(live) and "Approved by" in text_of(live)
    assert bot.unexpected_refusals() == []


def test_a_member_who_is_not_an_approver_is_refused_and_nothing_changes(bot: Bot) -> None:
    request, root = submit(bot)
    bot.settle()
    bob = bot.user("bob")
    before = bot.snapshot()
    bob.click(root, ids.ACTION_APPROVE)
    told = bot.wait_ephemeral(bob, 1)
    assert told.startswith(":warning: You can't approve this request: you are not one of its")
    bob.click(root, ids.ACTION_REJECT)
    assert "you are not one of its approvers" in bot.wait_ephemeral(bob, 2)
    eph = bot.fake.ephemerals(bob.user_id)
    assert {e.channel for e in eph} == {SANDBOX_CHANNEL}
    bot.settle()
    assert bot.snapshot() == before  # status, reviews, audit, AWS, messages, no reject form
    assert bot.get(request.id).status == Status.PENDING and not bot.assigned(request)
    zed = bot.user("zed")  # not in the channel: the message isn't his to click
    with pytest.raises(SlackClientError):
        zed.click(root, ids.ACTION_APPROVE)


def test_an_owner_the_rule_does_not_name_is_told_why_and_its_approver_approves(
    bot: Bot,
) -> None:
    request, root = submit(bot, "AdministratorAccess")
    assert root.channel == ADMIN_CHANNEL  # "#admin-approvals", looked up, stored by id
    bot.settle()
    bob, oscar = bot.user("bob"), bot.user("oscar")
    assert bot.fake.channel_messages(SANDBOX_CHANNEL) == []
    sam = bot.user("sam")
    who = next(line for line in text_of(root).splitlines() if "Who can approve" in line)
    assert who.startswith("*Who can approve (2 approvals needed):*")
    assert f"<@{bob.user_id}>" in who and f"<@{sam.user_id}>" in who and "admin" not in who
    before = bot.snapshot()
    oscar.click(root, ids.ACTION_APPROVE)
    assert "not one of the approvers rule sandbox-admin names" in bot.wait_ephemeral(oscar, 1)
    bot.settle()
    assert bot.snapshot() == before
    bob.click(root, ids.ACTION_APPROVE)  # the same message takes both approvals
    bot.fake.wait_for(lambda: bot.get(request.id).approvals_given == 1 or None)
    bot.wait_reply(root, "1 of 2 approvals: Bob Builder")
    bob.click(bot.fake.message(root.channel, root.ts), ids.ACTION_APPROVE)
    assert "already counts: 1 of 2 approvals" in bot.wait_ephemeral(bob, 1)
    assert bot.get(request.id).status == Status.PENDING and not bot.assigned(request)
    sam.click(bot.fake.message(root.channel, root.ts), ids.ACTION_APPROVE)
    assert bot.assigned(bot.wait_status(request.id, Status.ACTIVE))
    bot.wait_reply(root, "Access granted until")


def test_notify_approvers_dm_also_dms_each_owner(moto_world: DemoWorld, tmp_path: Path) -> None:
    with running_bot(moto_world, tmp_path, channel_config(moto_world, "dm")) as bot:
        _channels(bot)
        request, root = submit(bot)
        olga = bot.user("olga")
        bot.fake.wait_for(lambda: len(bot.get(request.id).messages) == 4 or None)
        bot.settle()
        assert bot.fake.channel_messages(SANDBOX_CHANNEL) == [root]
        dm = bot.root(request, "olga")
        assert dm.channel == bot.fake.dm_channel(olga.user_id)
        assert len(bot.roots(request, MessageRole.APPROVER)) == 2
        olga.click(dm, ids.ACTION_APPROVE)
        bot.wait_status(request.id, Status.ACTIVE)
        bot.wait_reply(root, "Access granted until")  # the channel's thread is told too
        bot.settle()
        live = bot.fake.message(root.channel, root.ts)
        assert live is not None and ids.ACTION_APPROVE not in action_ids(live)


def test_a_channel_the_bot_was_removed_from_tells_the_requester_and_the_admins(
    bot: Bot,
) -> None:
    bot.fake.add_channel(SANDBOX_CHANNEL, "sandbox-approvals", [], bot_member=False)
    bot.expect_refusal("chat.postMessage", "not_in_channel")
    alice, ada = bot.user("alice"), bot.user("ada")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    values = {
        ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
        ids.ACTION_DURATION: "1h",
        ids.ACTION_JUSTIFICATION: "Reading the deploy logs for OPS-1",
    }
    assert alice.submit(view, values).json() == {}
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    mine = bot.fake.wait_for(lambda: bot.fake.dm_messages(alice.user_id))[0]
    bot.wait_reply(mine, "approver")
    alert = bot.fake.wait_for(lambda: bot.fake.dm_messages(ada.user_id))[0]
    assert f"Request #{request.id}" in alert.text
    bot.settle()
    assert bot.fake.channel_messages(SANDBOX_CHANNEL) == []
    assert bot.unexpected_refusals() == []


def test_a_custom_request_has_its_owner_stage_in_the_channel_and_its_final_one_by_dm(
    moto_world: DemoWorld, tmp_path: Path
) -> None:
    with running_bot(moto_world, tmp_path, channel_config(moto_world, extra=CUSTOM)) as bot:
        _channels(bot)
        alice, oscar, sam = bot.user("alice"), bot.user("oscar"), bot.user("sam")
        assert alice.submit(open_custom_form(bot, alice), S3_FORM).json() == {}
        request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
        bot.fake.wait_for(lambda: bot.roots(request, MessageRole.CHANNEL))
        root = channel_root(bot, request)
        assert root.channel == SANDBOX_CHANNEL and "JIT-S3Debug" in text_of(root)
        assert "then an SSO admin or admin for the final approval" in text_of(root)
        oscar.click(root, ids.ACTION_APPROVE)
        bot.wait_status(request.id, Status.PENDING_ADMIN)
        final = bot.fake.wait_for(lambda: bot.fake.dm_messages(sam.user_id))[0]
        bot.wait_reply(root, "Owner approval by")
        live = bot.fake.message(root.channel, root.ts)
        assert live is not None and ids.ACTION_APPROVE not in action_ids(live)
        assert "waiting for an SSO admin" in text_of(live)
        sam.click(final, ids.ACTION_APPROVE)
        assert bot.assigned(bot.wait_status(request.id, Status.ACTIVE, timeout=20))
        bot.wait_reply(root, "Access granted until")


def test_an_owner_rejects_from_the_channel_with_a_reason_the_thread_shows(bot: Bot) -> None:
    request, root = submit(bot)
    olga = bot.user("olga")
    olga.click(root, ids.ACTION_REJECT)
    modal = bot.fake.wait_for(
        lambda: (v := olga.latest_view()) and v.get("callback_id") == ids.CALLBACK_REJECT and v
    )
    olga.submit(modal, {ids.ACTION_REJECT_REASON: "Use the <!channel> staging account"})
    bot.wait_status(request.id, Status.REJECTED)
    reply = bot.wait_reply(root, "Rejected by")
    assert "&lt;!channel&gt;" in reply and "<!channel>" not in reply
    bot.settle()
    live = bot.fake.message(root.channel, root.ts)
    assert live is not None and action_ids(live) == [ids.ACTION_DETAILS]
    assert not bot.assigned(request)


def test_an_unanswered_request_in_a_channel_is_reminded_in_the_channels_thread(
    bot: Bot,
) -> None:
    request, root = submit(bot)
    bot.settle()
    bot.rt.services.sweep(request.requested_at + timedelta(minutes=29))
    bot.settle()
    assert not any("Reminder" in r for r in bot.replies(root))
    bot.rt.services.sweep(request.requested_at + timedelta(minutes=30))
    bot.wait_reply(root, "Reminder: Alice")
    bot.rt.services.sweep(request.requested_at + timedelta(minutes=31))
    bot.settle()
    assert sum("Reminder" in r for r in bot.replies(root)) == 1
