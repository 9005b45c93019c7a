"""Shared fixtures: moto with dummy credentials, the demo AWS world, a config on it, and
a SQLite store."""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from moto import mock_aws
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from sim import moto_fixes
from sim.aws_world import DemoWorld, seed_demo_world
from storage.db import create_schema, make_engine
from storage.store import SqlStore
from tests import speedups
from tests.fakes import DEMO_IDS, bind
from workflows.config import Config, parse_config

REGION = "us-east-1"

speedups.install()
moto_fixes.install()  # moto's sso-admin as strict as AWS, see sim/moto_fixes.py


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and region; nothing that could reach a real account."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


@pytest.fixture
def moto_world(aws_env: None) -> Iterator[DemoWorld]:
    with mock_aws():
        yield seed_demo_world(region=REGION)


def world_config(world: DemoWorld, extra: str = "") -> Config:
    """Sandbox owned by Oscar and Olga, Production by Olga; Ada admin, Sam SSO admin."""
    return parse_config(
        f"""
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - id: "{world.accounts["Sandbox"]}"
    name: Sandbox
    owners: [oscar@example.com, olga@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
  - id: "{world.accounts["Production"]}"
    name: Production
    owners: [olga@example.com]
    permission_sets: [ReadOnlyAccess]
durations: [1m, 1h, 4h, 1d]
approval_timeout: 24h
{extra}"""
    )


POSTGRES_ENV = "JITBOT_TEST_POSTGRES_URL"


@functools.cache
def _postgres_unavailable(url: str | None) -> str | None:
    """Why ``url`` serves no PostgreSQL tests, or None: asked once per test process, so
    a missing server costs one connection attempt, not one per test."""
    if not url:
        return (
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        return f"no PostgreSQL reachable at {POSTGRES_ENV}: {exc.orig}"
    finally:
        engine.dispose()
    return None


def _postgres_url() -> str:
    """The PostgreSQL test database, or skip with the reason."""
    url = os.environ.get(POSTGRES_ENV)
    reason = _postgres_unavailable(url)
    if reason is not None:
        pytest.skip(reason)
    assert url is not None
    return url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL of a fresh PostgreSQL schema of its own (so concurrent runs on the
    shared database never meet), dropped afterwards; skips where none is reachable."""
    url = _postgres_url()
    schema = f"jitbot_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``postgresql`` are skipped before any fixture is set up where no
    PostgreSQL is reachable."""
    if item.get_closest_marker("postgresql") is not None:
        reason = _postgres_unavailable(os.environ.get(POSTGRES_ENV))
        if reason is not None:
            pytest.skip(reason)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A fresh store on SQLite, and on PostgreSQL where one is configured, the demo's
    people (:data:`tests.fakes.DEMO_IDS`) bound to their Slack user ids."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path}/jitbot.db"
        else:
            url = stack.enter_context(postgres_schema())
        engine = make_engine(url)
        create_schema(engine)
        sql = SqlStore(engine)
        bind(sql, DEMO_IDS)  # the demo's people, as start-up binds them
        yield sql
        engine.dispose()
