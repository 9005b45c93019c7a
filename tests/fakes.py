"""Hand-written fakes of the services' ports, for service tests that need neither SQL nor
moto: :class:`FakeStore` (the Store port in memory, compare-and-set included) and
:class:`FakeGranter` (the AccessGranter port: records what it was asked, fails when
told to)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sim.demo_setup import PEOPLE
from workflows.assignments import Assignment, AwsError
from workflows.catalog import build_catalog
from workflows.config import parse_config
from workflows.custom_sets.boundary import PermissionsBoundary
from workflows.domain import (
    AccessRequest,
    GrantedSession,
    MessageRef,
    NewRequest,
    Outgoing,
    Person,
    Review,
)
from workflows.people import Binding
from workflows.ports import BindingStore, Leased
from workflows.rulebook import RuleBook, RuleLookups
from workflows.services import Hooks, Leases, Services
from workflows.states import PENDING_STATUSES, TRANSITIONS, Status
from workflows.validation import RequestForm


@dataclass
class FakeStore:
    """The Store port over dicts. ``outbox`` holds every notice enqueued, as
    ``(request_id, Outgoing)``; ``leases`` maps a key to ``(holder, until)``."""

    requests: dict[int, AccessRequest] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[tuple[int | None, Outgoing]] = field(default_factory=list)
    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    people: dict[str, Binding] = field(default_factory=dict)  # entry -> binding
    warned: dict[int, datetime] = field(default_factory=dict)  # expiry warnings sent
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def bindings(self) -> list[Binding]:
        return list(self.people.values())

    def save_binding(
        self,
        binding: Binding,
        *,
        expect: Binding | None,
        now: datetime,
        actor: str = "jitbot",
        action: str | None = None,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        stored = self.people.get(binding.entry)
        if (stored is None) != (expect is None) or (
            stored is not None and expect is not None and stored.state() != expect.state()
        ):
            return False
        self.people[binding.entry] = binding
        if action is not None:
            self.audit(None, actor, action, now, detail)
        self.enqueue(None, outbox, now)
        return True

    def add_request(self, new: NewRequest, outbox: Sequence[Outgoing] = ()) -> AccessRequest:
        fields = {k: v for k, v in vars(new).items() if k != "session_limit"}
        request = AccessRequest(
            id=next(self._ids), stored_session_limit=new.session_limit, **fields
        )
        self.requests[request.id] = request
        self.audit(request.id, new.requester.email, "requested", new.requested_at)
        self.enqueue(request.id, outbox, new.requested_at)
        return request

    def get(self, request_id: int) -> AccessRequest | None:
        return self.requests.get(request_id)

    def requester_load(self, slack_user_id: str, since: datetime) -> tuple[int, int]:
        mine = [r for r in self.requests.values() if r.requester.slack_id == slack_user_id]
        waiting = sum(r.status in PENDING_STATUSES for r in mine)
        return waiting, sum(r.requested_at >= since for r in mine)

    def transition(
        self,
        request_id: int,
        from_status: Status,
        to_status: Status,
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        review: Review | None = None,
        session: GrantedSession | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        request = self.requests.get(request_id)
        if request is None or request.status != from_status:
            return False
        self.requests[request_id] = replace(
            request,
            status=to_status,
            reviews=request.reviews + ((review,) if review is not None else ()),
            session=session if session is not None else request.session,
        )
        change = {"from": from_status.value, "to": to_status.value, **(detail or {})}
        self.audit(request_id, actor, action, now, change)
        self.enqueue(request_id, outbox, now)
        return True

    def add_approval(
        self,
        request_id: int,
        status: Status,
        given: int,
        review: Review,
        *,
        now: datetime,
        actor: str,
        action: str,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        request = self.requests.get(request_id)
        if request is None or request.status != status or request.approvals_given != given:
            return False
        self.requests[request_id] = replace(
            request, reviews=request.reviews + (review,), approvals_given=given + 1
        )
        self.audit(request_id, actor, action, now, {"approvals": given + 1, **(detail or {})})
        self.enqueue(request_id, outbox, now)
        return True

    def transition_leasing(
        self,
        request_id: int,
        from_status: Status,
        to_status: Status,
        *,
        lease_key: str,
        holder: str,
        lease_now: datetime,
        lease_until: datetime,
        grants_of: AccessRequest | None = None,
        **change: Any,
    ) -> Leased:
        if not self.transition(request_id, from_status, to_status, **change):
            return Leased(won=False, leased=False)
        if not self.claim_lease(lease_key, holder, lease_now, lease_until):
            return Leased(won=True, leased=False)
        others = None if grants_of is None else self.other_active_grants(grants_of, change["now"])
        return Leased(won=True, leased=True, others=others)

    def add_messages(self, request_id: int, refs: Sequence[MessageRef]) -> None:
        request = self.requests[request_id]
        self.requests[request_id] = replace(request, messages=request.messages + tuple(refs))

    def audit(
        self,
        request_id: int | None,
        actor: str,
        action: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> None:
        event = {"at": now, "request_id": request_id, "actor": actor, "action": action}
        self.events.append({**event, "detail": detail})
        self.enqueue(request_id, outbox, now)

    def has_audited(self, action: str) -> bool:
        return any(e["action"] == action for e in self.events)

    def audit_events(self, request_id: int | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events if request_id is None or e["request_id"] == request_id]

    def enqueue(self, request_id: int | None, items: Sequence[Outgoing], now: datetime) -> None:
        self.outbox.extend((request_id, item) for item in items)

    def claim_lease(self, key: str, holder: str, now: datetime, until: datetime) -> bool:
        current = self.leases.get(key)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self.leases[key] = (holder, until)
        return True

    def release_lease(self, key: str, holder: str) -> None:
        if self.leases.get(key, ("", None))[0] == holder:
            del self.leases[key]

    def set_permission_set_arn(self, request_id: int, arn: str) -> None:
        self.requests[request_id] = replace(self.requests[request_id], permission_set_arn=arn)

    def set_grant_operation(self, request_id: int, operation_id: str, since: datetime) -> None:
        request = self.requests[request_id]
        self.requests[request_id] = replace(
            request,
            grant_operation=operation_id,
            grant_pending_since=request.grant_pending_since or since,
        )

    def with_status(self, status: Status) -> list[AccessRequest]:
        return [r for r in self.requests.values() if r.status == status]

    def active_ending_before(self, when: datetime) -> list[AccessRequest]:
        ending = [
            r
            for r in self.with_status(Status.ACTIVE)
            if r.session is not None and r.session.expires_at <= when
        ]
        return sorted(ending, key=lambda r: r.session.expires_at)  # type: ignore[union-attr]

    def pending_past_deadline(self, when: datetime) -> list[AccessRequest]:
        due = [
            r
            for r in self.requests.values()
            if r.status in PENDING_STATUSES and r.approval_deadline <= when
        ]
        return sorted(due, key=lambda r: r.approval_deadline)

    def other_active_grants(self, request: AccessRequest, now: datetime) -> int:
        return sum(
            1
            for r in self.with_status(Status.ACTIVE)
            if r.id != request.id
            and (r.principal_id, r.account_id, r.permission_set_arn)
            == (request.principal_id, request.account_id, request.permission_set_arn)
            and r.session is not None
            and r.session.expires_at > now
        )

    def unwarned_ending_before(self, when: datetime) -> list[AccessRequest]:
        return [r for r in self.active_ending_before(when) if r.id not in self.warned]

    def claim_expiry_warning(
        self,
        request_id: int,
        now: datetime,
        *,
        action: str,
        detail: dict[str, Any] | None = None,
        outbox: Sequence[Outgoing] = (),
    ) -> bool:
        request = self.requests.get(request_id)
        if request is None or request.status != Status.ACTIVE or request_id in self.warned:
            return False
        self.warned[request_id] = now
        self.audit(request_id, "jitbot", action, now, detail, outbox)
        return True

    def upcoming_deadlines(
        self, now: datetime, expiry_warning: timedelta | None = None
    ) -> list[datetime]:
        warnings = [
            r.session.expires_at - expiry_warning
            for r in self.with_status(Status.ACTIVE)
            if expiry_warning is not None
            and r.session is not None
            and r.id not in self.warned
            and r.session.expires_at - r.session.granted_at >= 2 * expiry_warning
            and r.session.expires_at - expiry_warning > now
        ]
        return sorted([*self._deadlines(now), *warnings])

    def _deadlines(self, now: datetime) -> list[datetime]:
        ends = [
            r.session.expires_at
            for r in self.with_status(Status.ACTIVE)
            if r.session is not None and r.session.expires_at > now
        ]
        deadlines = [
            r.approval_deadline
            for r in self.requests.values()
            if r.status in PENDING_STATUSES and r.approval_deadline > now
        ]
        return sorted([*ends, *deadlines])

    def requests_of(self, slack_id: str, limit: int = 10) -> list[AccessRequest]:
        mine = [r for r in self.requests.values() if r.requester.slack_id == slack_id]
        return sorted(mine, key=lambda r: r.requested_at, reverse=True)[:limit]

    # -- for tests --

    def actions(self, request_id: int | None = None) -> list[str]:
        """The audit actions written (of ``request_id``, or all), in order."""
        return [e["action"] for e in self.audit_events(request_id)]


@dataclass
class FakeGranter:
    """The AccessGranter port: ``assignments`` is what exists; ``assigned`` /
    ``unassigned`` record every call; ``fail_assign`` / ``fail_unassign`` are raised
    (once each call) when set. ``users`` maps an email to its Identity Center user id."""

    users: dict[str, str] = field(default_factory=dict)
    assignments: set[Assignment] = field(default_factory=set)
    assigned: list[Assignment] = field(default_factory=list)
    unassigned: list[Assignment] = field(default_factory=list)
    fail_assign: AwsError | None = None
    fail_unassign: AwsError | None = None
    sets: dict[str, str] = field(default_factory=dict)  # ARN -> name of created JIT- sets
    groups: dict[str, str] = field(default_factory=dict)  # display name -> group id
    policies: dict[str, str] = field(default_factory=dict)
    provisioned: set[tuple[str, str]] = field(default_factory=set)
    provisions: list[tuple[str, str]] = field(default_factory=list)
    durations: dict[str, timedelta] = field(default_factory=dict)
    fail_put: AwsError | None = None
    fail_provision: AwsError | None = None

    def find_user_id(self, email: str) -> str | None:
        return self.users.get(email.lower())

    def assign(self, assignment: Assignment) -> None:
        self.assigned.append(assignment)
        if self.fail_assign is not None:
            raise self.fail_assign
        self.assignments.add(assignment)

    def unassign(self, assignment: Assignment) -> None:
        self.unassigned.append(assignment)
        if self.fail_unassign is not None:
            raise self.fail_unassign
        self.assignments.discard(assignment)

    def create_custom_permission_set(
        self,
        *,
        name: str,
        session_duration: str,
        description: str,
        request_id: int,
        managed_policies: Sequence[str],
        inline_policy: str | None,
        permissions_boundary: PermissionsBoundary | None = None,
    ) -> str:
        arn = f"arn:aws:sso:::permissionSet/ssoins-fake/ps-jit{request_id}"
        self.sets[arn] = name
        return arn

    def delete_custom_permission_set(
        self,
        permission_set_arn: str,
        *,
        request_id: int,
        account_ids: Sequence[str] = (),
    ) -> None:
        self.sets.pop(permission_set_arn, None)

    def has_assignment(self, assignment: Assignment) -> bool:
        return assignment in self.assignments

    def account_assignments(self, account_id: str, permission_set_arn: str) -> list[Assignment]:
        return [
            a
            for a in self.assignments
            if (a.account_id, a.permission_set_arn) == (account_id, permission_set_arn)
        ]

    def jit_permission_sets(self) -> list[Any]:
        return []

    def provisioned_accounts(self, permission_set_arn: str) -> set[str]:
        return {
            a.account_id for a in self.assignments if a.permission_set_arn == permission_set_arn
        }

    def find_group_id(self, display_name: str) -> str | None:
        return self.groups.get(display_name)

    def principal_name(self, principal_type: str, principal_id: str) -> str:
        names = {
            v: k for k, v in (self.groups if principal_type == "GROUP" else self.users).items()
        }
        return names.get(principal_id, principal_id)

    # -- ending open sign-ins: ``policies`` ARN -> inline policy text (absent: none),
    # ``provisioned`` (ARN, account) pairs holding the set's role, ``provisions`` every
    # ProvisionPermissionSet asked, ``durations`` ARN -> SessionDuration;
    # ``fail_put`` / ``fail_provision`` are raised when set

    def inline_policy(self, permission_set_arn: str) -> str:
        return self.policies.get(permission_set_arn, "")

    def put_inline_policy(self, permission_set_arn: str, policy: str | None) -> None:
        if self.fail_put is not None:
            raise self.fail_put
        if policy is None:
            self.policies.pop(permission_set_arn, None)
        else:
            self.policies[permission_set_arn] = policy

    def is_provisioned(self, permission_set_arn: str, account_id: str) -> bool:
        return (permission_set_arn, account_id) in self.provisioned

    def session_duration(self, permission_set_arn: str) -> timedelta | None:
        return self.durations.get(permission_set_arn)

    def provision_to_account(self, permission_set_arn: str, account_id: str) -> None:
        self.provisions.append((permission_set_arn, account_id))
        if self.fail_provision is not None:
            raise self.fail_provision


# --------------------------------------------------------------------------- a world

SANDBOX = "111111111111"
READ_ONLY_ARN = "arn:aws:sso:::permissionSet/ssoins-fake/ps-readonly"

FAKE_CONFIG = f"""\
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - id: "{SANDBOX}"
    name: Sandbox
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
durations: [1h, 4h]
approval_timeout: 24h
"""


@dataclass
class FakeWorld:
    """Services over :class:`FakeStore` and :class:`FakeGranter`; ``kicks`` counts
    outbox kicks, ``wakes`` the sweeps asked for."""

    services: Services
    store: FakeStore
    aws: FakeGranter
    kicks: list[None] = field(default_factory=list)
    wakes: list[datetime] = field(default_factory=list)

    def submit(self, who: Person, now: datetime, duration: str = "1h") -> AccessRequest:
        form = RequestForm(SANDBOX, "ReadOnlyAccess", duration, "Investigating OPS-1")
        return self.services.submit_request(who, form, now)


def fake_world(
    extra: str = "",
    users: dict[str, str] | None = None,
    *,
    rulebook: RuleBook | None = None,
    rule_lookups: RuleLookups | None = None,
) -> FakeWorld:
    """A world of one account, Sandbox (owner Oscar; Ada admin, Sam SSO admin), whose
    Identity Center knows ``users`` (email -> user id; Alice by default), under the
    access rules ``rulebook`` (none: the default rule)."""
    config = parse_config(FAKE_CONFIG + extra)
    catalog = build_catalog(config, {"ReadOnlyAccess": READ_ONLY_ARN}, {SANDBOX: "Sandbox"})
    store = FakeStore()
    aws = FakeGranter(users=users if users is not None else {"alice@example.com": "u-alice"})
    kicks: list[None] = []
    wakes: list[datetime] = []
    hooks = Hooks(kick=lambda: kicks.append(None), wake_at=wakes.append)
    bind(store, DEMO_IDS)
    services = Services(
        config,
        catalog,
        store,
        aws,
        hooks=hooks,
        leases=Leases(store),
        rulebook=rulebook,
        rule_lookups=rule_lookups,
    )
    return FakeWorld(services, store, aws, kicks, wakes)


#: email -> Slack user id of the demo's people (:data:`sim.demo_setup.PEOPLE`).
DEMO_IDS = {email: user_id for email, (user_id, _name) in PEOPLE.items()}
BOUND_AT = datetime(2026, 1, 1, tzinfo=UTC)


def bind(store: BindingStore, people: dict[str, str]) -> None:
    """Bind each email of ``people`` to its Slack user id, as start-up would once Slack
    answered (:class:`bot.bindings.Binder`)."""
    stored = {b.entry: b for b in store.bindings()}
    for email, slack_id in people.items():
        binding = Binding(email, slack_id, email, BOUND_AT)
        assert store.save_binding(binding, expect=stored.get(email), now=BOUND_AT)


@contextmanager
def transitions_restored() -> Iterator[dict]:
    """The live transition table, for a test to take entries out of; put back after."""
    saved = dict(TRANSITIONS)
    try:
        yield TRANSITIONS
    finally:
        TRANSITIONS.clear()
        TRANSITIONS.update(saved)
