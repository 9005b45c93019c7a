"""Engine creation and schema set-up for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text

#: Alembic's plugin set-up (alembic >= 1.16) logs several INFO lines at every start.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


class _QuietMigration(logging.Filter):
    """Drops the two lines Alembic logs at every connection ("Context impl SQLiteImpl.",
    "Will assume transactional DDL."); each "Running upgrade" line stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(("Context impl ", "Will assume "))


logging.getLogger("alembic.runtime.migration").addFilter(_QuietMigration())


class DatabaseNotWritable(Exception):
    """The SQLite database file, or the folder it goes in, cannot be written by this
    process. ``str()`` is one line naming the path and the uid, for the CLI to print
    instead of a traceback (``bot/cli/__main__.py``)."""


def check_writable(url: str) -> None:
    """Raise :class:`DatabaseNotWritable` when ``url`` is a SQLite file this process
    could not create or write (SQLite's WAL also writes ``-wal`` and ``-shm`` files next
    to it, so the folder must be writable too). Other databases and ``:memory:`` pass."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database).absolute()
    folder = path.parent
    if not folder.is_dir():
        why = "its folder does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK):
        why = "its folder is not writable"
    elif path.exists() and not os.access(path, os.R_OK | os.W_OK):
        why = "the file is not writable"
    else:
        return
    raise DatabaseNotWritable(
        f"cannot write the database {path} as uid {os.getuid()} (gid {os.getgid()}): {why}; "
        f"make {folder} writable by that uid, or set DATABASE_URL"
    )


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
    # TRUNCATE skips row triggers: a statement trigger refuses it (PostgreSQL "CREATE TRIGGER")
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION jitbot_audit_append_only()""",
]


def ping(engine: Engine) -> None:
    """Run ``SELECT 1`` on a fresh connection from ``engine``; returns None when the
    database answers and raises whatever the driver or SQLAlchemy raise when it does not
    (``sqlalchemy.exc.OperationalError`` and the like)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///jitbot.db``, ``postgresql+psycopg://…``).

    Raises :class:`DatabaseNotWritable` for a SQLite file this process cannot write.
    SQLite gets WAL with ``synchronous=NORMAL``, a 5 s busy timeout and foreign keys,
    and may be used from the scheduler's and Bolt's threads. The pool hands out the
    connection used last (``pool_use_lifo``): after an idle spell a request then gets a
    connection whose SQLite page cache and Python objects are still warm, which took
    about 0.5 ms off an Approve's path to AWS on the benchmark machine.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    check_writable(url)
    kwargs: dict[str, Any] = {"future": True, "pool_use_lifo": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: a commit survives a crash of the process, not a power loss
                # of the machine (SQLite "WAL mode" docs); it saves an fsync per commit.
                # A lost last commit is redone safely: grants and revokes are idempotent.
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


MIGRATIONS = Path(__file__).with_name("migrations")


#: PostgreSQL advisory lock key held while migrating ("jitbot" in ASCII).
MIGRATION_LOCK = 0x6A6974626F74


def _alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``), then make
    sure the append-only guards on ``audit_events`` exist. Safe to run at every start."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # replicas starting together: one migrates, the others wait, then find it done
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        command.upgrade(_alembic_config(connection), "head")
    guards = {"sqlite": _SQLITE_AUDIT_GUARDS, "postgresql": _POSTGRES_AUDIT_GUARDS}
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql" and _postgres_guards_present(conn):
            return  # and a role that does not own the tables may start the bot
        for statement in guards.get(engine.dialect.name, []):
            conn.execute(text(statement))


def _postgres_guards_present(conn: Connection) -> bool:
    """Both PostgreSQL triggers on ``audit_events`` exist (in the current schema)."""
    found = conn.execute(
        text(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass "
            "AND tgname IN ('audit_events_append_only', 'audit_events_no_truncate')"
        )
    ).scalar_one()
    return found == 2


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def create_schema(engine: Engine) -> None:
    """Create or upgrade the schema (an alias of :func:`upgrade`)."""
    upgrade(engine)
