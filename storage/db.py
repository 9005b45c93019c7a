"""Engine creation and schema set-up for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, text

from storage.models import Base

_SQLITE_AUDIT_GUARDS = [
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
_POSTGRES_AUDIT_GUARDS = [
    """CREATE OR REPLACE FUNCTION jitbot_audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION jitbot_audit_append_only()""",
]


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///jitbot.db``, ``postgresql+psycopg://…``).

    SQLite gets WAL, a 5 s busy timeout and foreign keys, and may be used from the
    scheduler's and Bolt's threads.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


def create_schema(engine: Engine) -> None:
    """Create missing tables and the append-only guards on ``audit_events``."""
    Base.metadata.create_all(engine)
    guards = {"sqlite": _SQLITE_AUDIT_GUARDS, "postgresql": _POSTGRES_AUDIT_GUARDS}
    with engine.begin() as conn:
        for statement in guards.get(engine.dialect.name, []):
            conn.execute(text(statement))
