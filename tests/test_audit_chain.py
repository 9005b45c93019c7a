"""The audit trail holds: PostgreSQL refuses TRUNCATE, every event is linked to the one
before by its hash, and ``jitbot audit verify`` names the first event that was altered or
removed by someone who owns the tables (and exits 1)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.cli import main
from storage.auditchain import verify
from storage.db import make_engine, upgrade
from storage.store import SqlStore

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def write_events(store: SqlStore, n: int = 5) -> None:
    for i in range(n):
        store.audit(i + 1, "U_ADA", "revoked", T0 + timedelta(seconds=i), {"reason": f"r{i}"})


def drop_guards(store: SqlStore) -> None:
    """What an owner of the tables can do: remove the append-only triggers."""
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))


def test_a_chain_of_writes_holds(store: SqlStore) -> None:
    write_events(store)
    verdict = verify(store.engine)
    assert verdict.problem is None and verdict.checked == 5 and verdict.last_id == 5


def test_an_altered_event_is_named(store: SqlStore) -> None:
    write_events(store)
    drop_guards(store)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'U_SOMEONE' WHERE id = 3"))
    verdict = verify(store.engine)
    assert verdict.problem == "event #3 was altered" and verdict.checked == 2


def test_a_deleted_event_is_found(store: SqlStore) -> None:
    write_events(store)
    drop_guards(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 2"))
    assert verify(store.engine).problem == "event(s) removed between #1 and #3"


def test_removing_the_newest_events_is_found_from_the_head(store: SqlStore) -> None:
    write_events(store)
    drop_guards(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id >= 4"))
    problem = verify(store.engine).problem
    assert problem is not None and "after #3" in problem


def test_concurrent_writers_make_one_chain(store: SqlStore) -> None:
    def writer(k: int) -> None:
        for i in range(10):
            store.audit(k, f"U_{k}", "approved", T0 + timedelta(seconds=i), {"i": i})

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict = verify(store.engine)
    assert verdict.problem is None and verdict.checked == 40


@pytest.mark.postgresql
def test_postgresql_refuses_truncate(store: SqlStore) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    write_events(store, 2)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    assert verify(store.engine).checked == 2


def test_jitbot_audit_verify_exits_1_naming_the_removed_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    store = SqlStore(engine)
    write_events(store)
    assert main(["audit", "verify"]) == 0
    assert "audit chain holds: 5 events" in capsys.readouterr().out
    drop_guards(store)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 4"))
    assert main(["audit", "verify"]) == 1
    assert "removed between #3 and #5" in capsys.readouterr().out


@pytest.mark.postgresql
def test_a_role_that_does_not_own_the_tables_can_start_and_write(store: SqlStore) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    role = "jitbot_app_" + uuid.uuid4().hex[:10]
    url = store.engine.url
    schema = url.query["options"].split("%3D")[-1].split("=")[-1]
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}")
        )
        conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}"))
    try:
        app = make_engine(url.set(username=role).render_as_string(hide_password=False))
        upgrade(app)  # serve runs it at every start
        write_events(SqlStore(app), 3)
        with pytest.raises(DBAPIError), app.begin() as conn:
            conn.execute(text("DELETE FROM audit_events"))
        assert verify(app).checked == 3
        app.dispose()
    finally:
        with store.engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
