"""Schema migrations: a new database is built by Alembic, and the models never drift
from the migrations (a model change without a migration fails here)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import current_revision, make_engine, upgrade
from storage.models import Base


def test_upgrade_builds_every_table_and_is_idempotent(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/fresh.db")
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)  # a restart runs it again
    assert current_revision(engine) == "0001"
    assert set(inspect(engine).get_table_names()) >= {
        "requests",
        "reviews",
        "sessions",
        "slack_messages",
        "audit_events",
        "alembic_version",
    }


def test_models_match_the_migrations(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/compare.db")
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"the models changed without a migration: {diff}"
