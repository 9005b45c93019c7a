"""The expiry warning (``expiry_warning``): driven from outside as Slack would, against
the real Bolt app, the fake Slack and moto, with time moved by sweeping at a moment;
its once-only claim on SQLite and PostgreSQL with two services sweeping one store; and
the service's rules over the fakes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import ids
from bot.scheduler import SWEEP_JOB, Timekeeper, Wakeups
from sim.aws_world import DemoWorld
from sim.fake_slack import Message
from storage.store import SqlStore
from tests.bot_harness import Bot, action_ids, running_bot
from tests.fakes import FakeGranter, fake_world
from workflows.catalog import build_catalog
from workflows.config import Config, parse_config
from workflows.domain import Notice, NoticeKind, OutgoingKind, Person
from workflows.services import Hooks, Leases, Services
from workflows.states import Status
from workflows.validation import RequestForm

ALICE = Person("U01ALICE", "alice@example.com", "Alice Requester")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WARNING = "Your access ends in"


def warn_config(world: DemoWorld, extra: str = "") -> Config:
    """Sandbox owned by Oscar and Olga; sessions of 20 and 40 minutes; warned 15m ahead."""
    return parse_config(
        f"""
admins: [ada@example.com]
accounts:
  - id: "{world.accounts["Sandbox"]}"
    name: Sandbox
    owners: [oscar@example.com, olga@example.com]
    permission_sets: [ReadOnlyAccess]
durations: [20m, 40m, 1h]
expiry_warning: 15m
{extra}"""
    )


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, warn_config(moto_world)) as running:
        yield running


def granted(bot: Bot, duration: str) -> tuple[int, datetime]:
    """Alice asks for ``duration``, Oscar approves; the request id and its grant time."""
    request = bot.request_access(duration=duration)
    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    active = bot.get(request.id)
    assert active.status == Status.ACTIVE and active.session is not None
    return request.id, active.session.granted_at


def warnings_in(bot: Bot, root: Message) -> list[Message]:
    return [m for m in bot.fake.thread(root.channel, root.ts)[1:] if WARNING in m.text]


def test_a_40_minute_session_is_warned_once_25_minutes_in_in_the_requesters_thread(
    bot: Bot,
) -> None:
    request_id, start = granted(bot, "40m")
    request = bot.get(request_id)
    alice = bot.root(request, "alice")
    approvers = [bot.root(request, "oscar"), bot.root(request, "olga")]

    bot.rt.services.sweep(start + timedelta(minutes=24, seconds=59))
    bot.settle()
    assert warnings_in(bot, alice) == []

    bot.rt.services.sweep(start + timedelta(minutes=25))
    bot.wait_reply(alice, WARNING)
    bot.rt.services.sweep(start + timedelta(minutes=26))
    bot.rt.services.sweep(start + timedelta(minutes=30))
    bot.settle()

    (warning,) = warnings_in(bot, alice)
    assert warning.text.startswith(":hourglass_flowing_sand: Your access ends in 15 minutes (")
    assert f"ReadOnlyAccess on Sandbox ({bot.sandbox})" in warning.text
    assert action_ids(warning) == [ids.ACTION_EXTEND, ids.ACTION_RELEASE]
    assert all(b.get("value") == str(request_id) for b in warning.blocks[1]["elements"])
    for root in approvers:
        assert warnings_in(bot, root) == []
        assert len(bot.replies(root)) == 2  # approved, granted: nothing more
    assert [e["action"] for e in bot.rt.store.audit_events(request_id)].count("expiry_warned") == 1
    assert bot.get(request_id).status == Status.ACTIVE and bot.assigned(request)
    assert bot.unexpected_refusals() == []


def test_release_now_from_the_warning_ends_the_session_in_aws(bot: Bot) -> None:
    request_id, start = granted(bot, "40m")
    request = bot.get(request_id)
    alice_root = bot.root(request, "alice")
    bot.rt.services.sweep(start + timedelta(minutes=25))
    bot.wait_reply(alice_root, WARNING)
    (warning,) = warnings_in(bot, alice_root)

    assert bot.user("alice").click(warning, ids.ACTION_RELEASE).status == 200
    bot.wait_status(request_id, Status.REVOKED)
    bot.wait_reply(alice_root, "Access released early by Alice")
    assert not bot.assigned(request)


def test_extend_from_the_warning_moves_the_end_once_an_owner_approves(bot: Bot) -> None:
    request_id, start = granted(bot, "40m")
    request = bot.get(request_id)
    alice_root = bot.root(request, "alice")
    bot.rt.services.sweep(start + timedelta(minutes=25))
    bot.wait_reply(alice_root, WARNING)
    (warning,) = warnings_in(bot, alice_root)

    alice = bot.user("alice")
    before = alice.latest_view()
    assert alice.click(warning, ids.ACTION_EXTEND).status == 200
    modal = bot.next_modal(alice, before)
    answer = alice.submit(
        modal,
        {ids.ACTION_EXTEND_DURATION: "20m", ids.ACTION_EXTEND_REASON: "The restore runs long"},
    )
    assert answer.status == 200 and answer.body == "", answer.body
    oscar_root = bot.root(request, "oscar")

    def asked() -> Message | None:
        for message in bot.fake.thread(oscar_root.channel, oscar_root.ts)[1:]:
            if ids.ACTION_APPROVE_EXTENSION in action_ids(message):
                return message
        return None

    bot.user("oscar").click(bot.fake.wait_for(asked), ids.ACTION_APPROVE_EXTENSION)
    bot.wait_reply(alice_root, "Access extended until")
    extended = bot.get(request_id)
    assert extended.session is not None
    assert extended.session.expires_at == start + timedelta(minutes=60)
    assert extended.status == Status.ACTIVE and bot.assigned(extended)


def test_someone_else_clicking_release_now_on_the_warning_is_refused(bot: Bot) -> None:
    request_id, start = granted(bot, "40m")
    request = bot.get(request_id)
    bot.rt.services.sweep(start + timedelta(minutes=25))
    bot.wait_reply(bot.root(request, "alice"), WARNING)
    (warning,) = warnings_in(bot, bot.root(request, "alice"))

    bob = bot.user("bob")  # a forged click on Alice's button: he never sees her DM
    assert warnings_in(bot, bot.root(request, "alice"))
    assert bob.forge_click(ids.ACTION_RELEASE, str(request_id)).status == 200
    refusal = bot.wait_ephemeral(bob, 1)
    assert refusal == f":warning: There is no request #{request_id} that you can see."
    assert bot.get(request_id).status == Status.ACTIVE and bot.assigned(request)


def test_a_20_minute_session_gets_no_warning(bot: Bot) -> None:
    request_id, start = granted(bot, "20m")
    alice = bot.root(bot.get(request_id), "alice")
    for minute in (4, 5, 6, 10, 15, 19):
        bot.rt.services.sweep(start + timedelta(minutes=minute))
    bot.settle()
    assert warnings_in(bot, alice) == []
    assert "expiry_warned" not in [e["action"] for e in bot.rt.store.audit_events(request_id)]


# ------------------------------------------------------------- once, on SQLite and PostgreSQL


def test_two_services_sweeping_one_store_at_once_warn_once(store: SqlStore) -> None:
    config = parse_config(
        """
accounts:
  - id: "111111111111"
    name: Sandbox
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
durations: [40m]
expiry_warning: 15m
"""
    )
    arn = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"
    catalog = build_catalog(config, {"ReadOnlyAccess": arn}, {"111111111111": "Sandbox"})
    aws = FakeGranter(users={"alice@example.com": "u-alice"})
    replicas = [
        Services(config, catalog, store, aws, hooks=Hooks(), leases=Leases(store, holder=name))
        for name in ("one", "two")
    ]
    form = RequestForm("111111111111", "ReadOnlyAccess", "40m", "Investigating OPS-1")
    request = replicas[0].submit_request(ALICE, form, T0)
    replicas[0].decide(request.id, OSCAR, True, T0)
    assert T0 + timedelta(minutes=25) in store.upcoming_deadlines(T0, timedelta(minutes=15))

    due = T0 + timedelta(minutes=25, seconds=1)
    threads = [
        threading.Thread(target=r.sweep, args=(due + timedelta(milliseconds=i),))
        for i, r in enumerate(replicas * 3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    replicas[1].sweep(due + timedelta(minutes=5))  # a later sweep, or a restart

    warnings = [
        e
        for e in store.outbox_entries(request.id)
        if e.item.kind == OutgoingKind.ANNOUNCE and e.item.notice.kind == NoticeKind.EXPIRY_WARNING
    ]
    assert len(warnings) == 1
    assert 14 * 60 + 58 <= int(warnings[0].item.notice.detail or 0) <= 14 * 60 + 59
    actions = [e["action"] for e in store.audit_events(request.id)]
    assert actions.count("expiry_warned") == 1
    assert store.upcoming_deadlines(due, timedelta(minutes=15)) == [T0 + timedelta(minutes=40)]
    for replica in replicas:
        replica.close()


# ------------------------------------------------------------- the service's rules, over fakes


def test_the_warning_time_is_a_wake_up_and_nothing_is_told_before_it() -> None:
    world = fake_world()  # 1h sessions, the default warning of 15 minutes
    request = world.services.decide(world.submit(ALICE, T0).id, OSCAR, True, T0)
    assert T0 + timedelta(minutes=45) in world.wakes
    world.services.sweep(T0 + timedelta(minutes=44))
    assert not world.store.has_audited("expiry_warned")
    world.services.sweep(T0 + timedelta(minutes=45))
    kinds = [o.payload.get("kind") for rid, o in world.store.outbox if rid == request.id]
    assert kinds.count(NoticeKind.EXPIRY_WARNING.value) == 1


def test_a_warning_missed_while_down_is_sent_late_or_skipped_with_under_a_minute_left() -> None:
    world = fake_world()
    late = world.services.decide(world.submit(ALICE, T0).id, OSCAR, True, T0)
    world.services.sweep(T0 + timedelta(minutes=50))  # down from 44 to 50: sent, 10 left
    (event,) = [e for e in world.store.audit_events(late.id) if e["action"] == "expiry_warned"]
    assert event["detail"]["seconds_left"] == 600 and event["detail"]["late"] is True

    world2 = fake_world()
    skipped = world2.services.decide(world2.submit(ALICE, T0).id, OSCAR, True, T0)
    world2.services.sweep(T0 + timedelta(minutes=59, seconds=30))
    world2.services.sweep(T0 + timedelta(minutes=59, seconds=40))
    actions = world2.store.actions(skipped.id)
    assert "expiry_warned" not in actions and actions.count("expiry_warning_skipped") == 1
    kinds = [o.payload.get("kind") for rid, o in world2.store.outbox if rid == skipped.id]
    assert NoticeKind.EXPIRY_WARNING.value not in kinds


def test_no_warning_when_it_is_turned_off_or_the_session_is_too_short() -> None:
    off = fake_world("expiry_warning: 0\n")
    request = off.services.decide(off.submit(ALICE, T0).id, OSCAR, True, T0)
    off.services.sweep(T0 + timedelta(minutes=50))
    assert not off.store.has_audited("expiry_warned")
    assert off.wakes == [T0 + timedelta(hours=24), T0 + timedelta(hours=1)]
    assert off.store.get(request.id).status == Status.ACTIVE  # type: ignore[union-attr]

    long = fake_world("expiry_warning: 31m\n")  # a 1h session is shorter than 2 x 31m
    long.services.decide(long.submit(ALICE, T0).id, OSCAR, True, T0)
    long.services.sweep(T0 + timedelta(minutes=40))
    assert not long.store.has_audited("expiry_warned")
    assert long.store.upcoming_deadlines(T0, timedelta(minutes=31)) == [T0 + timedelta(hours=1)]


def test_after_a_restart_the_scheduler_wakes_at_each_pending_warning() -> None:
    world = fake_world()  # 1h sessions, warned 15 minutes ahead
    start = datetime.now(UTC) + timedelta(days=1)  # ahead of the real clock APScheduler uses
    world.services.decide(world.submit(ALICE, start).id, OSCAR, True, start)
    wakeups = Wakeups()
    keeper = Timekeeper(
        world.services,
        world.store,
        wakeups,
        interval=timedelta(minutes=5),
        clock=lambda: start + timedelta(minutes=1),
        expiry_warning=timedelta(minutes=15),
    )
    keeper.start()
    try:
        runs = [j.next_run_time for j in wakeups.scheduler.get_jobs() if j.id != SWEEP_JOB]
    finally:
        keeper.shutdown()
    assert sorted(runs) == [start + timedelta(minutes=45), start + timedelta(hours=1)]


def test_the_words_say_the_time_left_and_a_warning_delivered_after_the_end_says_nothing() -> None:
    from bot.render.notices import notice_text
    from tests.test_render import active, expired

    notice = Notice(NoticeKind.EXPIRY_WARNING, detail=str(14 * 60 + 58))
    text = notice_text(active(), notice, for_requester=True)
    assert text is not None
    assert text.startswith(":hourglass_flowing_sand: Your access ends in 15 minutes (<!date^")
    late = Notice(NoticeKind.EXPIRY_WARNING, detail="40")
    assert "ends in 40 seconds (" in (notice_text(active(), late, for_requester=True) or "")
    assert notice_text(active(), notice, for_requester=False) is None  # approvers: not told
    assert notice_text(expired(), notice, for_requester=True) is None  # Slack was down till after


def test_the_running_scheduler_wakes_at_the_warning_moment_without_a_sweep_due(
    moto_world: DemoWorld, tmp_path: Path
) -> None:
    """Real time, seconds-scale: a 6-second session warned 2 seconds ahead, while the
    interval sweep is 5 minutes away: only the wake-up at the warning's moment sends it."""
    config = parse_config(
        f"""
accounts:
  - id: "{moto_world.accounts["Sandbox"]}"
    name: Sandbox
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
durations: [6s]
expiry_warning: 2s
sweep_interval: 5m
"""
    )
    with running_bot(moto_world, tmp_path, config) as bot:
        bot.rt.timekeeper.start()  # its first sweep runs now; the next in 5 minutes
        request_id, start = granted(bot, "6s")
        alice = bot.root(bot.get(request_id), "alice")
        bot.wait_reply(alice, WARNING, timeout=6)
        warned_at = datetime.now(UTC)
        assert start + timedelta(seconds=3.5) <= warned_at < start + timedelta(seconds=6)
        assert action_ids(warnings_in(bot, alice)[0]) == [ids.ACTION_EXTEND, ids.ACTION_RELEASE]
        bot.wait_reply(alice, "Access expired", timeout=6)
        assert len(warnings_in(bot, alice)) == 1
