"""Drift reconciliation (workflows.reconcile) on moto and a real SQLite store: access
granted or removed outside jitbot, leftover JIT- permission sets, and `jitbot reconcile`.

Slack is a recording notifier behind the real outbox dispatcher, wording each reply
with the real renderer, so the tests read what people would read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from bot.cli import main
from bot.render.messages import notice_text
from sim.aws_world import DemoWorld
from sim.demo_setup import PEOPLE
from sim.fake_slack import FakeSlack
from storage.store import SqlStore
from tests.conftest import REGION, world_config
from workflows.assignments import Assignment, AwsError
from workflows.aws import IdentityCenter
from workflows.catalog import build_catalog
from workflows.domain import AccessRequest, MessageRef, MessageRole, Notice, Person
from workflows.outbox import OutboxDispatcher
from workflows.reconcile import VANISHED_REASON, Reconciler
from workflows.reconcile.reconciler import FIRST_RUN
from workflows.services import Hooks, Services
from workflows.states import Status
from workflows.validation import KIND_CUSTOM, RequestForm

ALICE = Person("U01ALICE", "alice@example.com", "Alice Archer")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
SAM = Person("U04SAM", "sam@example.com", "Sam SsoAdmin")
ADA = Person("U05ADA", "ada@example.com", "Ada Admin")
CUSTOM = """
custom_permission_sets:
  enabled: true
  managed_policies: [ReadOnlyAccess]
"""
REPORT = """
reconcile:
  mode: report
"""
REMOVE = """
reconcile:
  mode: remove
"""
REMOVE_GROUPS = """
reconcile:
  mode: remove
  groups: remove
"""


@dataclass
class RecordingSlack:
    """The outbox's Slack: every thread reply as its reader would see it, and each DM
    to an admin."""

    replies: list[tuple[int, str, str]] = field(default_factory=list)  # request, user, text
    alerts: list[tuple[str, str]] = field(default_factory=list)  # admin email, text
    _roots: int = 0

    def post_request_thread(self, request: AccessRequest) -> MessageRef:
        self._roots += 1
        slack_id = request.requester.slack_id
        return MessageRef("D" + slack_id, f"{self._roots}.0", MessageRole.REQUESTER, slack_id)

    def post_approval_request(
        self, request: AccessRequest, email: str, role: MessageRole = MessageRole.APPROVER
    ) -> MessageRef:
        self._roots += 1
        return MessageRef("D" + email, f"{self._roots}.0", role, email)

    def refresh(self, request: AccessRequest) -> None:
        pass

    def reply(self, request: AccessRequest, ref: MessageRef, notice: Notice) -> None:
        text = notice_text(request, notice, for_requester=ref.role == MessageRole.REQUESTER)
        if text:
            self.replies.append((request.id, ref.slack_user_id, text))

    def alert_admin(self, user: str, text: str, confirm: dict | None = None) -> None:
        self.alerts.append((user, text))

    def told(self, request_id: int, who: str) -> list[str]:
        return [text for rid, user, text in self.replies if rid == request_id and user == who]


@dataclass
class World:
    services: Services
    store: SqlStore
    slack: RecordingSlack
    world: DemoWorld

    def reconciler(self, **kwargs: Any) -> Reconciler:
        return Reconciler(self.services, **kwargs)

    def arn(self, name: str) -> str:
        return self.world.permission_sets[name]

    def account(self, name: str) -> str:
        return self.world.accounts[name]

    def user(self, email: str) -> str:
        return self.world.users[email]

    def grant(self, at: datetime, account: str = "Sandbox") -> AccessRequest:
        """Alice's 4 hour ReadOnlyAccess, approved by the admin at ``at``."""
        form = RequestForm(self.account(account), "ReadOnlyAccess", "4h", "Looking into OPS-1234")
        request = self.services.submit_request(ALICE, form, at)
        granted = self.services.decide(request.id, ADA, True, at)
        assert granted.status == Status.ACTIVE
        return granted

    def audits(self, action: str) -> list[dict[str, Any]]:
        return [e for e in self.store.audit_events() if e["action"] == action]


def make_world(
    world: DemoWorld,
    store: SqlStore,
    extra: str = "",
    sso_client: Any = None,
    *,
    installed: bool = True,
) -> World:
    """The world's services; ``reconcile.mode: remove`` unless ``extra`` says otherwise,
    and (``installed``) past the first run, which only reports."""
    config = world_config(world, extra if "reconcile:" in extra else extra + REMOVE)
    if installed:
        store.audit(None, "jitbot", FIRST_RUN, datetime.now(UTC), {})
    aws = IdentityCenter(
        region=REGION,
        sleep=lambda s: None,
        clients={"sso-admin": sso_client} if sso_client is not None else None,
    )
    catalog = build_catalog(config, aws.permission_set_arns(), aws.account_names())
    slack = RecordingSlack()
    outbox = OutboxDispatcher(
        store, slack, admins=lambda: ["U05ADA"], holder="test", clock=lambda: datetime.now(UTC)
    )
    services = Services(config, catalog, store, aws, hooks=Hooks(kick=outbox.deliver_all))
    return World(services, store, slack, world)


@pytest.fixture
def now() -> datetime:
    """Real time: moto stamps permission sets with the real CreatedDate."""
    return datetime.now(UTC)


@pytest.fixture
def w(moto_world: DemoWorld, store: SqlStore) -> World:
    return make_world(moto_world, store)


def sso() -> Any:
    return boto3.client("sso-admin", region_name=REGION)


def by_hand(w: World, account: str, permission_set_arn: str, principal: str, kind="USER"):
    """What someone does in the IAM Identity Center console."""
    sso().create_account_assignment(
        InstanceArn=w.world.instance_arn,
        TargetId=w.account(account),
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=permission_set_arn,
        PrincipalType=kind,
        PrincipalId=principal,
    )


def removed_by_hand(w: World, request: AccessRequest) -> None:
    sso().delete_account_assignment(
        InstanceArn=w.world.instance_arn,
        TargetId=request.account_id,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=request.permission_set_arn,
        PrincipalType="USER",
        PrincipalId=request.principal_id,
    )


def assigned(w: World, account: str, permission_set_arn: str) -> set[tuple[str, str]]:
    """``{(principal type, principal id)}`` assigned in AWS now."""
    items = sso().list_account_assignments(
        InstanceArn=w.world.instance_arn,
        AccountId=w.account(account),
        PermissionSetArn=permission_set_arn,
    )["AccountAssignments"]
    return {(i["PrincipalType"], i["PrincipalId"]) for i in items}


def a_group(w: World, name: str = "contractors") -> str:
    return boto3.client("identitystore", region_name=REGION).create_group(
        IdentityStoreId=w.world.identity_store_id, DisplayName=name
    )["GroupId"]


def jit_set_names() -> set[str]:
    client = sso()
    instance = client.list_instances()["Instances"][0]["InstanceArn"]
    return {
        client.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)["PermissionSet"][
            "Name"
        ]
        for arn in client.list_permission_sets(InstanceArn=instance)["PermissionSets"]
    }


def leftover_set(name: str, request_id: int) -> str:
    """A JIT- set an earlier jitbot process made (and crashed before using or deleting)."""
    earlier = IdentityCenter(region=REGION, sleep=lambda s: None)
    return earlier.create_custom_permission_set(
        name=name,
        session_duration="PT1H",
        description=f"Created by jitbot for request #{request_id} of alice@example.com",
        request_id=request_id,
        managed_policies=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        inline_policy=None,
    )


# --------------------------------------------------------------------------- stray assignments


def test_standing_group_access_stays_and_a_hand_made_user_is_reported_until_remove_mode(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    """A real organization on the first day: Control Tower's group keeps its standing
    access; a hand-made user assignment is reported to the admins, removed only once
    an admin chose ``reconcile.mode: remove``."""
    w = make_world(moto_world, store, "\nreconcile: {}\n", installed=False)  # defaults
    admins = a_group(w, "AWSControlTowerAdmins")
    bob = w.user("bob@example.com")
    by_hand(w, "Sandbox", w.arn("AdministratorAccess"), admins, kind="GROUP")
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), bob)

    first = w.reconciler().run(now)
    second = w.reconciler().run(now + timedelta(minutes=10))

    assert assigned(w, "Sandbox", w.arn("AdministratorAccess")) == {("GROUP", admins)}
    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == {("USER", bob)}
    assert first.first_run and not second.first_run
    assert first.stray_removed == second.stray_removed == []
    alert = "\n".join(text for _, text in w.slack.alerts)
    assert f"GROUP AWSControlTowerAdmins ({admins}) has AdministratorAccess on Sandbox" in alert
    assert f"USER bob@example.com ({bob}) has ReadOnlyAccess on Sandbox" in alert
    assert "first run" in alert

    w = make_world(moto_world, store, REMOVE)  # an admin chose to remove
    third = w.reconciler().run(now + timedelta(minutes=20))
    assert [s.assignment.principal_id for s in third.stray_removed] == [bob]
    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == set()
    assert assigned(w, "Sandbox", w.arn("AdministratorAccess")) == {("GROUP", admins)}
    assert [s.assignment.principal_id for s in third.stray_reported] == [admins]


def test_the_first_run_only_reports_whatever_the_mode(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    w = make_world(moto_world, store, REMOVE_GROUPS, installed=False)
    bob = w.user("bob@example.com")
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), bob)

    first = w.reconciler().run(now)
    assert first.mode == "report" and first.stray_removed == []
    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == {("USER", bob)}
    assert [e["detail"] for e in w.audits(FIRST_RUN)] == [{"configured_mode": "remove"}]

    then = w.reconciler().run(now + timedelta(minutes=10))
    assert [s.assignment.principal_id for s in then.stray_removed] == [bob]


def test_kept_principals_are_neither_removed_nor_reported(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    keep = REMOVE_GROUPS + "  keep: [BreakGlass, sam@example.com]\n"
    w = make_world(moto_world, store, keep)
    glass = a_group(w, "BreakGlass")
    sam, bob = w.user("sam@example.com"), w.user("bob@example.com")
    for principal, kind in ((glass, "GROUP"), (sam, "USER"), (bob, "USER")):
        by_hand(w, "Sandbox", w.arn("AdministratorAccess"), principal, kind=kind)

    report = w.reconciler().run(now)

    assert assigned(w, "Sandbox", w.arn("AdministratorAccess")) == {
        ("GROUP", glass),
        ("USER", sam),
    }
    assert [s.assignment.principal_id for s in report.stray_removed] == [bob]
    assert report.stray_reported == []


def test_when_the_kept_principals_cannot_be_looked_up_nothing_is_removed(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    w = make_world(moto_world, store, REMOVE_GROUPS + "  keep: [BreakGlass]\n")
    bob = w.user("bob@example.com")
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), bob)

    def refused(name: str) -> str | None:
        raise AwsError("identitystore GetGroupId: AccessDeniedException")

    w.services.aws.find_group_id = refused  # type: ignore[method-assign]
    report = w.reconciler().run(now)

    assert report.mode == "report" and report.stray_removed == []
    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == {("USER", bob)}
    assert any("reconcile.keep" in e for e in report.errors)


def test_an_assignment_added_by_hand_for_a_managed_set_is_removed_and_audited(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    w = make_world(moto_world, store, REMOVE_GROUPS)
    bob = w.user("bob@example.com")
    group = a_group(w)
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), bob)
    by_hand(w, "Production", w.arn("ReadOnlyAccess"), group, kind="GROUP")

    report = w.reconciler().run(now)

    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == set()
    assert assigned(w, "Production", w.arn("ReadOnlyAccess")) == set()
    assert {s.assignment.principal_id for s in report.stray_removed} == {bob, group}
    assert report.errors == [] and report.stray_reported == []
    removed = w.audits("drift_assignment_removed")
    assert {(e["detail"]["principal_type"], e["detail"]["principal_id"]) for e in removed} == {
        ("USER", bob),
        ("GROUP", group),
    }
    assert all(e["actor"] == "jitbot" and e["request_id"] is None for e in removed)
    # one summary, to each admin
    [(email, text)] = w.slack.alerts
    assert email == "U05ADA"
    assert "2 stray assignment(s) removed" in text
    assert f"USER bob@example.com ({bob}) has ReadOnlyAccess on Sandbox" in text
    assert f"GROUP contractors ({group}) has ReadOnlyAccess on Production" in text


def test_report_mode_only_reports_and_audits_once_while_the_drift_stays(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    w = make_world(moto_world, store, REPORT)
    bob = w.user("bob@example.com")
    by_hand(w, "Sandbox", w.arn("AdministratorAccess"), bob)
    reconciler = w.reconciler()

    report = reconciler.run(now)

    assert assigned(w, "Sandbox", w.arn("AdministratorAccess")) == {("USER", bob)}
    assert [s.assignment.principal_id for s in report.stray_reported] == [bob]
    assert report.stray_removed == []
    assert [e["detail"]["principal_id"] for e in w.audits("drift_assignment_found")] == [bob]
    assert w.audits("drift_assignment_removed") == []
    [(_, text)] = w.slack.alerts
    assert "report mode" in text and "found assignment (report only)" in text

    # the next run reports it again, but neither audits nor alerts it twice
    again = reconciler.run(now + timedelta(minutes=10))
    assert len(again.stray_reported) == 1
    assert len(w.audits("drift_assignment_found")) == 1
    assert len(w.slack.alerts) == 1


def test_report_only_overrides_remove_mode(w: World, now: datetime):
    bob = w.user("bob@example.com")
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), bob)
    report = w.reconciler(report_only=True).run(now)
    assert report.mode == "report" and len(report.stray_reported) == 1
    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == {("USER", bob)}


def test_an_active_grant_is_kept_and_nothing_is_said(w: World, now: datetime):
    request = w.grant(now - timedelta(minutes=30))
    before = list(w.slack.replies)

    report = w.reconciler().run(now)

    assert not report.found
    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == {("USER", request.principal_id)}
    assert w.store.get(request.id).status == Status.ACTIVE
    assert w.slack.alerts == [] and w.slack.replies == before


def test_overlapping_grants_keep_their_shared_assignment_and_only_a_strangers_goes(
    w: World, now: datetime
):
    first = w.grant(now - timedelta(hours=1))
    second = w.grant(now - timedelta(minutes=5))
    bob = w.user("bob@example.com")
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), bob)

    report = w.reconciler().run(now)

    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == {("USER", first.principal_id)}
    assert [s.assignment.principal_id for s in report.stray_removed] == [bob]
    assert report.vanished == []
    assert {w.store.get(r.id).status for r in (first, second)} == {Status.ACTIVE}


def test_an_assignment_whose_grant_lands_meanwhile_is_kept(w: World, now: datetime):
    """Approved but not yet Active: the grant is in progress (or the sweep finishes it)."""
    form = RequestForm(w.account("Sandbox"), "ReadOnlyAccess", "1h", "Looking into OPS-1234")
    request = w.services.submit_request(ALICE, form, now)
    w.store.transition(
        request.id, Status.PENDING, Status.APPROVED, now=now, actor="oscar", action="approved"
    )
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), request.principal_id)  # the grant's call

    report = w.reconciler().run(now)

    assert report.stray_removed == []
    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == {("USER", request.principal_id)}


# --------------------------------------------------------------------------- vanished grants


def test_a_grant_whose_assignment_was_deleted_by_hand_is_revoked_and_everyone_told(
    w: World, now: datetime
):
    request = w.grant(now - timedelta(minutes=30))
    removed_by_hand(w, request)

    report = w.reconciler().run(now)

    ended = w.store.get(request.id)
    assert ended.status == Status.REVOKED and ended.status_label == "Revoked"
    assert ended.session.ended_at == now and ended.session.end_reason == VANISHED_REASON
    assert [v.request_id for v in report.vanished] == [request.id]
    [event] = w.audits("assignment_vanished")
    assert event["request_id"] == request.id and event["detail"]["to"] == "revoked"
    [to_alice] = w.slack.told(request.id, ALICE.slack_id)[-1:]
    assert "Your access (ReadOnlyAccess on Sandbox" in to_alice
    assert "removed outside jitbot" in to_alice and "/jit" in to_alice
    for owner in ("U02OSCAR", "U03OLGA"):
        assert "removed outside jitbot" in w.slack.told(request.id, owner)[-1]
    assert "marked Revoked: request #" in w.slack.alerts[0][1]
    # nothing else happens to it on the next run
    assert not w.reconciler().run(now + timedelta(minutes=10)).found


def test_a_grant_made_a_moment_ago_or_already_due_is_not_judged(w: World, now: datetime):
    fresh = w.grant(now - timedelta(seconds=20))
    due = w.grant(now - timedelta(hours=5), account="Production")  # 4h grant: the sweep's
    removed_by_hand(w, fresh)
    removed_by_hand(w, due)

    report = w.reconciler().run(now)

    assert report.vanished == []
    assert {w.store.get(r.id).status for r in (fresh, due)} == {Status.ACTIVE}
    assert [v.request_id for v in w.reconciler().run(now + timedelta(minutes=2)).vanished] == [
        fresh.id
    ]


def test_overlapping_grants_whose_shared_assignment_vanished_are_both_revoked(
    w: World, now: datetime
):
    first = w.grant(now - timedelta(hours=1))
    second = w.grant(now - timedelta(minutes=5))
    removed_by_hand(w, first)

    report = w.reconciler().run(now)

    assert sorted(v.request_id for v in report.vanished) == [first.id, second.id]
    for request in (first, second):
        assert w.store.get(request.id).status == Status.REVOKED
        assert "removed outside jitbot" in w.slack.told(request.id, ALICE.slack_id)[-1]


def test_report_mode_still_marks_a_vanished_grant(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    w = make_world(moto_world, store, REPORT)
    request = w.grant(now - timedelta(minutes=30))
    removed_by_hand(w, request)
    assert [v.request_id for v in w.reconciler().run(now).vanished] == [request.id]
    assert w.store.get(request.id).status == Status.REVOKED


# --------------------------------------------------------------------------- orphan JIT- sets


def active_custom(w: World, at: datetime) -> AccessRequest:
    form = RequestForm(
        w.account("Sandbox"),
        None,
        "4h",
        "Reading build artifacts for OPS-77",
        kind=KIND_CUSTOM,
        custom_name="Live",
        custom_session_hours="1",
        custom_managed=("ReadOnlyAccess",),
    )
    request = w.services.submit_request(ALICE, form, at)
    w.services.decide(request.id, OSCAR, True, at)
    granted = w.services.decide(request.id, SAM, True, at)
    assert granted.status == Status.ACTIVE and granted.permission_set_arn
    return granted


def test_orphan_jit_sets_are_deleted_after_the_grace_and_a_live_ones_kept(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    w = make_world(moto_world, store, CUSTOM)
    live = active_custom(w, now)
    leftover_set("JIT-Leftover", request_id=999)  # no such request
    gone = w.services.submit_request(
        ALICE,
        RequestForm(w.account("Sandbox"), "ReadOnlyAccess", "1h", "Looking into OPS-1234"),
        now,
    )
    w.services.cancel(gone.id, ALICE, now)
    leftover_set("JIT-OfCancelled", request_id=gone.id)

    # younger than the grace (15 minutes): may be a grant in progress
    early = w.reconciler().run(now + timedelta(minutes=5))
    assert early.orphans_deleted == [] and early.stray_removed == []
    assert {"JIT-Leftover", "JIT-OfCancelled", "JIT-Live"} <= jit_set_names()

    late = w.reconciler().run(now + timedelta(minutes=16))

    assert sorted(o.permission_set.name for o in late.orphans_deleted) == [
        "JIT-Leftover",
        "JIT-OfCancelled",
    ]
    assert late.errors == []
    names = jit_set_names()
    assert "JIT-Live" in names and not names & {"JIT-Leftover", "JIT-OfCancelled"}
    assert w.store.get(live.id).status == Status.ACTIVE
    assert assigned(w, "Sandbox", live.permission_set_arn) == {("USER", live.principal_id)}
    deleted = {
        e["detail"]["permission_set_name"]: e for e in w.audits("orphan_permission_set_deleted")
    }
    assert set(deleted) == {"JIT-Leftover", "JIT-OfCancelled"}
    assert deleted["JIT-OfCancelled"]["request_id"] == gone.id
    assert deleted["JIT-Leftover"]["request_id"] is None
    assert deleted["JIT-Leftover"]["detail"]["request_id"] == 999
    assert "deleted orphan permission set JIT-OfCancelled (request #" in w.slack.alerts[-1][1]


def test_an_orphan_sets_hand_made_assignment_goes_before_the_set(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    w = make_world(moto_world, store, CUSTOM)
    arn = leftover_set("JIT-Stale", request_id=999)
    bob = w.user("bob@example.com")
    by_hand(w, "Production", arn, bob)

    report = w.reconciler().run(now + timedelta(minutes=16))

    assert [s.assignment.principal_id for s in report.stray_removed] == [bob]
    assert [o.permission_set.name for o in report.orphans_deleted] == ["JIT-Stale"]
    assert "JIT-Stale" not in jit_set_names()


def test_a_vanished_custom_grants_set_goes_in_the_same_run(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    w = make_world(moto_world, store, CUSTOM)
    live = active_custom(w, now)
    removed_by_hand(w, live)

    report = w.reconciler().run(now + timedelta(minutes=16))

    assert [v.request_id for v in report.vanished] == [live.id]
    assert [o.permission_set.name for o in report.orphans_deleted] == ["JIT-Live"]
    assert "JIT-Live" not in jit_set_names()
    assert w.store.get(live.id).status == Status.REVOKED


def test_report_mode_keeps_an_orphan_set(moto_world: DemoWorld, store: SqlStore, now: datetime):
    w = make_world(moto_world, store, CUSTOM + REPORT)
    leftover_set("JIT-Leftover", request_id=999)
    report = w.reconciler().run(now + timedelta(minutes=16))
    assert [o.permission_set.name for o in report.orphans_reported] == ["JIT-Leftover"]
    assert "JIT-Leftover" in jit_set_names()
    assert len(w.audits("orphan_permission_set_found")) == 1


# --------------------------------------------------------------------------- failures


def test_an_aws_error_on_one_item_does_not_stop_the_others(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    client = sso()
    production = moto_world.accounts["Production"]
    bob = moto_world.users["bob@example.com"]

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if params.get("AccountId") == production:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not in Production"}},
                "ListAccountAssignments",
            )

    def refuse_bob(params: dict[str, Any], **_: Any) -> None:
        if params.get("PrincipalId") == bob:
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "bob is special"}},
                "DeleteAccountAssignment",
            )

    client.meta.events.register("before-parameter-build.sso-admin.ListAccountAssignments", refuse)
    client.meta.events.register(
        "before-parameter-build.sso-admin.DeleteAccountAssignment", refuse_bob
    )
    w = make_world(moto_world, store, REMOVE_GROUPS, sso_client=client)
    group = a_group(w)
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), bob)
    by_hand(w, "Sandbox", w.arn("ReadOnlyAccess"), group, kind="GROUP")
    by_hand(w, "Production", w.arn("ReadOnlyAccess"), w.user("alice@example.com"))

    report = w.reconciler().run(now)

    assert [s.assignment.principal_id for s in report.stray_removed] == [group]
    assert assigned(w, "Sandbox", w.arn("ReadOnlyAccess")) == {("USER", bob)}
    assert len(report.errors) == 2
    assert any("ListAccountAssignments" in e and "not in Production" in e for e in report.errors)
    assert any(f"removing {bob}@" in e and "bob is special" in e for e in report.errors)
    [failed] = w.audits("drift_assignment_remove_failed")
    assert (
        failed["detail"]["principal_id"] == bob and "bob is special" in failed["detail"]["reason"]
    )
    assert "2 error(s)" in w.slack.alerts[0][1]


def test_a_failed_listing_never_revokes_a_grant(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    client = sso()

    def refuse(params: dict[str, Any], **_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
            "ListAccountAssignments",
        )

    w = make_world(moto_world, store, sso_client=client)
    request = w.grant(now - timedelta(minutes=30))
    removed_by_hand(w, request)
    client.meta.events.register("before-parameter-build.sso-admin.ListAccountAssignments", refuse)

    report = w.reconciler().run(now)

    # the grant's pair is listed (and fails); the others hold no provisioned set
    assert report.vanished == [] and len(report.errors) == 1
    assert w.store.get(request.id).status == Status.ACTIVE


def test_assignments_are_listed_only_where_a_set_is_provisioned(
    moto_world: DemoWorld, store: SqlStore, now: datetime
):
    """One ListAccountsForProvisionedPermissionSet per managed set, then assignments
    listed only where the set is provisioned: 1,000 accounts with a few provisioned
    cost a few calls, not 1,000 per set."""
    client = sso()
    listed: list[str] = []
    client.meta.events.register(
        "before-parameter-build.sso-admin.ListAccountAssignments",
        lambda params, **_: listed.append(params["AccountId"]),
    )
    w = make_world(moto_world, store, sso_client=client)
    bob = w.user("bob@example.com")
    by_hand(w, "Production", w.arn("ReadOnlyAccess"), bob)

    report = w.reconciler().run(now)

    assert [s.assignment.principal_id for s in report.stray_removed] == [bob]
    assert set(listed) == {w.account("Production")}  # (the removal checks it there again)


# --------------------------------------------------------------------------- the AWS adapter


def test_tags_alone_say_which_jit_sets_are_jitbots(aws_env: None):
    instance = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
    ours, theirs, other = (f"{instance}/ps-{n:016x}" for n in (1, 2, 3))
    created = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    client = boto3.client("sso-admin", region_name=REGION)
    stub = Stubber(client)
    stub.add_response(
        "list_permission_sets",
        {"PermissionSets": [ours, theirs, other]},
        {"InstanceArn": instance},
    )
    described = {
        ours: ("JIT-Ours", "Created by jitbot for request #7 of alice@example.com"),
        theirs: ("JIT-Theirs", "Created by jitbot for request #8 of alice@example.com"),
        other: ("ReadOnlyAccess", "not a JIT- set"),
    }
    tags = {
        ours: [
            {"Key": "jitbot:managed", "Value": "true"},
            {"Key": "jitbot:request-id", "Value": "7"},
        ],
        theirs: [{"Key": "team", "Value": "platform"}],  # jitbot's words, not its tags
    }
    for arn, (name, description) in described.items():
        stub.add_response(
            "describe_permission_set",
            {
                "PermissionSet": {
                    "Name": name,
                    "PermissionSetArn": arn,
                    "Description": description,
                    "CreatedDate": created,
                }
            },
            {"InstanceArn": instance, "PermissionSetArn": arn},
        )
        if arn in tags:
            stub.add_response(
                "list_tags_for_resource",
                {"Tags": tags[arn]},
                {"InstanceArn": instance, "ResourceArn": arn},
            )
    ic = IdentityCenter(
        instance_arn=instance,
        identity_store_id="d-0123456789",
        clients={"sso-admin": client},
    )
    with stub:
        [found] = ic.jit_permission_sets()
    stub.assert_no_pending_responses()
    assert (found.arn, found.request_id, found.created_at) == (ours, 7, created)


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        for email, (user_id, name) in PEOPLE.items():
            slack.add_user(user_id, email, name)
        yield slack


@pytest.fixture
def cli_env(
    moto_world: DemoWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeSlack
) -> DemoWorld:
    config = tmp_path / "jitbot.yml"
    config.write_text(f"""
admins: [ada@example.com]
accounts:
  - id: "{moto_world.accounts["Sandbox"]}"
    name: Sandbox
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
reconcile:
  mode: remove
""")
    monkeypatch.setenv("JITBOT_CONFIG", str(config))
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
    monkeypatch.setenv("SLACK_API_URL", fake.url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/jitbot.db")
    return moto_world


def test_cli_reconcile_prints_each_finding_and_removes_it(
    cli_env: DemoWorld, fake: FakeSlack, capsys: pytest.CaptureFixture[str]
):
    world = cli_env
    bob = world.users["bob@example.com"]
    sandbox, read_only = world.accounts["Sandbox"], world.permission_sets["ReadOnlyAccess"]
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    ic.assign(Assignment(sandbox, read_only, bob))

    assert main(["reconcile", "--report-only"]) == 0
    out = capsys.readouterr().out
    assert (
        "found assignment (report only): USER bob@example.com "
        f"({bob}) has ReadOnlyAccess on Sandbox ({sandbox}) "
        "with no active jitbot grant"
    ) in out
    assert "(report mode): 0 stray assignment(s) removed, 1 reported" in out
    table = out.splitlines()[:2]
    assert table[0].split() == [
        "ACCOUNT",
        "PERMISSION",
        "SET",
        "TYPE",
        "PRINCIPAL",
        "PRINCIPAL",
        "ID",
        "DONE",
    ]
    assert table[1].split() == [
        "Sandbox",
        f"({sandbox})",
        "ReadOnlyAccess",
        "USER",
        "bob@example.com",
        bob,
        "reported",
    ]
    assert table[0].index("TYPE") == table[1].index("USER"), "the columns are aligned"
    assert ic.has_assignment(Assignment(sandbox, read_only, bob))

    assert main(["reconcile"]) == 0
    out = capsys.readouterr().out
    assert f"removed assignment: USER bob@example.com ({bob}) has ReadOnlyAccess on Sandbox" in out
    assert "(remove mode): 1 stray assignment(s) removed" in out
    assert not ic.has_assignment(Assignment(sandbox, read_only, bob))
    # the admin was told in Slack
    ada = PEOPLE["ada@example.com"][0]
    assert any("1 stray assignment(s) removed" in m.text for m in fake.dm_messages(ada))

    assert main(["reconcile"]) == 0
    assert "0 stray assignment(s) removed, 0 reported" in capsys.readouterr().out
