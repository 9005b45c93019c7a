"""Custom permission sets end to end: the services on SQLite and moto, and the Slack
surface driven over HTTP (modal, two approval stages, warnings)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from bot import ids
from sim.aws_world import DemoWorld
from sim.fake_slack import blocks_to_text
from storage.store import SqlStore
from tests.bot_harness import Bot, running_bot
from tests.conftest import REGION, world_config
from tests.test_services import ALICE, BOB, OLGA, OSCAR, T0, Harness, make_harness
from workflows.assignments import AwsError
from workflows.domain import NoticeKind, Person
from workflows.errors import InvalidRequest, NotAuthorized
from workflows.states import Status
from workflows.validation import KIND_CUSTOM, RequestForm

SAM = Person("U04SAM", "sam@example.com", "Sam SsoAdmin")
CUSTOM = """
custom_permission_sets:
  enabled: true
  managed_policies: [ReadOnlyAccess, AmazonS3ReadOnlyAccess]
  max_session_duration: 8h
"""
S3_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-bucket/*"}
        ],
    }
)
#: the custom form's values over HTTP: S3Debug, one-hour sessions, :data:`S3_POLICY`
S3_FORM = {
    ids.ACTION_CUSTOM_NAME: "S3Debug",
    ids.ACTION_CUSTOM_SESSION: "1",
    ids.ACTION_CUSTOM_INLINE: S3_POLICY,
    ids.ACTION_DURATION: "1h",
    ids.ACTION_JUSTIFICATION: "Reading artifacts for OPS-81",
}
STS_STAR = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}'
)


@pytest.fixture
def h(moto_world: DemoWorld, store: SqlStore) -> Harness:
    return make_harness(moto_world, store, CUSTOM)


def custom_form(
    h: Harness,
    *,
    inline: str | None = S3_POLICY,
    name: str = "S3Debug",
    managed: tuple[str, ...] = ("AmazonS3ReadOnlyAccess",),
) -> RequestForm:
    return RequestForm(
        h.world.accounts["Sandbox"],
        None,
        "1h",
        "Reading build artifacts for OPS-77",
        kind=KIND_CUSTOM,
        custom_name=name,
        custom_session_hours="2",
        custom_managed=managed,
        custom_inline=inline,
    )


def sso():
    return boto3.client("sso-admin", region_name=REGION)


def policies_of(arn: str) -> tuple[list[str], dict]:
    """The managed policy names and the parsed inline policy of a permission set in moto."""
    client = sso()
    instance = client.list_instances()["Instances"][0]["InstanceArn"]
    managed = client.list_managed_policies_in_permission_set(
        InstanceArn=instance, PermissionSetArn=arn
    )["AttachedManagedPolicies"]
    inline = client.get_inline_policy_for_permission_set(
        InstanceArn=instance, PermissionSetArn=arn
    )["InlinePolicy"]
    return [p["Name"] for p in managed], json.loads(inline)


def jit_sets(_h: object = None) -> dict[str, str]:
    """``{name: ARN}`` of the ``JIT-`` permission sets in moto now."""
    client = sso()
    instance = client.list_instances()["Instances"][0]["InstanceArn"]
    found = {}
    for arn in client.list_permission_sets(InstanceArn=instance)["PermissionSets"]:
        name = client.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)[
            "PermissionSet"
        ]["Name"]
        if name.startswith("JIT-"):
            found[name] = arn
    return found


def test_custom_request_goes_owner_then_sso_admin_then_active_then_gone(h: Harness):
    request = h.services.submit_request(ALICE, custom_form(h), T0)
    assert request.status == Status.PENDING_OWNER and request.status_label == "Pending Owner"
    assert request.custom.name == "JIT-S3Debug" and request.custom.warnings == ()
    owners = {e for rid, e in h.notifier.posted if rid == request.id} - {"alice@example.com"}
    assert owners == {"U02OSCAR", "U03OLGA"}

    with pytest.raises(NotAuthorized, match="first approval is for an owner"):
        h.services.decide(request.id, SAM, True, T0)
    staged = h.services.decide(request.id, OSCAR, True, T0, comment="fine by me")
    assert staged.status == Status.PENDING_ADMIN
    assert NoticeKind.OWNER_APPROVED in h.notifier.kinds(request.id)
    admins = [e for rid, e in h.notifier.posted if rid == request.id][-2:]
    assert sorted(admins) == ["U04SAM", "U05ADA"]
    assert jit_sets(h) == {}, "nothing exists in AWS before the final approval"

    with pytest.raises(NotAuthorized, match="another person must give the final approval"):
        h.services.decide(request.id, OSCAR, True, T0)
    with pytest.raises(NotAuthorized, match="final approval is for an SSO admin"):
        h.services.decide(request.id, OLGA, True, T0)

    active = h.services.decide(request.id, SAM, True, T0 + timedelta(minutes=1))
    assert active.status == Status.ACTIVE
    assert [r.stage.value for r in active.reviews] == ["owner", "admin"]
    sets = jit_sets(h)
    assert list(sets) == ["JIT-S3Debug"]
    client, instance = sso(), h.aws.real.instance_arn
    arn = sets["JIT-S3Debug"]
    assert active.permission_set_arn == arn
    described = client.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)
    assert described["PermissionSet"]["SessionDuration"] == "PT2H"
    assert policies_of(arn) == (["AmazonS3ReadOnlyAccess"], json.loads(S3_POLICY))
    assert h.assigned(active)

    h.services.sweep(T0 + timedelta(hours=2))
    assert h.store.get(request.id).status == Status.EXPIRED
    assert not h.assigned(active)
    assert jit_sets(h) == {}, "the JIT- set is deleted after the session"


def test_admin_stage_rejection_leaves_nothing_in_aws(h: Harness):
    request = h.services.submit_request(ALICE, custom_form(h), T0)
    h.services.decide(request.id, OSCAR, True, T0)
    rejected = h.services.decide(request.id, SAM, False, T0, comment="use ReadOnlyAccess")
    assert rejected.status == Status.REJECTED and rejected.status_label == "Admin Rejected"
    assert jit_sets(h) == {}


def test_owner_stage_rejection_is_shown_as_owner_rejected(h: Harness):
    request = h.services.submit_request(ALICE, custom_form(h), T0)
    assert h.services.decide(request.id, OLGA, False, T0).status_label == "Owner Rejected"


def test_a_failed_step_removes_what_was_created_and_fails_the_request(h: Harness):
    request = h.services.submit_request(ALICE, custom_form(h), T0)
    h.services.decide(request.id, OSCAR, True, T0)
    h.aws.fail_assign = AwsError("CreateAccountAssignment: ValidationException: boom")
    failed = h.services.decide(request.id, SAM, True, T0)
    assert failed.status == Status.FAILED
    assert jit_sets(h) == {}, "the JIT- set created before the failing step is removed"
    assert NoticeKind.GRANT_FAILED in h.notifier.kinds(request.id)


def test_warnings_are_computed_at_submit(h: Harness):
    risky = h.services.submit_request(ALICE, custom_form(h, inline=STS_STAR, managed=()), T0)
    assert any("sts:*" in text for _, text in risky.custom.warnings)
    assert risky.custom.warnings[0][0] == "high"


def test_custom_form_errors_are_per_field(h: Harness):
    with pytest.raises(InvalidRequest) as caught:
        h.services.submit_request(
            ALICE,
            custom_form(h, inline='{"Version": "2012-10-17",\n  "Statement": [}', name="bad name!"),
            T0,
        )
    assert set(caught.value.errors) >= {"ps_name", "inline_policy"}
    assert "Line 2, column" in caught.value.errors["inline_policy"]
    assert h.store.requests_of(ALICE.slack_id) == []


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world, CUSTOM)) as running:
        yield running


def root_when_sent(bot: Bot, request, who: str):
    """The root of ``who``'s thread once the bot has stored it."""
    user_id = bot.user(who).user_id
    bot.fake.wait_for(lambda: any(r.slack_user_id == user_id for r in bot.get(request.id).messages))
    return bot.root(request, who)


def open_custom_form(bot: Bot, user) -> dict:
    view = bot.choose_account(user, bot.open_form(user), bot.sandbox)
    user.select_in_view(view, ids.ACTION_KIND, KIND_CUSTOM)
    return bot.fake.wait_for(
        lambda: (
            (v := user.latest_view())
            and any(b.get("block_id") == ids.BLOCK_CUSTOM_NAME for b in v["blocks"])
            and v
        )
    )


def test_over_http_a_bad_policy_is_refused_inline_and_a_good_one_goes_through_both_stages(bot: Bot):
    alice = bot.user("alice")
    view = open_custom_form(bot, alice)
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    for label in (
        "Permission set type",
        "Permission set name",
        "Session duration",
        "AWS managed policies",
        "Inline policy",
    ):
        assert label in labels
    values = {
        ids.ACTION_CUSTOM_NAME: "S3Debug",
        ids.ACTION_CUSTOM_SESSION: "2",
        ids.ACTION_CUSTOM_MANAGED: ["AmazonS3ReadOnlyAccess"],
        ids.ACTION_CUSTOM_INLINE: '{"Version": "2012-10-17",\n "Statement": [,]}',
        ids.ACTION_DURATION: "1h",
        ids.ACTION_JUSTIFICATION: "Reading artifacts for OPS-77",
    }
    refused = alice.submit(view, values).json()
    assert refused["response_action"] == "errors"
    assert "Line 2, column" in refused["errors"][ids.BLOCK_CUSTOM_INLINE]
    assert bot.requests(alice.user_id) == []

    # a set that could hand out access by itself is refused, whatever approvers would say
    values[ids.ACTION_CUSTOM_INLINE] = STS_STAR.replace("sts:*", "sso:CreateAccountAssignment")
    refused = alice.submit(view, values).json()
    assert refused["errors"][ids.BLOCK_CUSTOM_INLINE] == (
        "Statement[0] allows sso:CreateAccountAssignment, which custom permission sets may "
        "not have here (custom_permission_sets.deny_actions: sso:*)."
    )
    assert bot.requests(alice.user_id) == []

    values[ids.ACTION_CUSTOM_INLINE] = STS_STAR
    assert alice.submit(view, values).json() == {}
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    oscar_msg = root_when_sent(bot, request, "oscar")
    text = blocks_to_text(oscar_msg.blocks)
    assert "JIT-S3Debug" in text and "sts:*" in text and "Check before approving" in text

    bot.user("oscar").click(oscar_msg, ids.ACTION_APPROVE)
    bot.wait_status(request.id, Status.PENDING_ADMIN)
    sam = bot.user("sam")
    sam_msg = bot.fake.wait_for(lambda: bot.fake.dm_messages(sam.user_id))[-1]
    assert "final approval" in blocks_to_text(sam_msg.blocks)
    assert "Owner approval: Oscar Owner" in blocks_to_text(sam_msg.blocks)
    bot.user("oscar").forge_click(ids.ACTION_APPROVE, str(request.id))
    assert "another person" in bot.wait_ephemeral(bot.user("oscar"), 1)
    sam.click(sam_msg, ids.ACTION_APPROVE)
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert active.permission_set_name == "JIT-S3Debug" and bot.assigned(active)
    arn = active.permission_set_arn
    assert policies_of(arn) == (["AmazonS3ReadOnlyAccess"], json.loads(STS_STAR))

    bot.rt.services.sweep(active.session.expires_at)  # the session's time is up
    assert bot.get(request.id).status == Status.EXPIRED
    assert not bot.assigned(active)
    assert jit_sets() == {}, "the assignment and then the JIT- set are gone"


def test_over_http_an_admin_stage_rejection_leaves_nothing_in_aws(bot: Bot):
    alice = bot.user("alice")
    view = open_custom_form(bot, alice)
    alice.submit(
        view,
        {
            ids.ACTION_CUSTOM_NAME: "S3Debug",
            ids.ACTION_CUSTOM_SESSION: "1",
            ids.ACTION_CUSTOM_INLINE: S3_POLICY,
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: "Reading artifacts for OPS-80",
        },
    )
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    bot.user("olga").click(root_when_sent(bot, request, "olga"), ids.ACTION_APPROVE)
    bot.wait_status(request.id, Status.PENDING_ADMIN)
    ada = bot.user("ada")
    ada.click(root_when_sent(bot, request, "ada"), ids.ACTION_REJECT)
    modal = bot.fake.wait_for(
        lambda: (v := ada.latest_view()) and v.get("callback_id") == ids.CALLBACK_REJECT and v
    )
    ada.submit(modal, {ids.ACTION_REJECT_REASON: "Use ReadOnlyAccess"})
    rejected = bot.wait_status(request.id, Status.REJECTED)
    assert rejected.status_label == "Admin Rejected"
    assert rejected.permission_set_arn == ""
    assert jit_sets() == {}


def test_an_s3_get_object_policy_draws_no_warning(bot: Bot):
    alice = bot.user("alice")
    view = open_custom_form(bot, alice)
    alice.submit(
        view,
        {
            ids.ACTION_CUSTOM_NAME: "S3Read",
            ids.ACTION_CUSTOM_SESSION: "1",
            ids.ACTION_CUSTOM_INLINE: S3_POLICY,
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: "Reading artifacts for OPS-78",
        },
    )
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    assert request.custom.warnings == ()
    message = root_when_sent(bot, request, "oscar")
    assert "Check before approving" not in blocks_to_text(message.blocks)
    assert BOB  # the outsider of the service tests is not involved here


def test_a_custom_set_a_standard_set_already_covers_is_pointed_out(bot: Bot):
    alice = bot.user("alice")
    view = open_custom_form(bot, alice)
    alice.submit(
        view,
        {
            ids.ACTION_CUSTOM_NAME: "JustRead",
            ids.ACTION_CUSTOM_SESSION: "1",
            ids.ACTION_CUSTOM_MANAGED: ["ReadOnlyAccess"],
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: "Looking around for OPS-79",
        },
    )
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    covered = [text for _, text in request.custom.warnings if "ReadOnlyAccess" in text]
    assert covered, request.custom.warnings


def test_messages_say_how_long_one_sign_in_lasts(bot: Bot):
    request = bot.request_access("alice")  # ReadOnlyAccess: SessionDuration PT1H
    message = root_when_sent(bot, request, "oscar")
    assert "Each AWS sign-in lasts at most 1 hour" in blocks_to_text(message.blocks)
