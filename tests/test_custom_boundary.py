"""The permissions boundary of every ``JIT-`` set (``custom_permission_sets.
permissions_boundary``): what the config accepts, that AWS holds it before the set is
ever assigned, that a failure to attach it leaves nothing half-made, and that approvers
read it. On moto (``sim/moto_fixes.py`` adds the boundary calls) and a real store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bot import ids
from sim.aws_world import DemoWorld
from sim.fake_slack import blocks_to_text
from storage.store import SqlStore
from tests.bot_harness import Bot, running_bot
from tests.conftest import REGION, world_config
from tests.test_custom_flow import CUSTOM, S3_POLICY, custom_form, jit_sets, open_custom_form
from tests.test_services import ALICE, OSCAR, T0, Harness, make_harness
from workflows.aws import AwsError, IdentityCenter
from workflows.config import ConfigError, parse_config
from workflows.custom_sets.boundary import PermissionsBoundary
from workflows.domain import NoticeKind, Person
from workflows.states import Status

SAM = Person("U04SAM", "sam@example.com", "Sam SsoAdmin")
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"
WITH_BOUNDARY = CUSTOM + "  permissions_boundary: PowerUserAccess\n"


def sso() -> Any:
    return boto3.client("sso-admin", region_name=REGION)


def boundary_in_aws(world: DemoWorld, arn: str) -> dict[str, Any] | None:
    """What GetPermissionsBoundaryForPermissionSet answers for the set (None: none)."""
    try:
        answer = sso().get_permissions_boundary_for_permission_set(
            InstanceArn=world.instance_arn, PermissionSetArn=arn
        )
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return None
    return answer["PermissionsBoundary"]


def calls_of(ic: IdentityCenter) -> list[str]:
    """The sso-admin operations ``ic`` calls from now on, in order."""
    calls: list[str] = []
    ic._client("sso-admin").meta.events.register(
        "before-call.sso-admin", lambda model, **kw: calls.append(model.name)
    )
    return calls


def create(ic: IdentityCenter, boundary: PermissionsBoundary | None) -> str:
    return ic.create_custom_permission_set(
        name="JIT-Bounded",
        session_duration="PT1H",
        description="Created by jitbot for request #5 of alice@example.com",
        request_id=5,
        managed_policies=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        inline_policy=S3_POLICY,
        permissions_boundary=boundary,
    )


# --------------------------------------------------------------------------- config


def config_with(boundary: str) -> str:
    return f"""
admins: [ada@example.com]
accounts: [{{id: "111111111111", owners: [oscar@example.com]}}]
custom_permission_sets:
  enabled: true
  permissions_boundary: {boundary}
"""


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("PowerUserAccess", PermissionsBoundary(aws_managed="PowerUserAccess")),
        (
            "{aws_managed: job-function/ViewOnlyAccess}",
            PermissionsBoundary("job-function/ViewOnlyAccess"),
        ),
        ("{customer_managed: JitBoundary}", PermissionsBoundary(customer_managed="JitBoundary")),
        (
            "{customer_managed: JitBoundary, path: /team/}",
            PermissionsBoundary(customer_managed="JitBoundary", path="/team/"),
        ),
    ],
)
def test_a_boundary_is_an_aws_or_a_customer_managed_policy(written: str, meant) -> None:
    assert parse_config(config_with(written)).custom_permission_sets.boundary == meant


@pytest.mark.parametrize(
    ("written", "error"),
    [
        ('"Power User"', 'not an AWS managed policy name: "Power User"'),
        ("{aws_managed: X, customer_managed: Y}", "one of them"),
        ("{path: /team/}", "one of them"),
        ("{aws_managed: X, path: /}", "path belongs to a customer_managed policy only"),
        ("{customer_managed: JitBoundary, path: team}", 'path must start and end with "/"'),
        ("{customer_managed: Jit Boundary}", "customer_managed must be an IAM policy name"),
        ("{customer_managed: J, color: blue}", "color"),
    ],
)
def test_a_malformed_boundary_is_named_in_the_config_error(written: str, error: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config_with(written))
    assert "custom_permission_sets.permissions_boundary" in str(caught.value)
    assert error in str(caught.value)


def test_no_boundary_is_the_default() -> None:
    config = parse_config(config_with("null"))
    assert config.custom_permission_sets.boundary is None


# --------------------------------------------------------------------------- the adapter


def test_the_boundary_is_put_with_the_policies_before_the_set_is_handed_back(
    moto_world: DemoWorld,
) -> None:
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    assert ic.instance_arn == moto_world.instance_arn  # discovered before counting
    calls = calls_of(ic)
    arn = create(ic, PermissionsBoundary(aws_managed="PowerUserAccess"))
    assert calls == [
        "CreatePermissionSet",
        "AttachManagedPolicyToPermissionSet",
        "PutInlinePolicyToPermissionSet",
        "PutPermissionsBoundaryToPermissionSet",
    ]
    assert boundary_in_aws(moto_world, arn) == {"ManagedPolicyArn": POWER_USER}


def test_a_customer_managed_boundary_is_a_policy_reference(moto_world: DemoWorld) -> None:
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    arn = create(ic, PermissionsBoundary(customer_managed="JitBoundary", path="/team/"))
    assert boundary_in_aws(moto_world, arn) == {
        "CustomerManagedPolicyReference": {"Name": "JitBoundary", "Path": "/team/"}
    }


def test_without_a_boundary_none_is_put(moto_world: DemoWorld) -> None:
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    calls = calls_of(ic)
    arn = create(ic, None)
    assert "PutPermissionsBoundaryToPermissionSet" not in calls
    assert boundary_in_aws(moto_world, arn) is None


def refuse_boundary(ic: IdentityCenter) -> None:
    def refuse(**kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": "Policy does not exist"}},
            "PutPermissionsBoundaryToPermissionSet",
        )

    ic._client("sso-admin").meta.events.register(
        "before-parameter-build.sso-admin.PutPermissionsBoundaryToPermissionSet", refuse
    )


def test_a_boundary_that_cannot_be_put_rolls_the_set_back(moto_world: DemoWorld) -> None:
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    refuse_boundary(ic)
    with pytest.raises(AwsError) as caught:
        create(ic, PermissionsBoundary(customer_managed="JitBoundary"))
    assert str(caught.value) == (
        "sso-admin PutPermissionsBoundaryToPermissionSet (/JitBoundary (customer managed "
        "policy)): ValidationException: Policy does not exist"
    )
    assert jit_sets() == {}


# --------------------------------------------------------------------------- the services


@pytest.fixture
def h(moto_world: DemoWorld, store: SqlStore) -> Harness:
    return make_harness(moto_world, store, WITH_BOUNDARY)


def test_the_granted_set_carries_the_boundary_and_approvers_were_told(h: Harness) -> None:
    request = h.services.submit_request(ALICE, custom_form(h), T0)
    assert (
        "info",
        (
            "Permissions boundary: PowerUserAccess (AWS managed policy). The set can never "
            "allow more than it does, whatever its own policies say."
        ),
    ) in request.custom.warnings
    h.services.decide(request.id, OSCAR, True, T0)
    active = h.services.decide(request.id, SAM, True, T0)
    assert active.status == Status.ACTIVE and h.assigned(active)
    assert boundary_in_aws(h.world, active.permission_set_arn) == {"ManagedPolicyArn": POWER_USER}


def test_a_refused_boundary_fails_the_grant_and_leaves_no_set(h: Harness) -> None:
    refuse_boundary(h.aws.real)
    request = h.services.submit_request(ALICE, custom_form(h), T0)
    h.services.decide(request.id, OSCAR, True, T0)
    failed = h.services.decide(request.id, SAM, True, T0)
    assert failed.status == Status.FAILED
    assert h.aws.assign_calls == 0, "nothing was ever assigned"
    assert jit_sets() == {}
    assert NoticeKind.GRANT_FAILED in h.notifier.kinds(request.id)


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world, WITH_BOUNDARY)) as running:
        yield running


def test_the_approval_message_names_the_boundary(bot: Bot) -> None:
    alice = bot.user("alice")
    view = open_custom_form(bot, alice)
    response = alice.submit(
        view,
        {
            ids.ACTION_CUSTOM_NAME: "S3Read",
            ids.ACTION_CUSTOM_SESSION: "1",
            ids.ACTION_CUSTOM_INLINE: S3_POLICY,
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: "Reading artifacts for OPS-81",
        },
    )
    assert response.json() == {}
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    oscar = bot.user("oscar").user_id
    bot.fake.wait_for(lambda: any(m.slack_user_id == oscar for m in bot.get(request.id).messages))
    text = blocks_to_text(bot.root(request, "oscar").blocks)
    assert "Check before approving" in text
    assert "Permissions boundary: PowerUserAccess (AWS managed policy)" in text
    assert json.loads(S3_POLICY)  # the policy itself draws no warning of its own
