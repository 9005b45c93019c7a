"""Extending a session, driven from outside as Slack would (issue 19, point 1): signed
payloads to the real Bolt app over HTTP, Slack faked, AWS on moto. Sandbox
ReadOnlyAccess lasts at most 1 hour and may be extended to 2 hours in all with the
same approvals as the request; Sandbox AdministratorAccess is extended at once, up to
a day; Production ReadOnlyAccess needs two approvals, and so do its extensions (the
top-level default, ``approval: same``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from sim.aws_world import DemoWorld, assignments
from sim.blocks_text import blocks_to_text
from sim.fake_slack import Message
from tests.bot_harness import Bot, action_ids, running_bot
from tests.conftest import world_config
from tests.test_custom_flow import root_when_sent
from workflows.domain import AccessRequest, MessageRole
from workflows.extensions import ExtensionStatus
from workflows.states import Status

HOUR = timedelta(hours=1)
REASON = "The migration is still running"


def _rules(world: DemoWorld) -> str:
    return f"""
access_rules:
  - name: sandbox-read
    accounts: ["{world.accounts["Sandbox"]}"]
    permission_sets: [ReadOnlyAccess]
    max_duration: 1h
    extension: {{approval: same, max_total: 2h}}
  - name: sandbox-admin
    accounts: ["{world.accounts["Sandbox"]}"]
    permission_sets: [AdministratorAccess]
    extension: {{approval: none, max_total: 1d}}
  - name: prod-read
    accounts: ["{world.accounts["Production"]}"]
    permission_sets: [ReadOnlyAccess]
    approvals: 2
"""


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world, _rules(moto_world))) as b:
        yield b
        assert b.unexpected_refusals() == []


@pytest.fixture
def aws_writes(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The assignment writes the bot makes to AWS during the test."""
    calls: list[str] = []
    aws = bot.rt.aws
    for name in ("assign", "unassign"):
        real = getattr(aws, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(aws, name, counted)
    return calls


def _active(bot: Bot, permission_set: str = "ReadOnlyAccess") -> AccessRequest:
    """Alice's 1-hour request, approved by Oscar, Active."""
    request = bot.request_access("alice", permission_set=permission_set, duration="1h")
    bot.user("oscar").click(root_when_sent(bot, request, "oscar"), ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    bot.settle()
    return active


def _open_extend(bot: Bot, request: AccessRequest) -> dict[str, Any]:
    """Alice presses Extend on her root; the modal it opens."""
    alice = bot.user("alice")
    root = bot.fake.wait_for(
        lambda: (r := bot.root(request, "alice")) and ids.ACTION_EXTEND in action_ids(r) and r
    )
    before = alice.latest_view()
    assert alice.click(root, ids.ACTION_EXTEND).status == 200
    return bot.next_modal(alice, before)


def _options(view: dict[str, Any]) -> list[str]:
    block = next(b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_EXTEND_DURATION)
    return [o["text"]["text"] for o in block["element"]["options"]]


def _ask(bot: Bot, request: AccessRequest, duration: str = "1h") -> None:
    view = _open_extend(bot, request)
    response = bot.user("alice").submit(
        view, {ids.ACTION_EXTEND_DURATION: duration, ids.ACTION_EXTEND_REASON: REASON}
    )
    assert response.status == 200 and response.body == "", response.body


def _asked_reply(bot: Bot, request: AccessRequest, who: str) -> Message:
    """The reply in ``who``'s thread asking for the extension (with its buttons)."""
    root = bot.root(request, who)

    def posted() -> Message | None:
        for message in bot.fake.thread(root.channel, root.ts)[1:]:
            if ids.ACTION_APPROVE_EXTENSION in action_ids(message):
                return message
        return None

    return bot.fake.wait_for(posted)


def _every_thread_says(bot: Bot, request: AccessRequest, words: str) -> None:
    for root in bot.roots(request):
        bot.wait_reply(root, words)


def test_an_owner_approves_an_extension_and_the_access_ends_an_hour_later(
    bot: Bot, aws_writes: list[str]
) -> None:
    request = _active(bot)
    assert aws_writes == ["assign"]  # the grant
    aws_writes.clear()
    assert request.session is not None
    planned = request.session.expires_at
    mine = [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
    assert assignments(bot.world) == mine

    view = _open_extend(bot, request)
    assert _options(view) == ["1 minute", "1 hour"]  # 4 hours would pass the 2-hour total
    _ask(bot, request)
    alice_root = bot.root(request, "alice")
    bot.wait_reply(alice_root, "You asked to extend this access by 1 hour")
    asked = _asked_reply(bot, request, "oscar")
    assert "asks to extend this access by 1 hour" in asked.text and REASON in asked.text
    assert bot.get(request.id).session == request.session  # nothing moves before approval

    bot.user("oscar").click(asked, ids.ACTION_APPROVE_EXTENSION)
    extended = bot.fake.wait_for(
        lambda: (r := bot.get(request.id)).session.expires_at == planned + HOUR and r
    )
    assert extended.status == Status.ACTIVE and extended.session.granted_at == (
        request.session.granted_at
    )
    _every_thread_says(bot, request, "Access extended until")
    bot.wait_reply(alice_root, "approved by Oscar")
    new_end = f"<!date^{int((planned + HOUR).timestamp())}^"
    bot.fake.wait_for(lambda: all(new_end in str(r.blocks) for r in bot.roots(request)))
    event = bot.rt.store.audit_events(request.id)[-1]
    assert event["action"] == "extended"
    assert event["detail"]["approved_by"] == bot.user("oscar").user_id
    assert event["detail"]["requested_by"] == bot.user("alice").user_id
    assert event["detail"]["old_end"] == planned.isoformat()

    bot.rt.services.sweep(planned + timedelta(seconds=1))  # the old end: still Active
    assert bot.get(request.id).status == Status.ACTIVE and assignments(bot.world) == mine
    assert aws_writes == []  # no second assignment, no AWS call at all
    bot.rt.services.sweep(planned + HOUR)
    assert bot.get(request.id).status == Status.EXPIRED and assignments(bot.world) == []
    assert aws_writes == ["unassign"]


def test_under_approval_none_the_extension_is_immediate(bot: Bot, aws_writes: list[str]) -> None:
    request = _active(bot, "AdministratorAccess")
    aws_writes.clear()
    assert request.session is not None
    _ask(bot, request, "4h")
    extended = bot.fake.wait_for(
        lambda: (r := bot.get(request.id)).session.expires_at > request.session.expires_at and r
    )
    assert extended.session.expires_at == request.session.expires_at + 4 * HOUR
    _every_thread_says(bot, request, "Access extended until")
    bot.settle()
    for root in bot.roots(request, MessageRole.APPROVER):
        thread = bot.fake.thread(root.channel, root.ts)
        assert not any(ids.ACTION_APPROVE_EXTENSION in action_ids(m) for m in thread)
    assert aws_writes == []
    assert assignments(bot.world) == [("Sandbox", "AdministratorAccess", "alice@example.com")]


def test_an_extension_past_max_total_is_refused_inline(bot: Bot) -> None:
    request = _active(bot)
    alice = bot.user("alice")
    view = _open_extend(bot, request)
    state = {
        ids.BLOCK_EXTEND_DURATION: {
            ids.ACTION_EXTEND_DURATION: {
                "type": "static_select",
                "selected_option": {"value": "4h", "text": {"type": "plain_text", "text": "4h"}},
            }
        },
        ids.BLOCK_EXTEND_REASON: {
            ids.ACTION_EXTEND_REASON: {"type": "plain_text_input", "value": REASON}
        },
    }
    answer = bot.forge_submission(alice, view, state).json()
    assert answer["response_action"] == "errors"
    assert "at most 2 hours from its grant" in answer["errors"][ids.BLOCK_EXTEND_DURATION]
    bot.settle()
    assert bot.get(request.id).session == request.session
    assert bot.rt.store.pending_extension(request.id) is None


def test_only_the_requester_may_press_extend(bot: Bot) -> None:
    request = _active(bot)
    before = bot.snapshot()
    oscar, bob = bot.user("oscar"), bot.user("bob")
    oscar.forge_click(ids.ACTION_EXTEND, str(request.id))
    assert "You can't extend this session: only the requester can do that." in bot.wait_ephemeral(
        oscar, 1
    )
    bob.forge_click(ids.ACTION_EXTEND, str(request.id))
    assert f"There is no request #{request.id} that you can see." in bot.wait_ephemeral(bob, 1)
    assert oscar.latest_view() is None and bob.latest_view() is None
    assert bot.snapshot()["requests"] == before["requests"]


def test_a_rejected_extension_leaves_the_end_unchanged(bot: Bot) -> None:
    request = _active(bot)
    _ask(bot, request)
    asked = _asked_reply(bot, request, "oscar")
    extension = bot.rt.store.pending_extension(request.id)
    assert extension is not None
    alice = bot.user("alice")
    alice.forge_click(ids.ACTION_APPROVE_EXTENSION, str(extension.id))
    assert "You can't approve this extension: it is your own." in bot.wait_ephemeral(alice, 1)

    bot.user("oscar").click(asked, ids.ACTION_REJECT_EXTENSION)
    bot.wait_reply(bot.root(request, "alice"), "Your extension was rejected by Oscar")
    olga_asked = _asked_reply(bot, request, "olga")
    bot.user("olga").click(olga_asked, ids.ACTION_APPROVE_EXTENSION)  # too late: decided
    assert "This extension was already rejected." in bot.wait_ephemeral(bot.user("olga"), 1)
    bot.settle()
    assert bot.get(request.id).session == request.session
    stored = bot.rt.store.extension(extension.id)
    assert stored is not None and stored.status == ExtensionStatus.REJECTED


def test_an_extension_still_pending_when_the_session_ends_times_out(bot: Bot) -> None:
    request = _active(bot)
    assert request.session is not None
    _ask(bot, request)
    asked = _asked_reply(bot, request, "oscar")
    bot.rt.services.sweep(request.session.expires_at)
    assert bot.get(request.id).status == Status.EXPIRED
    bot.wait_reply(bot.root(request, "alice"), "The extension wasn't applied")
    extension = bot.rt.store.extension(int(action_value(asked)))
    assert extension is not None and extension.status == ExtensionStatus.TIMED_OUT
    bot.user("oscar").click(asked, ids.ACTION_APPROVE_EXTENSION)
    assert "already timed out" in bot.wait_ephemeral(bot.user("oscar"), 1)
    assert bot.get(request.id).session.expires_at == request.session.expires_at


def test_app_home_offers_extend_on_an_active_session(bot: Bot) -> None:
    request = _active(bot)
    alice = bot.user("alice")
    alice.open_home()
    home = bot.fake.wait_for(
        lambda: (
            (h := bot.fake.home(alice.user_id))
            and "Active Sessions" in blocks_to_text(h["blocks"])
            and h
        )
    )
    before = alice.latest_view()
    assert alice.click(home, ids.ACTION_EXTEND).status == 200
    view = bot.next_modal(alice, before)
    assert view["callback_id"] == ids.CALLBACK_EXTEND
    assert f'"request_id": {request.id}' in view["private_metadata"]


def test_an_extension_needs_as_many_approvals_as_the_request(bot: Bot) -> None:
    request = bot.request_access("alice", account="Production", duration="1h")
    olga, sam = bot.user("olga"), bot.user("sam")
    olga.click(root_when_sent(bot, request, "olga"), ids.ACTION_APPROVE)
    bot.fake.wait_for(lambda: bot.get(request.id).approvals_given == 1 or None)
    sam.click(root_when_sent(bot, request, "sam"), ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert active.session is not None
    bot.settle()

    _ask(bot, active)
    olga.click(_asked_reply(bot, active, "olga"), ids.ACTION_APPROVE_EXTENSION)
    bot.wait_reply(bot.root(active, "alice"), "Extension: 1 of 2 approvals (Olga")
    assert bot.get(request.id).session == active.session
    olga.click(_asked_reply(bot, active, "olga"), ids.ACTION_APPROVE_EXTENSION)
    assert "Your approval already counts: 1 of 2 approvals." in bot.wait_ephemeral(olga, 1)
    assert bot.get(request.id).session == active.session

    sam.click(_asked_reply(bot, active, "sam"), ids.ACTION_APPROVE_EXTENSION)
    bot.fake.wait_for(
        lambda: bot.get(request.id).session.expires_at == active.session.expires_at + HOUR
    )
    _every_thread_says(bot, active, "Access extended until")
    event = bot.rt.store.audit_events(request.id)[-1]
    assert event["detail"]["approvals"] == [olga.user_id, sam.user_id]


def action_value(message: Message) -> str:
    """The value of the Approve extension button of ``message``."""
    for block in message.blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == ids.ACTION_APPROVE_EXTENSION:
                return str(element["value"])
    raise AssertionError("no Approve extension button")
