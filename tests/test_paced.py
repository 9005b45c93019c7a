"""The reconciler's share of the Identity Center rate (workflows/aws/paced.py): calls
inside ``running()`` wait for a token of their own at share × the shared rate before
the shared limiter's; other calls are not slowed; the reconciler runs inside it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from sim.aws_world import DemoWorld, seed_demo_world
from tests.test_ratelimit import MINIMAL, REGION, Clock, aws_env  # noqa: F401 - fixture
from workflows.aws import IdentityCenter
from workflows.aws.paced import SharePacer
from workflows.aws.ratelimit import TokenBucket, attach
from workflows.config import ConfigError, parse_config


@pytest.fixture
def world(aws_env: None) -> Any:  # noqa: F811
    with mock_aws():
        yield seed_demo_world(region=REGION)


def _paced_client(share: float) -> tuple[Any, SharePacer, TokenBucket, Clock]:
    clock = Clock(advance=False)
    shared = TokenBucket(100, 100, clock=clock, sleep=clock.sleep)
    pacer = SharePacer(lambda: shared, share, clock=clock, sleep=clock.sleep)
    sso = boto3.client("sso-admin", region_name=REGION)
    attach(sso, shared)  # attached first: the pacer must still go before it
    pacer.attach(sso)
    return sso, pacer, shared, clock


def test_calls_inside_running_take_the_share_and_others_do_not(world: DemoWorld) -> None:
    sso, pacer, shared, clock = _paced_client(0.25)
    for _ in range(3):
        sso.list_instances()
    assert clock.sleeps == [] and shared.acquired == 3  # outside: only the shared bucket
    with pacer.running():
        for _ in range(3):
            sso.list_instances()
    # 25 calls a second (a quarter of 100), burst 1: the 2nd and 3rd waited 0.04 s each more
    assert clock.sleeps == pytest.approx([0.04, 0.08])
    assert shared.acquired == 6, "paced calls still take the shared limiter's token"


def test_the_share_follows_the_shared_rate(world: DemoWorld) -> None:
    sso, pacer, shared, clock = _paced_client(0.5)
    shared.set_rate(10, 10)  # e.g. a second replica took half the quota
    with pacer.running():
        sso.list_instances()
        sso.list_instances()
    assert clock.sleeps == pytest.approx([0.2])  # 5 a second


def test_no_client_side_limit_means_no_pacing(world: DemoWorld) -> None:
    clock = Clock(advance=False)
    pacer = SharePacer(lambda: None, 0.25, clock=clock, sleep=clock.sleep)
    sso = boto3.client("sso-admin", region_name=REGION)
    pacer.attach(sso)
    with pacer.running():
        sso.list_instances()
        sso.list_instances()
    assert clock.sleeps == []


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_the_share_is_checked(share: float) -> None:
    with pytest.raises(ValueError, match="rate share"):
        SharePacer(lambda: None, share)


def test_the_adapter_paces_its_identity_center_clients(world: DemoWorld) -> None:
    ic = IdentityCenter(region=REGION)
    ic.reconcile_pacer.set_share(0.25)
    with ic.reconcile_pacer.running():
        ic.permission_set_arns()
    assert ic.reconcile_pacer._bucket is not None and ic.reconcile_pacer._bucket.acquired >= 1
    assert ic.reconcile_pacer._bucket.rate == pytest.approx(ic.limiter.rate / 4)


def test_config_rate_share() -> None:
    assert parse_config(MINIMAL).reconcile.rate_share == 0.25
    assert parse_config(MINIMAL + "reconcile: {rate_share: 0.5}").reconcile.rate_share == 0.5
    for bad in ("0", "1.5", "-1"):
        with pytest.raises(ConfigError, match="reconcile.rate_share"):
            parse_config(MINIMAL + f"reconcile: {{rate_share: {bad}}}")


def test_a_reconcile_run_makes_its_calls_within_its_share(moto_world: DemoWorld, store) -> None:
    from datetime import UTC, datetime

    from tests.test_reconcile import make_world

    w = make_world(moto_world, store)
    aws = w.services.aws
    pacer = aws.reconcile_pacer
    report = w.reconciler(pace=pacer.running).run(datetime.now(UTC))
    assert report.errors == []
    assert pacer._bucket is not None and pacer._bucket.acquired > 0
    before = pacer._bucket.acquired
    aws.permission_set_arns()  # outside a run: not paced
    assert pacer._bucket.acquired == before
