"""The permissions boundary an approver saw is the one granted: recorded on the request
at submit, and a config change before the grant fails the request (nothing created in
AWS, the requester and approvers told) rather than granting a boundary nobody approved.
On moto and a real store; a second harness over the same store is the bot after a
config change."""

from __future__ import annotations

import dataclasses

import pytest

from sim.aws_world import DemoWorld
from storage.store import SqlStore
from tests.test_custom_boundary import POWER_USER, SAM, WITH_BOUNDARY, boundary_in_aws
from tests.test_custom_flow import CUSTOM, custom_form, jit_sets
from tests.test_services import ALICE, OSCAR, T0, Harness, make_harness
from workflows.domain import NoticeKind
from workflows.services.jit_sets import BoundaryChanged
from workflows.states import Status

READ_ONLY_BOUNDARY = CUSTOM + "  permissions_boundary: job-function/ViewOnlyAccess\n"
CHANGED = (
    "the permissions boundary changed since approval (the approvers saw PowerUserAccess "
    "(AWS managed policy); it is now job-function/ViewOnlyAccess (AWS managed policy)); "
    "ask again."
)


@pytest.fixture
def h(moto_world: DemoWorld, store: SqlStore) -> Harness:
    return make_harness(moto_world, store, WITH_BOUNDARY)


def owner_approved(h: Harness) -> int:
    request = h.services.submit_request(ALICE, custom_form(h), T0)
    h.services.decide(request.id, OSCAR, True, T0)
    return request.id


def test_the_boundary_shown_at_submit_is_recorded_on_the_request(h: Harness) -> None:
    request = h.services.submit_request(ALICE, custom_form(h), T0)
    assert h.store.get(request.id).custom.boundary == (("aws_managed", "PowerUserAccess"),)


@pytest.mark.parametrize("later", [READ_ONLY_BOUNDARY, CUSTOM])
def test_a_boundary_changed_before_the_grant_fails_the_request(
    h: Harness, moto_world: DemoWorld, store: SqlStore, later: str
) -> None:
    request_id = owner_approved(h)
    after = make_harness(moto_world, store, later)  # the config changed, the bot restarted
    failed = after.services.decide(request_id, SAM, True, T0)
    assert failed.status == Status.FAILED
    assert after.aws.assign_calls == 0 and jit_sets() == {}, "nothing was made in AWS"
    told = [d for rid, kind, d in after.notifier.notices if kind == NoticeKind.GRANT_FAILED]
    assert told and all(
        d.startswith("the permissions boundary changed since approval") for d in told
    )
    if later == READ_ONLY_BOUNDARY:
        assert told[0] == CHANGED
    else:
        assert "it is now none" in told[0]


def test_an_unchanged_boundary_is_granted_after_a_restart(
    h: Harness, moto_world: DemoWorld, store: SqlStore
) -> None:
    request_id = owner_approved(h)
    after = make_harness(moto_world, store, WITH_BOUNDARY)
    active = after.services.decide(request_id, SAM, True, T0)
    assert active.status == Status.ACTIVE and after.assigned(active)
    assert boundary_in_aws(h.world, active.permission_set_arn) == {"ManagedPolicyArn": POWER_USER}


def test_a_boundary_added_after_a_request_without_one_fails_it(
    moto_world: DemoWorld, store: SqlStore
) -> None:
    before = make_harness(moto_world, store, CUSTOM)
    request_id = owner_approved(before)
    assert store.get(request_id).custom.boundary == ()
    after = make_harness(moto_world, store, WITH_BOUNDARY)
    assert after.services.decide(request_id, SAM, True, T0).status == Status.FAILED
    assert jit_sets() == {}


def test_a_request_stored_before_the_boundary_was_recorded_is_judged_by_its_warning(
    h: Harness, moto_world: DemoWorld, store: SqlStore
) -> None:
    """Requests submitted by an older jitbot have no record: the boundary line of their
    warnings is what the approvers read."""
    request_id = owner_approved(h)
    stored = store.get(request_id)
    legacy = dataclasses.replace(stored.custom, boundary=None)
    changed_sets = make_harness(moto_world, store, READ_ONLY_BOUNDARY).services.granting.sets
    with pytest.raises(BoundaryChanged, match="changed since approval"):
        changed_sets.approved_boundary(dataclasses.replace(stored, custom=legacy))
    same = h.services.granting.sets.approved_boundary(dataclasses.replace(stored, custom=legacy))
    assert same is not None and same.aws_managed == "PowerUserAccess"
