"""Crashes and replicas, with the bot as real ``jitbot serve --http`` processes against
moto's server (behind the Identity Center stand-in, :mod:`sim.aws_standin`, which records
the calls) and the fake Slack:

* SIGKILL between the approval and the grant, and between the expiry and the revoke:
  after a restart the work is finished, once;
* two replicas on one PostgreSQL share 200 sessions falling due within half a minute:
  each assignment is removed once, on time, and each requester told once; then the
  same with one replica SIGKILLed mid-way.

Real time and processes; the two-replica tests need minutes and PostgreSQL
(``JITBOT_TEST_POSTGRES_URL``): they are marked ``slow`` (``pytest -m slow``) and skipped
with the reason where no server is reachable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from slack_sdk import WebClient

from bot import ids
from sim.aws_standin import AwsStandin
from sim.aws_world import DemoWorld, seed_demo_world, start_moto_server
from sim.demo_setup import PEOPLE
from sim.fake_slack import FakeSlack, Message
from sim.people import SlackUser
from storage.db import create_schema, make_engine
from storage.store import SqlStore
from tests.conftest import postgres_schema
from tests.test_e2e_http import Env, approval_dm, bot_env, submit_request, thread_replies
from workflows.config.defaults import IDENTITY_CENTER_CALLS_PER_SECOND
from workflows.domain import (
    AccessRequest,
    GrantedSession,
    MessageRef,
    MessageRole,
    NewRequest,
    Person,
)
from workflows.states import Status

LEASE = 4  # seconds: lease_duration in the bots' config
SWEEP = 1  # seconds: sweep_interval
#: the session that falls due while its revoke is under way, and in seconds
SHORT, SHORT_SECONDS = "8s", 8
#: seconds the stand-in keeps an assignment change IN_PROGRESS in the crash tests (the
#: replica tests keep 0: their 200 changes on one account and set would otherwise be
#: serialised by the stand-in's conflicts)
OP_SECONDS = 0.3


@dataclass
class World:
    world: DemoWorld
    fake: FakeSlack
    proxy: AwsStandin
    moto_url: str
    tmp: Path
    env: dict[str, str]
    store: SqlStore

    def replica(self) -> Env:
        return Env(self.world, self.fake, self.tmp, self.env)

    def assigned(self, principal_id: str) -> bool:
        return self.assignments(principal_id) > 0

    def assignments(self, principal_id: str) -> int:
        sso = boto3.client("sso-admin", endpoint_url=self.moto_url)
        found = sso.list_account_assignments(
            InstanceArn=self.world.instance_arn,
            AccountId=self.world.accounts["Sandbox"],
            PermissionSetArn=self.world.permission_sets["ReadOnlyAccess"],
        )["AccountAssignments"]
        return sum(a["PrincipalId"] == principal_id for a in found)


@contextmanager
def world(tmp: Path, database_url: str, op_seconds: float = 0.0) -> Iterator[World]:
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    moto, endpoint = start_moto_server()
    proxy = AwsStandin(endpoint, op_seconds=op_seconds)
    os.environ["AWS_ENDPOINT_URL"] = proxy.url
    fake = FakeSlack().start()
    engine = make_engine(database_url)
    try:
        demo = seed_demo_world()
        for email, (user_id, name) in PEOPLE.items():
            fake.add_user(user_id, email, name)
        config = tmp / "jitbot.yml"
        config.write_text(f"""
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - id: "{demo.accounts["Sandbox"]}"
    owners: [oscar@example.com, olga@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
durations: [{SHORT}, 20s, 1m, 1h]
sweep_interval: {SWEEP}s
lease_duration: {LEASE}s
""")
        env = bot_env(fake, database_url, config, proxy.url)
        create_schema(engine)
        yield World(demo, fake, proxy, endpoint, tmp, env, SqlStore(engine))
    finally:
        engine.dispose()
        fake.stop()
        proxy.stop()
        moto.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    with world(tmp_path, f"sqlite:///{tmp_path}/jitbot.db", OP_SECONDS) as w:
        yield w


@pytest.fixture
def postgres_world(tmp_path: Path) -> Iterator[World]:
    with postgres_schema() as url, world(tmp_path, url) as w:
        yield w


def wait_until(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


# -- SIGKILL mid-work -------------------------------------------------------------------


def reached(w: World, status: Status, timeout: float) -> AccessRequest:
    """Request #1 once it is ``status``."""
    return wait_until(
        lambda: (r := w.store.get(1)) and r.status == status and r, timeout, status.value
    )


def told_once(w: World, who: SlackUser, words: str) -> None:
    """``who``'s latest thread gets a reply with ``words``, and (a second later) only one."""
    root = w.fake.dm_messages(who.user_id)[-1]
    wait_until(lambda: any(words in t for t in thread_replies(w.fake, root)), 10, words)
    time.sleep(1)
    assert len([t for t in thread_replies(w.fake, root) if words in t]) == 1, "told once"


def ask(bot: Env, duration: str) -> tuple[SlackUser, SlackUser, Message]:
    """Alice asks for ReadOnlyAccess on Sandbox; returns Alice, Oscar and his DM."""
    alice, oscar = bot.user("alice@example.com"), bot.user("oscar@example.com")
    submit_request(bot, alice, "Sandbox", "ReadOnlyAccess", duration)
    return alice, oscar, bot.fake.wait_for(lambda: approval_dm(bot.fake, oscar, 1))


@pytest.mark.slow  # a spawned bot SIGKILLed and restarted: README's fast command skips it
def test_killed_between_approval_and_grant_the_restarted_bot_grants_once(
    sqlite_world: World,
) -> None:
    w = sqlite_world
    bot = w.replica()
    bot.start_bot()
    try:
        alice, oscar, message = ask(bot, "1h")
        w.proxy.hold("CreateAccountAssignment")
        oscar.click(message, ids.ACTION_APPROVE)
        w.proxy.wait_for("CreateAccountAssignment")
        bot.kill_bot()  # approved in the database, the assignment never made
        w.proxy.release_all(forward=False)
        request = w.store.get(1)
        assert request is not None and request.status == Status.APPROVED
        assert not w.assigned(request.principal_id)

        bot.start_bot()  # the start-up sweep finds it Approved (after the dead lease)
        active = reached(w, Status.ACTIVE, LEASE + 10)
        assert w.assignments(active.principal_id) == 1
        told_once(w, alice, "Access granted")
        assert [e["action"] for e in w.store.audit_events(1)].count("granted") == 1
    finally:
        bot.stop_bot()


@pytest.mark.slow  # a spawned bot SIGKILLed and restarted: README's fast command skips it
def test_killed_between_expiry_and_revoke_the_restarted_bot_revokes_once(
    sqlite_world: World,
) -> None:
    w = sqlite_world
    bot = w.replica()
    bot.start_bot()
    try:
        alice, oscar, message = ask(bot, SHORT)
        oscar.click(message, ids.ACTION_APPROVE)
        active = reached(w, Status.ACTIVE, 10)
        w.proxy.hold("DeleteAccountAssignment")
        # the session's end
        w.proxy.wait_for("DeleteAccountAssignment", timeout=SHORT_SECONDS + 20)
        bot.kill_bot()  # due, the revoke under way, nothing recorded
        w.proxy.release_all()  # AWS does remove it; the bot never learnt
        assert w.store.get(1).status == Status.ACTIVE

        bot.start_bot()
        reached(w, Status.EXPIRED, LEASE + 10)
        assert not w.assigned(active.principal_id)
        told_once(w, alice, "Access expired")
        assert [e["action"] for e in w.store.audit_events(1)].count("expired") == 1
    finally:
        bot.stop_bot()


def test_sigterm_finishes_the_grant_in_progress_before_exiting(sqlite_world: World) -> None:
    w = sqlite_world
    bot = w.replica()
    bot.start_bot()
    try:
        _alice, oscar, message = ask(bot, "1h")
        w.proxy.hold("CreateAccountAssignment")
        oscar.click(message, ids.ACTION_APPROVE)
        w.proxy.wait_for("CreateAccountAssignment")
        assert bot.proc is not None
        bot.proc.terminate()  # SIGTERM while the grant waits on AWS
        time.sleep(1)
        assert bot.proc.poll() is None, "it waits for the grant in progress"
        w.proxy.release_all()  # AWS answers
        assert bot.proc.wait(20) == 0
        request = w.store.get(1)
        assert request is not None and request.status == Status.ACTIVE
        assert w.assignments(request.principal_id) == 1, w.proxy.of("CreateAccountAssignment")
        assert "finishing the work in progress" in bot.logs()
    finally:
        bot.stop_bot()


# -- two replicas -----------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    request_id: int
    principal_id: str
    due: datetime
    root: tuple[str, str]


def seed_sessions(w: World, tag: str, count: int, first_due: datetime, spread: float):
    """``count`` active sessions of distinct people on Sandbox/ReadOnlyAccess, due evenly
    from ``first_due`` over ``spread`` seconds, each with its assignment in AWS and its
    requester's thread root in Slack."""
    identity = boto3.client("identitystore", endpoint_url=w.moto_url)
    sso = boto3.client("sso-admin", endpoint_url=w.moto_url)
    slack = WebClient(token=w.fake.token, base_url=w.fake.url)
    sandbox = w.world.accounts["Sandbox"]
    permission_set = w.world.permission_sets["ReadOnlyAccess"]
    now = datetime.now(UTC)
    seeded = []
    for i in range(count):
        email, slack_id, name = f"{tag}{i}@example.com", f"U{tag.upper()}{i:04d}", f"{tag} {i}"
        user_id = identity.create_user(
            IdentityStoreId=w.world.identity_store_id,
            UserName=email,
            DisplayName=name,
            Name={"GivenName": tag, "FamilyName": str(i)},
            Emails=[{"Value": email, "Primary": True}],
        )["UserId"]
        w.fake.add_user(slack_id, email, name)
        sso.create_account_assignment(
            InstanceArn=w.world.instance_arn,
            TargetId=sandbox,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=permission_set,
            PrincipalType="USER",
            PrincipalId=user_id,
        )
        due = first_due + timedelta(seconds=spread * i / count)
        request = w.store.add_request(
            NewRequest(
                requester=Person(slack_id, email, name),
                principal_id=user_id,
                account_id=sandbox,
                account_name="Sandbox",
                permission_set_name="ReadOnlyAccess",
                permission_set_arn=permission_set,
                duration=due - now,
                justification="Seeded for the replica test",
                requested_at=now,
                approval_deadline=now + timedelta(hours=1),
                approvers=("oscar@example.com",),
                status=Status.APPROVED,
            )
        )
        assert w.store.transition(
            request.id,
            Status.APPROVED,
            Status.ACTIVE,
            now=now,
            actor="jitbot",
            action="granted",
            session=GrantedSession(now, due),
        )
        channel = slack.conversations_open(users=slack_id)["channel"]["id"]
        ts = slack.chat_postMessage(channel=channel, text=f"Your request #{request.id}")["ts"]
        w.store.add_messages(request.id, [MessageRef(channel, ts, MessageRole.REQUESTER, slack_id)])
        seeded.append(Seeded(request.id, user_id, due, (channel, ts)))
    return seeded


def all_ended(w: World, seeded: list[Seeded]) -> bool:
    return all(w.store.get(s.request_id).status == Status.EXPIRED for s in seeded)


def check_ended_once_and_told_once(
    w: World, seeded: list[Seeded], *, max_lag: float, extra_deletes: int
) -> dict[str, float]:
    deletes = {}
    for call in w.proxy.of("DeleteAccountAssignment"):
        if call.refused is None:  # a throttled or refused call never reached AWS
            deletes.setdefault(call.principal_id, []).append(call.at)
    lags = []
    for s in seeded:
        times = deletes.get(s.principal_id, [])
        assert times, f"request {s.request_id} was never removed"
        assert not w.assigned(s.principal_id), (
            f"request {s.request_id} still assigned ({w.assignments(s.principal_id)} in AWS, "
            f"deleted at {times}, audit {w.store.audit_events(s.request_id)})"
        )
        lags.append(min(times) - s.due.timestamp())
    repeated = sum(len(deletes.get(s.principal_id, [])) - 1 for s in seeded)
    assert repeated <= extra_deletes, f"{repeated} assignments were removed more than once"
    assert max(lags) <= max_lag, f"a session stayed {max(lags):.1f}s past its end"
    wait_until(lambda: w.store.outbox_backlog()[0] == 0, 60, "every notice sent")
    for s in seeded:
        replies = [t for t in thread_replies_at(w.fake, *s.root) if "Access expired" in t]
        assert len(replies) == 1, (s.request_id, replies)
        events = [e["action"] for e in w.store.audit_events(s.request_id)]
        assert events.count("expired") == 1
    return {"max_lag": max(lags), "repeated": repeated}


def assert_both_replicas_worked(w: World, seeded: list[Seeded]) -> None:
    holders = {
        (e["detail"] or {}).get("replica")
        for s in seeded
        for e in w.store.audit_events(s.request_id)
        if e["action"] == "expired"
    }
    assert len(holders) == 2, f"both replicas shared the work: {holders}"


def thread_replies_at(fake: FakeSlack, channel: str, ts: str) -> list[str]:
    return [m.text for m in fake.thread(channel, ts)[1:]]


@pytest.mark.slow
@pytest.mark.postgresql
def test_two_replicas_share_200_sessions_due_together_even_when_one_is_killed(
    postgres_world: World,
) -> None:
    w = postgres_world
    first, second = w.replica(), w.replica()
    started = datetime.now(UTC)
    seeded = seed_sessions(w, "r", 200, started + timedelta(seconds=25), spread=30)
    first.start_bot()
    second.start_bot()
    try:
        wait_until(lambda: all_ended(w, seeded), 90, "all 200 sessions ended")
        calm = check_ended_once_and_told_once(w, seeded, max_lag=3.0, extra_deletes=0)
        assert_both_replicas_worked(w, seeded)

        # again, and one replica is SIGKILLed mid-way
        start = datetime.now(UTC)
        more = seed_sessions(w, "k", 200, start + timedelta(seconds=15), spread=30)
        wait_until(
            lambda: sum(w.store.get(s.request_id).status == Status.EXPIRED for s in more) >= 60,
            90,
            "a third ended",
        )
        first.kill_bot()
        wait_until(lambda: all_ended(w, more), 90, "all 200 sessions ended after the kill")
        killed = check_ended_once_and_told_once(
            w, more, max_lag=LEASE + SWEEP + 3.0, extra_deletes=10
        )
        print(f"\nreplicas: calm {calm}, one killed {killed}")
    finally:
        first.stop_bot()
        second.stop_bot()


#: Identity Center's collective limit on its sso-admin APIs (IAM Identity Center quotas
#: page), the throttle's burst as in ``benchmarks.awshooks``, and the bots' own limit
QUOTA, QUOTA_BURST = 20.0, 20.0  # AWS's; the bots pace themselves below it


@pytest.mark.slow
@pytest.mark.postgresql
def test_two_replicas_share_identity_centers_quota_and_are_never_throttled(
    postgres_world: World,
) -> None:
    """200 sessions fall due within 2 s, two replicas end them, and one throttle counts
    both replicas' sso-admin calls together (:meth:`sim.aws_standin.AwsStandin.throttle`).
    Each replica paces itself at its share of ``max_calls_per_second`` (15 by default,
    three quarters of AWS's 20, leaving room for the console and Terraform; 7.5 a second
    each), so AWS never answers ThrottlingException and the two together still use all
    of their rate: the last removal lands near the 13.3 s that rate allows."""
    w = postgres_world
    w.proxy.throttle(QUOTA, QUOTA_BURST)
    first, second = w.replica(), w.replica()
    started = datetime.now(UTC)
    count = 200
    seeded = seed_sessions(w, "q", count, started + timedelta(seconds=20), spread=2)
    first.start_bot()
    second.start_bot()
    try:
        wait_until(lambda: all_ended(w, seeded), 90, "all 200 sessions ended")
        # seconds: one DeleteAccountAssignment per session at the bots' own rate
        bound = count / IDENTITY_CENTER_CALLS_PER_SECOND
        throttled = w.proxy.throttled()
        assert throttled == [], f"{len(throttled)} calls throttled, first {throttled[0]}"
        ended = check_ended_once_and_told_once(w, seeded, max_lag=1.5 * bound, extra_deletes=0)
        deletes = sorted(c.at for c in w.proxy.of("DeleteAccountAssignment"))  # none throttled
        took = deletes[-1] - seeded[0].due.timestamp()
        # the rate, not the bots, bounds the time: at most 1.3x the minimum (a small
        # burst each, and no replica left idle while the other works)
        assert took <= 1.3 * bound, f"the last removal took {took:.1f} s, bound {bound:.0f} s"
        assert_both_replicas_worked(w, seeded)
        print(f"\nquota shared: last removal {took:.1f} s after the first due, {ended}")
    finally:
        first.stop_bot()
        second.stop_bot()
