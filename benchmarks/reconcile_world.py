"""The world of the ``reconcile-scale`` benchmark (:mod:`benchmarks.reconcile_scale`):
its permission sets and people, the Identity Center stand-in in a process of its own,
the seeding of 1,000 accounts in moto, and the config the bot runs on."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.common import REGION
from benchmarks.world import SpawnedServer

#: (name, share of the accounts it is provisioned on)
SETS: tuple[tuple[str, float], ...] = (
    ("ReadOnlyAccess", 1.0),
    ("SecurityAudit", 1.0),
    ("PowerUserAccess", 0.1),
    ("DatabaseAdmin", 0.1),
    ("NetworkAdmin", 0.1),
    ("AdministratorAccess", 0.02),
    ("BillingAdmin", 0.02),
    ("IAMAdmin", 0.02),
    ("DataScientist", 0.02),
    ("SupportUser", 0.02),
)
RATE, BURST, OUTSTANDING, OP_SECONDS = 20.0, 20.0, 15, 1.0
REQUESTERS, ACTIVE_GRANTS, STRAY_USERS, STRAY_GROUPS = 40, 50, 20, 5
APPROVERS = 2
AWS_PAGE = 100  # AWS's most ListAccountsForProvisionedPermissionSet ids a page
OSCAR = ("U02OSCAR", "oscar@example.com", "Oscar Owner")


# --------------------------------------------------------------------------- stand-in


def _serve_standin(conn: Any, moto_endpoint: str) -> None:
    """In the stand-in's process: serve, send the URL, obey commands until None."""
    from sim.aws_standin import AwsStandin

    standin = AwsStandin(moto_endpoint)
    conn.send(standin.url)
    while (command := conn.recv()) is not None:
        if command[0] == "quota":
            standin.op_seconds = OP_SECONDS
            standin.throttle(RATE, BURST)
            standin.limit_outstanding(OUTSTANDING)
            conn.send(True)
        elif command[0] == "throttled":  # ("throttled", since epoch, until epoch)
            conn.send(sum(1 for c in standin.throttled() if command[1] <= c.at <= command[2]))
    standin.stop()


class StandinProcess(SpawnedServer):
    """The stand-in in a spawned process, so its work shares no GIL with the bot's."""

    def __init__(self, moto_endpoint: str) -> None:
        super().__init__(_serve_standin, (moto_endpoint,), "the stand-in")
        self.url = self.address


# --------------------------------------------------------------------------- seeding


@dataclass
class Seeded:
    accounts: list[str]
    arns: dict[str, str]
    provisioned: dict[str, list[str]]  # set name -> accounts
    instance_arn: str
    store_id: str
    users: dict[str, str]  # email -> user id
    timings: dict[str, float] = field(default_factory=dict)


def _where(index: int, share: float, accounts: list[str]) -> list[str]:
    """The accounts the ``index``-th set is provisioned on: all, or every 1/share-th
    account from an offset of its own."""
    if share >= 1:
        return list(accounts)
    step = round(1 / share)
    return [a for i, a in enumerate(accounts) if i % step == index % step]


def _seed(endpoint: str, n_accounts: int) -> Seeded:
    """The world (see the module) in moto at ``endpoint``; every call straight to moto."""
    import boto3

    from sim.aws_world import seed_demo_world

    session = boto3.session.Session(region_name=REGION)
    clock = time.perf_counter()
    demo = seed_demo_world(region=REGION)
    org = session.client("organizations", endpoint_url=endpoint)
    sso = session.client("sso-admin", endpoint_url=endpoint)
    ids = session.client("identitystore", endpoint_url=endpoint)
    accounts = [demo.accounts["Sandbox"], demo.accounts["Production"]]
    began = time.perf_counter()
    for i in range(len(accounts), n_accounts):
        status = org.create_account(AccountName=f"Acct{i:04d}", Email=f"acct{i}@example.com")
        accounts.append(status["CreateAccountStatus"]["AccountId"])
    timings = {"create_accounts_s": time.perf_counter() - began}
    arns = dict(demo.permission_sets)
    for name, _ in SETS:
        if name not in arns:
            arns[name] = sso.create_permission_set(
                Name=name, InstanceArn=demo.instance_arn, SessionDuration="PT1H"
            )["PermissionSet"]["PermissionSetArn"]
    began = time.perf_counter()
    provisioned = {name: _where(i, share, accounts) for i, (name, share) in enumerate(SETS)}
    for name, where in provisioned.items():
        for account in where:
            sso.provision_permission_set(
                InstanceArn=demo.instance_arn,
                PermissionSetArn=arns[name],
                TargetType="AWS_ACCOUNT",
                TargetId=account,
            )
    timings["provision_s"] = time.perf_counter() - began
    users = dict(demo.users)
    for i in range(REQUESTERS):
        email = f"user{i}@example.com"
        users[email] = ids.create_user(
            IdentityStoreId=demo.identity_store_id,
            UserName=email,
            DisplayName=f"User {i}",
            Name={"GivenName": "User", "FamilyName": str(i)},
            Emails=[{"Value": email, "Type": "work", "Primary": True}],
        )["UserId"]
    seeded = Seeded(accounts, arns, provisioned, demo.instance_arn, demo.identity_store_id, users)
    _by_hand(sso, ids, seeded)
    timings["seed_s"] = time.perf_counter() - clock
    seeded.timings = timings
    return seeded


def _by_hand(sso: Any, ids: Any, seeded: Seeded) -> None:
    """The kept break-glass group on the 2% sets, and the strays (users and a group)."""

    def assign(account: str, name: str, kind: str, principal: str) -> None:
        sso.create_account_assignment(
            InstanceArn=seeded.instance_arn,
            TargetId=account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=seeded.arns[name],
            PrincipalType=kind,
            PrincipalId=principal,
        )

    def group(name: str) -> str:
        return ids.create_group(IdentityStoreId=seeded.store_id, DisplayName=name)["GroupId"]

    kept, contractors = group("BreakGlass"), group("Contractors")
    for name, share in SETS:
        if share < 0.1:
            for account in seeded.provisioned[name]:
                assign(account, name, "GROUP", kept)
    pairs = [(a, n) for n, where in seeded.provisioned.items() for a in where]
    step = max(1, len(pairs) // (STRAY_USERS + STRAY_GROUPS))
    strays = pairs[step // 2 :: step][: STRAY_USERS + STRAY_GROUPS]
    for k, (account, name) in enumerate(strays):
        if k < STRAY_USERS:
            assign(account, name, "USER", seeded.users["bob@example.com"])
        else:
            assign(account, name, "GROUP", contractors)


def config_text(seeded: Seeded) -> str:
    names = ", ".join(name for name, _ in SETS)
    lines = ["admins: [ada@example.com]", "sso_admins: [sam@example.com]", "accounts:"]
    for account in seeded.accounts:
        lines += [
            f'  - id: "{account}"',
            "    owners: [oscar@example.com]",
            f"    permission_sets: [{names}]",
        ]
    lines += [
        "durations: [1h, 4h]",
        "approval_timeout: 24h",
        "limits: {pending_per_requester: 100000, requests_per_minute: 100000}",
        "reconcile: {mode: remove, keep: [BreakGlass]}",
    ]
    return "\n".join(lines) + "\n"
