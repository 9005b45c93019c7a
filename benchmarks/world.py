"""The world the benchmarks' bot runs against: moto's server in a process of its own,
the fake Slack, and the people in both (the demo's, plus numbered requesters); and the
bot's configuration for it."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGION = "us-east-1"


# --------------------------------------------------------------------------- AWS env


def aws_env(endpoint: str | None = None) -> None:
    """Dummy credentials and region, nothing that could reach a real account; boto3 is
    pointed at ``endpoint`` (moto's server). Child processes inherit this."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "bench"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "bench"
    os.environ["AWS_DEFAULT_REGION"] = REGION
    os.environ["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint


# --------------------------------------------------------------------------- world


def _serve_moto(conn: Any) -> None:
    """In the moto process: serve on a free port, send the port, wait to be stopped."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from sim.aws_world import start_moto_server

    server, endpoint = start_moto_server()
    gc.collect()
    gc.freeze()  # moto's start-up objects: no full collection walks them again
    conn.send(endpoint)
    conn.recv()  # anything, or the pipe closing, stops it
    server.stop()


class SpawnedServer:
    """A server in a process of its own (spawned), so its threads share no GIL with
    the load generator's. ``target(conn, *args)`` serves, sends its address over
    ``conn`` (:attr:`address`), then answers commands sent with :meth:`ask` until it
    receives ``None`` or the pipe closes; :meth:`stop` ends it. ``what`` names it in
    the start-up error.

    :raises TimeoutError: the address did not come within ``timeout`` seconds.
    """

    def __init__(
        self, target: Any, args: tuple[Any, ...], what: str, timeout: float = 60.0
    ) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=target, args=(child, *args), name=what, daemon=True)
        self._process.start()
        child.close()
        if not self._conn.poll(timeout):
            self._process.kill()
            raise TimeoutError(f"{what} did not start")
        self.address: str = self._conn.recv()

    def ask(self, *command: Any) -> Any:
        """Send ``command`` and return the server's answer."""
        self._conn.send(command)
        return self._conn.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)


class MotoProcess(SpawnedServer):
    """moto's server in a process of its own (spawned), as AWS is not in the load
    generator's process: the parent's fake Slack and its polling threads would share a
    GIL with moto, and a grant's Slack traffic would slow the next AWS call it times.
    ``endpoint`` is its URL; :meth:`stop` ends it."""

    def __init__(self, timeout: float = 60.0) -> None:
        super().__init__(_serve_moto, (), "moto's server", timeout)
        self.endpoint = self.address


@dataclass
class Person:
    slack_id: str
    email: str
    name: str


@dataclass
class World:
    """moto's server seeded with the demo world plus ``requesters`` extra Identity Center
    users, and the fake Slack with the demo people and the same requesters."""

    moto: Any
    endpoint: str
    fake: Any
    aws: Any  # sim.aws_world.DemoWorld
    requesters: list[Person]
    secret: str
    workdir: Path

    def stop(self) -> None:
        self.fake.stop()
        self.moto.stop()

    def user(self, slack_id: str, bot_url: str) -> Any:
        from sim.people import SlackUser

        return SlackUser(self.fake, slack_id, bot_url=bot_url, signing_secret=self.secret)

    def sso(self) -> Any:
        import boto3

        return boto3.client("sso-admin", region_name=REGION)

    def assigned_principals(self, sso: Any, account: str | None = None) -> set[str]:
        """Principal ids holding ReadOnlyAccess on ``account`` (default Sandbox) now."""
        account = account or self.aws.accounts["Sandbox"]
        found: set[str] = set()
        for page in sso.get_paginator("list_account_assignments").paginate(
            InstanceArn=self.aws.instance_arn,
            AccountId=account,
            PermissionSetArn=self.aws.permission_sets["ReadOnlyAccess"],
        ):
            found.update(a["PrincipalId"] for a in page["AccountAssignments"])
        return found


def requester(i: int) -> Person:
    return Person(f"U9{i:06d}", f"user{i}@example.com", f"User {i}")


def start_world(requesters: int, workdir: Path) -> World:
    """Start moto's server (in its own process: :class:`MotoProcess`) and the fake
    Slack, seed both."""
    import secrets

    import boto3

    from sim.aws_world import seed_demo_world
    from sim.demo_setup import PEOPLE
    from sim.fake_slack import FakeSlack

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    aws_env()
    moto = MotoProcess()
    endpoint = moto.endpoint
    aws_env(endpoint)
    fake = FakeSlack().start()
    world = seed_demo_world(region=REGION)
    for email, (user_id, name) in PEOPLE.items():
        fake.add_user(user_id, email, name)
    ids = boto3.client("identitystore", region_name=REGION)
    people = [requester(i) for i in range(requesters)]
    for p in people:
        given, family = p.name.split(" ", 1)
        ids.create_user(
            IdentityStoreId=world.identity_store_id,
            UserName=p.email,
            DisplayName=p.name,
            Name={"GivenName": given, "FamilyName": family},
            Emails=[{"Value": p.email, "Type": "work", "Primary": True}],
        )
        fake.add_user(p.slack_id, p.email, p.name)
    # The load generator's own full garbage collections (moto, the fake Slack) stopped
    # its threads for up to 100 ms, counted in the latencies they were measuring.
    gc.collect()
    gc.freeze()
    return World(moto, endpoint, fake, world, people, secrets.token_hex(16), workdir)


def add_member_accounts(names: list[str]) -> dict[str, str]:
    """Create member accounts named ``names`` (root email ``<name>@example.com``) in the
    organization of the AWS boto3 reaches now (moto's, after :func:`start_world`):
    name -> 12-digit id. moto finishes ``CreateAccount`` at once."""
    import boto3

    org = boto3.client("organizations", region_name=REGION)
    made: dict[str, str] = {}
    for name in names:
        status = org.create_account(AccountName=name, Email=f"{name.lower()}@example.com")
        made[name] = status["CreateAccountStatus"]["AccountId"]
    return made


def config_text(
    world: World,
    *,
    sweep_interval: str = "5s",
    extra_accounts: int = 0,
    member_accounts: dict[str, str] | None = None,
) -> str:
    """The demo's configuration (Sandbox owned by Oscar and Olga, Production by Olga, Ada
    admin, Sam SSO admin), optionally with ``extra_accounts`` more accounts owned by Ada
    (not in AWS Organizations: they only fill App Home) and ``member_accounts`` (name ->
    id, made by :func:`add_member_accounts`), each owned by Oscar and Olga with
    ReadOnlyAccess."""
    lines = [
        "identity_center:",
        "  portal_url: https://d-0000000000.awsapps.com/start",
        "admins: [ada@example.com]",
        "sso_admins: [sam@example.com]",
        "accounts:",
        f'  - id: "{world.aws.accounts["Sandbox"]}"',
        "    owners: [oscar@example.com, olga@example.com]",
        "    permission_sets: [ReadOnlyAccess, AdministratorAccess]",
        f'  - id: "{world.aws.accounts["Production"]}"',
        "    name: Production",
        "    owners: [olga@example.com]",
        "    permission_sets: [ReadOnlyAccess]",
    ]
    for name, account_id in (member_accounts or {}).items():
        lines += [
            f'  - id: "{account_id}"',
            f"    name: {name}",
            "    owners: [oscar@example.com, olga@example.com]",
            "    permission_sets: [ReadOnlyAccess]",
        ]
    for i in range(extra_accounts):
        lines += [
            f'  - id: "{900000000000 + i:012d}"',
            f"    name: Extra{i:04d}",
            "    owners: [ada@example.com]",
            "    permission_sets: [ReadOnlyAccess]",
        ]
    lines += [
        "durations: [1m, 1h, 4h, 1d]",
        "approval_timeout: 24h",
        f"sweep_interval: {sweep_interval}",
        # the benchmarks' few people make thousands of requests within minutes
        "limits: {pending_per_requester: 100000, requests_per_minute: 100000}",
    ]
    return "\n".join(lines) + "\n"
