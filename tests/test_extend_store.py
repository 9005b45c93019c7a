"""Extensions in the store, on SQLite and PostgreSQL: one pending extension a request,
the first decision wins, and applying one moves only ``expires_at``, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.store import SqlStore
from workflows.domain import GrantedSession, NewRequest, Person
from workflows.extensions import ExtensionStatus, NewExtension
from workflows.states import Status

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ALICE = Person("U01ALICE", "alice@example.com", "Alice")


def _active(store: SqlStore) -> int:
    """An Active request granted at T0 for one hour."""
    new = NewRequest(
        ALICE,
        "p-alice",
        "111111111111",
        "Sandbox",
        "ReadOnlyAccess",
        "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef",
        HOUR,
        "OPS-1 deploys",
        T0,
        T0 + timedelta(hours=24),
        ("U02OSCAR",),
    )
    request_id = store.add_request(new).id
    for a, b in ((Status.PENDING, Status.APPROVED), (Status.APPROVED, Status.ACTIVE)):
        session = GrantedSession(T0, T0 + HOUR) if b == Status.ACTIVE else None
        assert store.transition(request_id, a, b, now=T0, actor="x", action=b, session=session)
    return request_id


def _ask(store: SqlStore, request_id: int, at: datetime = T0):
    new = NewExtension(request_id, HOUR, "still deploying", ALICE.slack_id, at, T0 + HOUR)
    return store.add_extension(new, action="extension_requested", detail={})


def _apply(store: SqlStore, extension_id: int, request_id: int, end: datetime) -> bool:
    return store.apply_extension(
        extension_id,
        request_id,
        (Status.ACTIVE, Status.ACTIVE),
        (end, end + HOUR),
        now=T0,
        actor="U02OSCAR",
        action="extended",
        detail={"approved_by": "U02OSCAR"},
    )


def test_a_request_has_at_most_one_pending_extension(store: SqlStore) -> None:
    request_id = _active(store)
    first = _ask(store, request_id)
    assert first is not None and first.status == ExtensionStatus.PENDING
    assert _ask(store, request_id) is None
    assert store.pending_extension(request_id) == first
    assert [e["action"] for e in store.audit_events(request_id)][-1] == "extension_requested"


def test_applying_moves_only_the_end_and_the_first_decision_wins(store: SqlStore) -> None:
    request_id = _active(store)
    extension = _ask(store, request_id)
    assert extension is not None
    assert _apply(store, extension.id, request_id, T0 + HOUR)
    request = store.get(request_id)
    assert request is not None and request.status == Status.ACTIVE
    assert request.session == GrantedSession(T0, T0 + 2 * HOUR)
    assert not _apply(store, extension.id, request_id, T0 + 2 * HOUR)  # decided already
    assert not store.close_extension(
        extension.id, ExtensionStatus.REJECTED, now=T0, actor="U03OLGA", action="x", detail={}
    )
    stored = store.extension(extension.id)
    assert stored is not None
    assert (stored.status, stored.decided_by) == (ExtensionStatus.APPROVED, "U02OSCAR")
    event = store.audit_events(request_id)[-1]
    assert event["action"] == "extended" and event["detail"]["from"] == "active"


def test_an_extension_read_against_a_stale_end_changes_nothing(store: SqlStore) -> None:
    request_id = _active(store)
    extension = _ask(store, request_id)
    assert extension is not None
    audited = len(store.audit_events(request_id))
    assert not _apply(store, extension.id, request_id, T0 + 2 * HOUR)  # not the end now
    pending = store.extension(extension.id)
    assert pending is not None and pending.status == ExtensionStatus.PENDING  # rolled back
    request = store.get(request_id)
    assert request is not None and request.session == GrantedSession(T0, T0 + HOUR)
    assert len(store.audit_events(request_id)) == audited


def test_a_refused_extension_leaves_the_session_as_it_was(store: SqlStore) -> None:
    request_id = _active(store)
    extension = _ask(store, request_id)
    assert extension is not None
    assert store.close_extension(
        extension.id, ExtensionStatus.REJECTED, now=T0, actor="U02OSCAR", action="r", detail={}
    )
    assert not _apply(store, extension.id, request_id, T0 + HOUR)
    request = store.get(request_id)
    assert request is not None and request.session == GrantedSession(T0, T0 + HOUR)
    assert store.pending_extension(request_id) is None
    assert _ask(store, request_id) is not None  # another may be asked for now


def test_extensions_due_past_their_deadline_or_once_the_session_ended(store: SqlStore) -> None:
    request_id = _active(store)
    extension = _ask(store, request_id)
    assert extension is not None
    assert store.extensions_due(T0 + timedelta(minutes=30)) == []
    assert [e.id for e in store.extensions_due(T0 + HOUR)] == [extension.id]
    assert store.transition(
        request_id, Status.ACTIVE, Status.REVOKED, now=T0, actor="x", action="revoked"
    )
    assert [e.id for e in store.extensions_due(T0)] == [extension.id]


def test_the_scheduler_sees_the_new_end(store: SqlStore) -> None:
    request_id = _active(store)
    extension = _ask(store, request_id)
    assert extension is not None and _apply(store, extension.id, request_id, T0 + HOUR)
    assert store.upcoming_deadlines(T0) == [T0 + 2 * HOUR]
    assert store.active_ending_before(T0 + HOUR) == []
    assert [r.id for r in store.active_ending_before(T0 + 2 * HOUR)] == [request_id]


def test_approvals_are_counted_by_compare_and_set(store: SqlStore) -> None:
    request_id = _active(store)
    extension = _ask(store, request_id)
    assert extension is not None
    olga, sam = ("U03OLGA", "p-olga"), ("U04SAM", "p-sam")
    count = store.count_extension_approval
    assert count(extension, olga, now=T0, action="extension_approval_counted", detail={})
    assert not count(extension, sam, now=T0, action="x", detail={})  # read before Olga's
    counted = store.extension(extension.id)
    assert counted is not None and counted.approvals == (olga,)
    assert counted.counted("U03OLGA", None) and counted.counted("U09OTHER", "p-olga")
    assert not counted.counted("U04SAM", "p-sam")
    assert _apply(store, counted.id, request_id, T0 + HOUR)
    assert not count(counted, sam, now=T0, action="x", detail={})  # decided now
