"""A small AWS world for ``jitbot demo`` and the tests, on moto.

Works against whatever endpoint boto3 reaches: moto's in-process ``mock_aws`` or a
``moto.server.ThreadedMotoServer`` named by ``AWS_ENDPOINT_URL`` (see
:func:`start_moto_server`). Never point it at a real account: it creates an
organization, accounts, users and permission sets.

The world:

* an organization (all features) with member accounts ``Sandbox`` and ``Production``;
* the Identity Center instance (moto has exactly one; found with ``ListInstances``);
* identity store users, ``UserName`` = email: alice (requester), oscar and olga
  (owners), sam (SSO admin), ada (admin), bob;
* permission sets ``ReadOnlyAccess`` and ``AdministratorAccess`` (1 hour sessions) with
  the AWS managed policies of the same names.

Seeding is idempotent: what already exists (same name / userName) is reused.
"""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_PERMISSION_SETS",
    "DEMO_USERS",
    "DemoWorld",
    "add_group",
    "assignments",
    "seed_demo_world",
    "start_moto_server",
]

#: account name -> root email of the member accounts created.
DEMO_ACCOUNTS: dict[str, str] = {
    "Sandbox": "sandbox@example.com",
    "Production": "production@example.com",
}

#: email -> (given name, family name) of the identity store users.
DEMO_USERS: dict[str, tuple[str, str]] = {
    "alice@example.com": ("Alice", "Archer"),
    "oscar@example.com": ("Oscar", "Owner"),
    "olga@example.com": ("Olga", "Owner"),
    "sam@example.com": ("Sam", "SsoAdmin"),
    "ada@example.com": ("Ada", "Admin"),
    "bob@example.com": ("Bob", "Builder"),
}

#: permission set name -> (session duration, AWS managed policy ARN).
DEMO_PERMISSION_SETS: dict[str, tuple[str, str]] = {
    "ReadOnlyAccess": ("PT1H", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    "AdministratorAccess": ("PT1H", "arn:aws:iam::aws:policy/AdministratorAccess"),
}


@dataclass(frozen=True)
class DemoWorld:
    """Ids of what :func:`seed_demo_world` made. ``accounts``: name -> 12-digit id;
    ``users``: email -> identity store user id; ``permission_sets``: name -> ARN."""

    instance_arn: str
    identity_store_id: str
    accounts: dict[str, str]
    users: dict[str, str]
    permission_sets: dict[str, str]
    region: str = "us-east-1"


def _clients(session: boto3.session.Session | None, region: str) -> tuple[Any, Any, Any]:
    session = session or boto3.session.Session()
    return (
        session.client("organizations", region_name=region),
        session.client("sso-admin", region_name=region),
        session.client("identitystore", region_name=region),
    )


def _seed_accounts(org: Any) -> dict[str, str]:
    try:
        org.describe_organization()
    except org.exceptions.AWSOrganizationsNotInUseException:
        org.create_organization(FeatureSet="ALL")
    existing = {
        a["Name"]: a["Id"]
        for page in org.get_paginator("list_accounts").paginate()
        for a in page["Accounts"]
    }
    accounts: dict[str, str] = {}
    for name, email in DEMO_ACCOUNTS.items():
        if name in existing:
            accounts[name] = existing[name]
            continue
        status = org.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
        # CreateAccount is asynchronous in AWS; moto finishes at once, but look anyway.
        for _ in range(50):
            if status["State"] != "IN_PROGRESS":
                break
            status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
                "CreateAccountStatus"
            ]
        if status["State"] != "SUCCEEDED":
            raise RuntimeError(f"creating demo account {name} ended {status['State']}")
        accounts[name] = status["AccountId"]
    return accounts


def _seed_users(ids: Any, store_id: str) -> dict[str, str]:
    users: dict[str, str] = {}
    for email, (given, family) in DEMO_USERS.items():
        try:
            users[email] = ids.get_user_id(
                IdentityStoreId=store_id,
                AlternateIdentifier={
                    "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": email}
                },
            )["UserId"]
            continue
        except ids.exceptions.ResourceNotFoundException:
            pass
        users[email] = ids.create_user(
            IdentityStoreId=store_id,
            UserName=email,
            DisplayName=f"{given} {family}",
            Name={"GivenName": given, "FamilyName": family, "Formatted": f"{given} {family}"},
            Emails=[{"Value": email, "Type": "work", "Primary": True}],
        )["UserId"]
    return users


def _seed_permission_sets(sso: Any, instance_arn: str) -> dict[str, str]:
    existing: dict[str, str] = {}
    for page in sso.get_paginator("list_permission_sets").paginate(InstanceArn=instance_arn):
        for arn in page["PermissionSets"]:
            described = sso.describe_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)
            existing[described["PermissionSet"]["Name"]] = arn
    result: dict[str, str] = {}
    for name, (duration, policy_arn) in DEMO_PERMISSION_SETS.items():
        if name in existing:
            result[name] = existing[name]
            continue
        arn = sso.create_permission_set(
            Name=name,
            Description=f"Demo {name}",
            InstanceArn=instance_arn,
            SessionDuration=duration,
        )["PermissionSet"]["PermissionSetArn"]
        sso.attach_managed_policy_to_permission_set(
            InstanceArn=instance_arn, PermissionSetArn=arn, ManagedPolicyArn=policy_arn
        )
        result[name] = arn
    return result


def seed_demo_world(
    session: boto3.session.Session | None = None, region: str = "us-east-1"
) -> DemoWorld:
    """Populate the AWS endpoint boto3 reaches (moto!) with the demo world; return its ids.

    :raises RuntimeError: moto has no Identity Center instance or an account could not
        be created.
    """
    org, sso, ids = _clients(session, region)
    accounts = _seed_accounts(org)
    instances = sso.list_instances()["Instances"]
    if not instances:
        raise RuntimeError("the AWS endpoint has no IAM Identity Center instance")
    instance_arn = instances[0]["InstanceArn"]
    store_id = instances[0]["IdentityStoreId"]
    return DemoWorld(
        instance_arn=instance_arn,
        identity_store_id=store_id,
        accounts=accounts,
        users=_seed_users(ids, store_id),
        permission_sets=_seed_permission_sets(sso, instance_arn),
        region=region,
    )


def assignments(
    world: DemoWorld, session: boto3.session.Session | None = None
) -> list[tuple[str, str, str]]:
    """Every current account assignment in the world's accounts and permission sets, as
    sorted ``(account name, permission set name, user email)`` (unknown principals show
    their id)."""
    _, sso, _ = _clients(session, world.region)
    email_of = {user_id: email for email, user_id in world.users.items()}
    rows: set[tuple[str, str, str]] = set()
    paginator = sso.get_paginator("list_account_assignments")
    for account_name, account_id in world.accounts.items():
        for ps_name, ps_arn in world.permission_sets.items():
            for page in paginator.paginate(
                InstanceArn=world.instance_arn, AccountId=account_id, PermissionSetArn=ps_arn
            ):
                for item in page["AccountAssignments"]:
                    principal = item["PrincipalId"]
                    rows.add((account_name, ps_name, email_of.get(principal, principal)))
    return sorted(rows)


def add_group(world: DemoWorld, name: str, emails: list[str]) -> str:
    """Make the Identity Center group ``name`` with the demo users ``emails`` as
    members (identitystore ``CreateGroup``, ``CreateGroupMembership``); its id."""
    store = boto3.client("identitystore", region_name=world.region)
    group_id = str(
        store.create_group(IdentityStoreId=world.identity_store_id, DisplayName=name)["GroupId"]
    )
    for email in emails:
        store.create_group_membership(
            IdentityStoreId=world.identity_store_id,
            GroupId=group_id,
            MemberId={"UserId": world.users[email]},
        )
    return group_id


def start_moto_server() -> tuple[Any, str]:
    """Start moto's server on 127.0.0.1 at a free port, in a daemon thread.

    The server starts with an empty AWS (moto's ``POST /moto-api/reset``, see moto's
    server-mode docs), whatever this process's earlier servers or mocks left.

    Returns ``(server, endpoint_url)``; the caller points boto3 at it (e.g.
    ``os.environ["AWS_ENDPOINT_URL"] = endpoint_url``) and calls ``server.stop()``.
    Sets dummy ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` in ``os.environ`` when
    neither is set, since moto needs signed requests but the demo has no credentials.
    """
    from moto.server import ThreadedMotoServer  # demo extra; imported only when used

    from sim import moto_fixes

    moto_fixes.install()

    if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_SECRET_ACCESS_KEY"):
        os.environ["AWS_ACCESS_KEY_ID"] = "demo"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "demo"
    # Port 0: the OS picks a free port when the server binds, so no other process can
    # take it between choosing and binding.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its state per process, not per server: without this, a second server
    # in one process (the next test) would see the first one's users and assignments.
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10) as answer:
        answer.read()
    return server, endpoint
