"""Schema migrations: a new database is built by Alembic, and the models never drift
from the migrations (a model change without a migration fails here)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.db import _alembic_config, current_revision, make_engine, upgrade
from storage.models import Base
from storage.store import SqlStore
from workflows.states import Status


def test_upgrade_builds_every_table_and_is_idempotent(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/fresh.db")
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)  # a restart runs it again
    assert current_revision(engine) == "0012"
    assert set(inspect(engine).get_table_names()) >= {
        "requests",
        "reviews",
        "sessions",
        "slack_messages",
        "audit_events",
        "outbox",
        "leases",
        "bindings",
        "alembic_version",
    }


def test_models_match_the_migrations(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/compare.db")
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"the models changed without a migration: {diff}"


def test_a_database_of_the_first_release_upgrades_without_loss(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
        connection.execute(
            text(
                "INSERT INTO requests (requester_slack_id, requester_email, requester_name,"
                " principal_id, account_id, account_name, permission_set_name,"
                " permission_set_arn, duration_seconds, justification, status, requested_at,"
                " approval_deadline, approvers) VALUES ('U1', 'a@example.com', 'A', 'p',"
                " '111111111111', 'Sandbox', 'ReadOnly', 'arn:ps', 3600, 'Because reasons',"
                " 'active', '2026-11-01 09:00:00', '2026-11-02 09:00:00', '[]')"
            )
        )
    upgrade(engine)
    assert current_revision(engine) == "0012"
    request = SqlStore(engine).get(1)
    assert request is not None and request.status == Status.ACTIVE
    assert request.requester.email == "a@example.com" and request.justification == "Because reasons"
