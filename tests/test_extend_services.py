"""The extend services over the real store (SQLite and PostgreSQL) and moto, time moved
by the test: the approval window, the scheduler's wake-ups, a second ask, a click
after the session ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sim.aws_world import DemoWorld
from storage.store import SqlStore
from tests.conftest import REGION
from tests.test_services import ALICE, OSCAR, FlakyGranter, Harness, RecordingNotifier
from workflows.aws import IdentityCenter
from workflows.catalog import build_catalog
from workflows.config import parse_config
from workflows.domain import NoticeKind
from workflows.errors import AlreadyDecided, InvalidRequest, NotAuthorized, WorkflowError
from workflows.extensions import ExtensionStatus
from workflows.outbox import OutboxDispatcher
from workflows.rulebook import RuleBook
from workflows.services.facade import Services
from workflows.services.hooks import Hooks
from workflows.states import Status, TransitionNotAllowed

HOUR = timedelta(hours=1)
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
REASON = "The migration is still running"


def _config(world: DemoWorld) -> str:
    sandbox = world.accounts["Sandbox"]
    return f"""
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - id: "{sandbox}"
    name: Sandbox
    owners: [oscar@example.com, olga@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
durations: [1h, 4h, 1d]
approval_timeout: 30m
access_rules:
  - name: sandbox-admin
    accounts: ["{sandbox}"]
    permission_sets: [AdministratorAccess]
    auto_approve: true
"""


@pytest.fixture
def h(moto_world: DemoWorld, store: SqlStore) -> tuple[Harness, list[datetime]]:
    """A harness whose wake-ups are recorded."""
    config = parse_config(_config(moto_world))
    ic = IdentityCenter(region=REGION, sleep=lambda s: None)
    catalog = build_catalog(config, ic.permission_set_arns(), ic.account_names())
    notifier = RecordingNotifier()
    aws = FlakyGranter(ic)
    outbox = OutboxDispatcher(
        store, notifier, admins=lambda: ["U05ADA"], holder="t", clock=lambda: datetime.now(UTC)
    )
    wakes: list[datetime] = []
    hooks = Hooks(kick=outbox.deliver_all, wake_at=wakes.append)
    rules = RuleBook(config.rules())
    services = Services(config, catalog, store, aws, hooks=hooks, rulebook=rules)
    return Harness(services, store, notifier, aws, moto_world), wakes


def _active(h: Harness, duration: str = "4h", permission_set: str = "ReadOnlyAccess"):
    request = h.submit(duration=duration, permission_set=permission_set, now=T0)
    if request.status != Status.ACTIVE:
        request = h.services.decide(request.id, OSCAR, True, T0)
    assert request.status == Status.ACTIVE and request.session is not None
    return request


def test_an_extension_nobody_approves_within_the_window_times_out(h) -> None:
    h, wakes = h
    request = _active(h)
    asked = h.services.extend(request.id, ALICE, HOUR, REASON, T0 + HOUR)
    assert asked.deadline == T0 + HOUR + timedelta(minutes=30)
    assert wakes[-1] == asked.deadline  # the sweep is woken at the deadline
    h.services.sweep(T0 + HOUR + timedelta(minutes=29))
    assert h.store.extension(asked.id).status == ExtensionStatus.PENDING
    h.services.sweep(asked.deadline)
    assert h.store.extension(asked.id).status == ExtensionStatus.TIMED_OUT
    assert h.notifier.kinds(request.id)[-1] == NoticeKind.EXTENSION_TIMED_OUT
    assert h.store.get(request.id).session == request.session
    with pytest.raises(AlreadyDecided, match="already timed out"):
        h.services.decide_extension(asked.id, OSCAR, True, asked.deadline)
    assert h.store.audit_events(request.id)[-1]["action"] == "extension_timed_out"


def test_an_approved_extension_wakes_the_scheduler_at_the_new_end(h) -> None:
    h, wakes = h
    request = _active(h)
    asked = h.services.extend(request.id, ALICE, HOUR, REASON, T0 + HOUR)
    h.services.decide_extension(asked.id, OSCAR, True, T0 + HOUR)
    assert wakes[-1] == T0 + 5 * HOUR
    assert h.store.upcoming_deadlines(T0 + HOUR) == [T0 + 5 * HOUR]
    with pytest.raises(AlreadyDecided, match="You already approved this extension."):
        h.services.decide_extension(asked.id, OSCAR, True, T0 + HOUR)


def test_the_choice_and_the_reason_are_checked(h) -> None:
    h, _ = h
    request = _active(h)  # no rule: at most the longest duration, 1 day, in all
    with pytest.raises(InvalidRequest) as caught:
        h.services.extend(request.id, ALICE, 24 * HOUR, "", T0)
    assert caught.value.errors == {
        "duration": "Choose one of the durations offered: a session may last at most "
        "1 day from its grant.",
        "reason": "Say why you need more time.",
    }
    assert h.store.pending_extension(request.id) is None
    full = _active(h, "1d")
    with pytest.raises(WorkflowError, match="at most 1 day from its grant"):
        h.services.extend_offer(full.id, ALICE, T0)  # nothing fits any more


def test_a_session_asked_to_extend_twice_is_told_it_waits(h) -> None:
    h, _ = h
    request = _active(h, "1h")
    offer = h.services.extend_offer(request.id, ALICE, T0)
    assert offer.choices == (HOUR, 4 * HOUR)
    h.services.extend(request.id, ALICE, HOUR, REASON, T0)
    with pytest.raises(WorkflowError, match="by 1 hour; that is waiting for approval"):
        h.services.extend_offer(request.id, ALICE, T0)


def test_an_auto_approved_rule_extends_at_once(h) -> None:
    h, wakes = h
    request = _active(h, "1h", "AdministratorAccess")
    done = h.services.extend(request.id, ALICE, HOUR, REASON, T0)
    assert done.status == ExtensionStatus.APPROVED
    assert h.store.get(request.id).session.expires_at == T0 + 2 * HOUR == wakes[-1]
    assert h.notifier.kinds(request.id)[-1] == NoticeKind.EXTENDED


def test_an_ended_session_is_not_extended(h) -> None:
    h, _ = h
    request = _active(h, "1h")
    asked = h.services.extend(request.id, ALICE, HOUR, REASON, T0)
    h.services.release(request.id, ALICE, T0 + timedelta(minutes=5))
    with pytest.raises(TransitionNotAllowed, match="Can't extend a request that is Revoked"):
        h.services.extend_offer(request.id, ALICE, T0 + timedelta(minutes=6))
    with pytest.raises(AlreadyDecided, match="timed out"):
        h.services.decide_extension(asked.id, OSCAR, True, T0 + timedelta(minutes=6))
    assert h.store.get(request.id).session.expires_at == T0 + HOUR
    with pytest.raises(NotAuthorized, match="only the requester"):
        h.services.extend_offer(request.id, OSCAR, T0)


def test_an_extended_session_is_warned_again_before_its_new_end(h) -> None:
    h, wakes = h
    request = _active(h)  # 4 hours from T0; warned 15 minutes (the default) before the end
    h.services.sweep(T0 + 4 * HOUR - timedelta(minutes=15))
    assert h.notifier.kinds(request.id).count(NoticeKind.EXPIRY_WARNING) == 1
    asked = h.services.extend(
        request.id, ALICE, HOUR, REASON, T0 + 4 * HOUR - timedelta(minutes=10)
    )
    h.services.decide_extension(asked.id, OSCAR, True, T0 + 4 * HOUR - timedelta(minutes=9))
    new_warning = T0 + 5 * HOUR - timedelta(minutes=15)
    assert new_warning in wakes
    h.services.sweep(new_warning - timedelta(seconds=1))
    assert h.notifier.kinds(request.id).count(NoticeKind.EXPIRY_WARNING) == 1
    h.services.sweep(new_warning)
    h.services.sweep(new_warning + timedelta(minutes=1))
    assert h.notifier.kinds(request.id).count(NoticeKind.EXPIRY_WARNING) == 2
