"""People are stable ids (issue 16): every authority decision of the services compares
Slack user ids (and the requester's Identity Center principal), and the config's people
stay bound to the ids they resolved to until the config's ``identity.rebind`` says.
Services over the hand-written fakes; the Slack side over HTTP is test_people_http.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FakeStore, fake_world
from workflows.config import parse_config
from workflows.domain import OutgoingKind, Person
from workflows.errors import NotAuthorized, UnknownRequest, WorkflowError
from workflows.people import Binding
from workflows.rebinding import Rebinding, Seen
from workflows.states import Status

ALICE = Person("U01ALICE", "alice@example.com", "Alice Archer")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
ADA = Person("U05ADA", "ada@example.com", "Ada Admin")
EVE = Person("U09EVE", "eve@example.com", "Eve Outsider")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# ------------------------------------------------------------------- authority by id


def test_a_requester_whose_slack_email_becomes_an_owners_cannot_approve_their_request():
    world = fake_world()
    request = world.submit(ALICE, T0)
    alice_as_owner = replace(ALICE, email="oscar@example.com")
    with pytest.raises(NotAuthorized, match="you can't approve your own request"):
        world.services.decide(request.id, alice_as_owner, True, T0)
    assert world.store.get(request.id).status is Status.PENDING


def test_someone_whose_email_becomes_an_owners_is_not_an_owner():
    world = fake_world()
    request = world.submit(ALICE, T0)
    eve_as_oscar = replace(EVE, email="oscar@example.com")
    with pytest.raises(UnknownRequest):  # not an owner, so not even told it exists
        world.services.decide(request.id, eve_as_oscar, True, T0)
    # the real Oscar, whatever email Slack shows for him now, still is
    renamed = replace(OSCAR, email="oscar@new.example")
    world.aws.users["oscar@new.example"] = "u-oscar"
    assert world.services.decide(request.id, renamed, True, T0).status is Status.ACTIVE


def test_an_approver_whose_identity_center_user_is_the_requesters_is_refused():
    """Alice's second Slack account, an owner by id, signs in to AWS as Alice."""
    world = fake_world(users={"alice@example.com": "u-alice", "oscar@example.com": "u-alice"})
    request = world.submit(ALICE, T0)
    with pytest.raises(NotAuthorized, match="your AWS Identity Center user is the requester's"):
        world.services.decide(request.id, OSCAR, True, T0)
    assert world.store.get(request.id).status is Status.PENDING
    assert world.store.actions(request.id) == ["requested"]


def test_cancel_and_release_are_the_requesters_by_id_not_by_email():
    world = fake_world()
    request = world.submit(ALICE, T0)
    eve_as_alice = replace(EVE, email=ALICE.email)
    world.aws.users[EVE.email] = "u-eve"
    for act in (world.services.cancel, world.services.release):
        with pytest.raises(UnknownRequest):
            act(request.id, eve_as_alice, T0)
    renamed = replace(ALICE, email="alice@new.example")
    assert world.services.cancel(request.id, renamed, T0).status is Status.CANCELLED


def test_revoke_is_for_the_bound_owner_not_for_whoever_has_the_owners_email():
    world = fake_world()
    request = world.services.decide(world.submit(ALICE, T0).id, OSCAR, True, T0)
    with pytest.raises(UnknownRequest):
        world.services.revoke(request.id, replace(EVE, email=OSCAR.email), T0)
    assert world.services.revoke(request.id, OSCAR, T0).status is Status.REVOKED


def test_audit_events_record_the_slack_id_the_email_then_and_the_principal():
    world = fake_world(users={"alice@example.com": "u-alice", "oscar@example.com": "u-oscar"})
    request = world.submit(ALICE, T0)
    world.services.decide(request.id, OSCAR, True, T0, comment="ok")
    approved = next(e for e in world.store.events if e["action"] == "approved")
    assert approved["actor"] == "U02OSCAR"
    assert approved["detail"]["actor_email"] == "oscar@example.com"
    assert approved["detail"]["actor_principal"] == "u-oscar"
    world.services.release(request.id, ALICE, T0 + timedelta(minutes=1))
    ended = world.store.events[-1]
    assert ended["actor"] == "U01ALICE" and ended["detail"]["actor_email"] == "alice@example.com"


def test_approval_dms_go_to_the_bound_user_ids():
    world = fake_world()
    request = world.submit(ALICE, T0)
    dms = [o.payload["user"] for rid, o in world.store.outbox if o.kind == OutgoingKind.APPROVAL]
    assert dms == ["U02OSCAR"] and request.approvers == ("U02OSCAR",)


# ------------------------------------------------------------------- rebinding

CONFIG = parse_config(
    'admins: [ada@example.com]\naccounts:\n  - id: "111111111111"\n'
    "    owners: [oscar@example.com, U0OLGA123]\n"
)


def rebinding() -> tuple[Rebinding, FakeStore]:
    store = FakeStore()
    return Rebinding(CONFIG, store), store


def alerts(store: FakeStore) -> list[dict]:
    return [o.payload for _, o in store.outbox if o.kind == OutgoingKind.ALERT]


def test_the_first_look_up_binds_and_audits():
    r, store = rebinding()
    assert r.observe("oscar@example.com", Seen("U02OSCAR", "oscar@example.com"), T0) == (
        "identity_bound"
    )
    assert store.people["oscar@example.com"].slack_id == "U02OSCAR"
    assert alerts(store) == []


def test_an_email_that_resolves_to_nobody_binds_nobody_and_alerts_once():
    r, store = rebinding()
    assert r.observe("oscar@example.com", Seen(None, None), T0) == "identity_unresolved"
    assert r.observe("oscar@example.com", Seen(None, None), T0) is None
    assert len(alerts(store)) == 1 and "grants no role" in alerts(store)[0]["text"]
    assert store.people["oscar@example.com"].slack_id is None


def bound(r: Rebinding) -> None:
    r.observe("ada@example.com", Seen("U05ADA", "ada@example.com"), T0)
    r.observe("oscar@example.com", Seen("U02OSCAR", "oscar@example.com"), T0)


def test_a_rebind_is_alerted_with_confirm_and_the_old_id_kept_until_an_admin_confirms():
    r, store = rebinding()
    bound(r)
    seen = Seen("U01ALICE", "oscar@example.com")
    assert r.observe("oscar@example.com", seen, T0) == "identity_rebind_detected"
    assert r.observe("oscar@example.com", seen, T0) is None, "told once"
    kept = store.people["oscar@example.com"]
    assert kept.slack_id == "U02OSCAR" and kept.pending_slack_id == "U01ALICE"
    [alert] = alerts(store)
    assert alert["confirm"] == {"entry": "oscar@example.com", "to": "U01ALICE"}
    assert "stays until an admin confirms" in alert["text"]
    [event] = [e for e in store.events if e["action"] == "identity_rebind_detected"]
    assert event["detail"]["old_slack_id"] == "U02OSCAR"
    assert event["detail"]["new_slack_id"] == "U01ALICE"

    with pytest.raises(NotAuthorized, match="Only a jitbot admin"):
        r.confirm("oscar@example.com", "U01ALICE", ALICE, T0)  # the newcomer herself
    with pytest.raises(WorkflowError, match="no change of oscar@example.com to U09EVE"):
        r.confirm("oscar@example.com", "U09EVE", ADA, T0)  # not the change the alert named
    r.confirm("oscar@example.com", "U01ALICE", ADA, T0)
    assert store.people["oscar@example.com"].slack_id == "U01ALICE"
    confirmed = store.events[-1]
    assert confirmed["action"] == "identity_rebind_confirmed" and confirmed["actor"] == "U05ADA"
    assert confirmed["detail"]["actor_email"] == "ada@example.com"
    with pytest.raises(WorkflowError, match="confirmed already"):
        r.confirm("oscar@example.com", "U01ALICE", ADA, T0)


def test_follow_binds_the_new_id_at_once_and_still_alerts_and_audits():
    store = FakeStore()
    config = parse_config(
        'admins: [ada@example.com]\naccounts:\n  - id: "111111111111"\n'
        "    owners: [oscar@example.com]\nidentity:\n  rebind: follow\n"
    )
    r = Rebinding(config, store)
    bound(r)
    assert r.observe("oscar@example.com", Seen("U01ALICE", "oscar@example.com"), T0) == (
        "identity_rebound"
    )
    assert store.people["oscar@example.com"].slack_id == "U01ALICE"
    [alert] = alerts(store)
    assert "confirm" not in alert and "identity.rebind: follow" in alert["text"]


def test_a_change_that_goes_back_before_it_is_confirmed_is_withdrawn():
    r, store = rebinding()
    bound(r)
    r.observe("oscar@example.com", Seen(None, None), T0)  # Oscar changed his email
    assert store.people["oscar@example.com"].slack_id == "U02OSCAR", "kept meanwhile"
    back = r.observe("oscar@example.com", Seen("U02OSCAR", "oscar@example.com"), T0)
    assert back == "identity_rebind_withdrawn"
    assert not store.people["oscar@example.com"].pending


def test_an_id_entrys_email_change_is_alerted_and_the_id_stays():
    r, store = rebinding()
    r.observe("U0OLGA123", Seen("U0OLGA123", "olga@example.com"), T0)
    assert r.observe("U0OLGA123", Seen("U0OLGA123", "olga@new.example"), T0) == (
        "identity_email_changed"
    )
    assert store.people["U0OLGA123"] == replace(
        store.people["U0OLGA123"], slack_id="U0OLGA123", email="olga@new.example"
    )
    assert "olga@new.example" in alerts(store)[-1]["text"]


def test_a_binding_changed_by_another_replica_first_is_not_written_twice():
    r, store = rebinding()
    bound(r)
    stale = store.people["oscar@example.com"]
    store.people["oscar@example.com"] = replace(stale, pending_slack_id="U01ALICE", pending_at=T0)
    assert not store.save_binding(
        Binding("oscar@example.com", "U09EVE", None, T0), expect=stale, now=T0
    )


def test_the_sql_store_writes_a_binding_change_once(store):
    """On SQLite and PostgreSQL: a stale read, or a second first insert, writes nothing
    (two replicas resolving at once alert once)."""
    [oscar] = [b for b in store.bindings() if b.entry == "oscar@example.com"]
    pending = replace(oscar, pending_slack_id="U01ALICE", pending_email="x@example.com")
    pending = replace(pending, pending_at=T0)
    assert store.save_binding(pending, expect=oscar, now=T0, action="identity_rebind_detected")
    assert not store.save_binding(pending, expect=oscar, now=T0, action="identity_rebind_detected")
    assert [b for b in store.bindings() if b.entry == "oscar@example.com"] == [pending]
    new = Binding("new@example.com", "U0NEW1", "new@example.com", T0)
    assert store.save_binding(new, expect=None, now=T0)
    assert not store.save_binding(new, expect=None, now=T0)
    actions = [e["action"] for e in store.audit_events()]
    assert actions.count("identity_rebind_detected") == 1
