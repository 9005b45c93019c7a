"""2. Overhead on the grant path.

App: from sending Oscar's Approve click (HTTP, through waitress) to the account
assignment being listed by moto (``ListAccountAssignments``, polled back to back from
the parent). Direct: the same AWS work with boto3 against the same moto server:
``CreateAccountAssignment``, ``DescribeAccountAssignmentCreationStatus`` while it is
``IN_PROGRESS`` (moto answers ``SUCCEEDED`` at once, so never), and the same polling
until it is listed. Samples alternate (direct, app) so both see the same load; each
request has its own requester, so every grant creates an assignment. Between samples
the bot finishes its work (the DM shows the grant) and the direct assignment is removed.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.ack import OSCAR, delivered_approvals
from benchmarks.common import Options, Row, percentile, shows_active, start_world, wait_until
from benchmarks.host import BotHost, spec_for

NAME = "grant"
GOAL = 1.3


def _poll_listed(world: Any, sso: Any, principal: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while principal not in world.assigned_principals(sso):
        if time.monotonic() > deadline:
            raise TimeoutError(f"assignment of {principal} never listed")


def _direct(world: Any, sso: Any, principal: str) -> float:
    params = {
        "InstanceArn": world.aws.instance_arn,
        "TargetId": world.aws.accounts["Sandbox"],
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": world.aws.permission_sets["ReadOnlyAccess"],
        "PrincipalType": "USER",
        "PrincipalId": principal,
    }
    started = time.perf_counter()
    status = sso.create_account_assignment(**params)["AccountAssignmentCreationStatus"]
    while status["Status"] == "IN_PROGRESS":
        status = sso.describe_account_assignment_creation_status(
            InstanceArn=params["InstanceArn"],
            AccountAssignmentCreationRequestId=status["RequestId"],
        )["AccountAssignmentCreationStatus"]
    _poll_listed(world, sso, principal)
    elapsed = time.perf_counter() - started
    sso.delete_account_assignment(**params)
    wait_until(lambda: principal not in world.assigned_principals(sso), 10, what="delete")
    return elapsed


def created_at(ctx: Any) -> dict[str, float]:
    """principal id -> wall time the bot's CreateAccountAssignment was answered."""
    return {key[0]: when for key, when in ctx.probe.created.items()}


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    import boto3

    samples = 12 if opts.quick else 60
    world = start_world(requesters=samples + 1, workdir=opts.workdir)
    try:
        ids = boto3.client("identitystore", region_name="us-east-1")
        principal_of = {
            p.slack_id: ids.get_user_id(
                IdentityStoreId=world.aws.identity_store_id,
                AlternateIdentifier={
                    "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": p.email}
                },
            )["UserId"]
            for p in world.requesters
        }
        bob = world.aws.users["bob@example.com"]
        sso = world.sso()
        with BotHost(spec_for(world, NAME)) as host:
            people = [(p.slack_id, p.email, p.name) for p in world.requesters]
            request_ids = host.call(
                "benchmarks.host:submit_pending",
                people=people,
                count=len(people),
                account=world.aws.accounts["Sandbox"],
            )
            messages = delivered_approvals(world.fake, (OSCAR,), request_ids)[OSCAR]
            oscar = world.user(OSCAR, host.url)
            from bot import ids as slack_ids

            app: list[float] = []
            direct: list[float] = []
            to_create: list[float] = []
            for n, (request_id, person) in enumerate(zip(request_ids, people, strict=True)):
                principal = principal_of[person[0]]
                message = messages[request_id]
                if n > 0:  # the first pair warms both paths up
                    direct.append(_direct(world, sso, bob))
                sent = time.time()
                started = time.perf_counter()
                response = oscar.click(message, slack_ids.ACTION_APPROVE)
                _poll_listed(world, sso, principal)
                elapsed = time.perf_counter() - started
                assert response.status == 200, response.body
                wait_until(
                    lambda m=message: shows_active(world.fake, m),
                    15,
                    what="the grant's DM update",
                )
                if n == 0:
                    continue
                app.append(elapsed)
                created = host.call("benchmarks.grant_path:created_at")
                if principal in created:
                    to_create.append(created[principal] - sent)
    finally:
        world.stop()
    a50, d50 = percentile(app, 50), percentile(direct, 50)
    a95, d95 = percentile(app, 95), percentile(direct, 95)
    ratio = a50 / d50
    return [
        Row(NAME, "app: click -> assignment listed, p50", a50 * 1000, "ms", note=f"n={len(app)}"),
        Row(NAME, "app: click -> assignment listed, p95", a95 * 1000, "ms"),
        Row(
            NAME,
            "app: click -> CreateAccountAssignment answered, p50",
            percentile(to_create, 50) * 1000,
            "ms",
        ),
        Row(NAME, "direct boto3: create -> listed, p50", d50 * 1000, "ms", note=f"n={len(direct)}"),
        Row(NAME, "direct boto3: create -> listed, p95", d95 * 1000, "ms"),
        Row(NAME, "overhead ratio app/direct (p50)", ratio, "x", f"< {GOAL}", ratio < GOAL),
        Row(NAME, "overhead ratio app/direct (p95)", a95 / d95, "x"),
    ]
