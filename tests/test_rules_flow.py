"""Access rules through the services (issue 18), over the ports' fakes: who may
request, who approves, how many distinct approvals, the longest duration, the ticket,
and OUs. Every check is the server's, whatever a modal or a button claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import SANDBOX, FakeWorld, fake_world
from workflows.config.rules import AccessRuleConfig
from workflows.domain import NoticeKind, Person
from workflows.errors import (
    AlreadyDecided,
    InvalidRequest,
    NoApprover,
    NotAuthorized,
    UnknownRequest,
)
from workflows.rulebook import RuleBook, RuleLookups
from workflows.states import Status
from workflows.validation import RequestForm

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
ALICE = Person("U01ALICE", "alice@example.com", "Alice Archer")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
OLGA = Person("U03OLGA", "olga@example.com", "Olga Owner")
ADA = Person("U05ADA", "ada@example.com", "Ada Admin")
BOB = Person("U06BOB", "bob@example.com", "Bob Builder")
OU = "ou-ab12-sandboxx"
USERS = {
    "alice@example.com": "u-alice",
    "oscar@example.com": "u-oscar",
    "olga@example.com": "u-olga",
    "ada@example.com": "u-ada",
    "bob@example.com": "u-bob",
}
GROUPS = {"ProdLeads": {"u-bob", "u-olga"}, "Platform": {"u-alice"}}
SLACK_IDS = {"u-bob": "U06BOB", "u-olga": "U03OLGA", "u-alice": "U01ALICE"}


def world(*rules: dict, ous: frozenset[str] = frozenset({OU})) -> FakeWorld:
    book = RuleBook(
        tuple(AccessRuleConfig.model_validate(r).rule() for r in rules), lambda _account: ous
    )
    lookups = RuleLookups(
        in_group=lambda principal, group: principal in GROUPS.get(group, set()),
        in_usergroup=lambda slack_id, handle: handle == "oncall" and slack_id == "U06BOB",
        group_members=lambda group: tuple(SLACK_IDS[p] for p in sorted(GROUPS.get(group, ()))),
        usergroup_members=lambda handle: ("U06BOB",) if handle == "oncall" else (),
    )
    return fake_world(users=USERS, rulebook=book, rule_lookups=lookups)


def submit(w: FakeWorld, who: Person = ALICE, duration: str = "1h", ticket: str | None = None):
    form = RequestForm(SANDBOX, "ReadOnlyAccess", duration, "Investigating OPS-1", ticket=ticket)
    return w.services.submit_request(who, form, T0)


def rule(**fields) -> dict:
    return {"name": "sbx", "accounts": [SANDBOX], "permission_sets": ["ReadOnlyAccess"], **fields}


def test_a_group_member_approves_and_an_owner_outside_the_group_cannot() -> None:
    w = world(rule(approvers=["group:ProdLeads"]))
    request = submit(w)
    assert set(request.approvers) == {"U06BOB", "U03OLGA"}  # DMs go to the group, not Oscar

    with pytest.raises(NotAuthorized, match="not one of the approvers rule sbx names"):
        w.services.decide(request.id, OSCAR, True, T0)
    assert w.store.get(request.id).status == Status.PENDING
    decided = w.services.decide(request.id, BOB, True, T0)
    assert decided.status == Status.ACTIVE
    assert w.store.get(request.id).rule_name == "sbx"


def test_a_group_approver_may_see_the_request_and_an_outsider_may_not() -> None:
    w = world(rule(approvers=["group:ProdLeads"]))
    request = submit(w)
    assert w.services.visible(request.id, BOB).id == request.id
    with pytest.raises(UnknownRequest):
        w.services.visible(request.id, Person("U09EVE", "eve@example.com", "Eve"))


def test_two_approvals_from_two_people_and_nobody_counts_twice() -> None:
    w = world(rule(approvers=["owners", "admins"], approvals=2))
    request = submit(w)
    assert request.approvals_needed == 2

    after_one = w.services.decide(request.id, OSCAR, True, T0)
    assert after_one.status == Status.PENDING
    assert [r.reviewer.name for r in after_one.approvals_at(after_one.reviews[0].stage)] == [
        "Oscar Owner"
    ]
    with pytest.raises(AlreadyDecided, match="already counts: 1 of 2 approvals"):
        w.services.decide(request.id, OSCAR, True, T0)
    with pytest.raises(NotAuthorized):
        w.services.decide(request.id, ALICE, True, T0)  # the requester
    assert w.store.get(request.id).status == Status.PENDING
    assert not w.aws.assigned

    done = w.services.decide(request.id, ADA, True, T0 + timedelta(minutes=1))
    assert done.status == Status.ACTIVE and len(w.aws.assigned) == 1
    actions = w.store.actions(request.id)
    assert actions[:3] == ["requested", "approval_counted", "approved"]


def test_a_counted_approval_tells_the_threads_how_many_it_has() -> None:
    w = world(rule(approvers=["owners", "admins"], approvals=2))
    request = submit(w)
    w.services.decide(request.id, OSCAR, True, T0)
    told = [o for _, o in w.store.outbox if o.payload.get("kind") == NoticeKind.APPROVAL_COUNTED]
    assert len(told) == 1


def test_the_first_rejection_ends_a_request_that_needs_two() -> None:
    w = world(rule(approvers=["owners", "admins"], approvals=2))
    request = submit(w)
    w.services.decide(request.id, OSCAR, True, T0)
    rejected = w.services.decide(request.id, ADA, False, T0, comment="not during the freeze")
    assert rejected.status == Status.REJECTED and not w.aws.assigned


def test_too_few_approvers_for_the_rule_makes_no_request() -> None:
    w = world(rule(approvers=["owners"], approvals=2))  # Oscar is the only owner
    with pytest.raises(NoApprover, match="needs 2 approvers and names 1"):
        submit(w)
    assert w.store.requests == {}


def test_a_requester_outside_the_rule_is_refused_and_nothing_is_stored() -> None:
    w = world(rule(requesters=["group:Platform"]))
    assert submit(w).rule_name == "sbx"  # Alice is in Platform
    with pytest.raises(InvalidRequest) as refused:
        submit(w, BOB)
    assert refused.value.errors == {
        "account": "You can't request this: rule sbx does not let you request this access."
    }
    assert len(w.store.requests) == 1


def test_a_duration_over_the_rules_maximum_is_refused_on_the_duration_field() -> None:
    w = world(rule(max_duration="1h"))
    with pytest.raises(InvalidRequest) as refused:
        submit(w, duration="4h")
    assert refused.value.errors == {"duration": "At most 1 hour under rule sbx."}
    assert submit(w, duration="1h").duration == timedelta(hours=1)


@pytest.mark.parametrize(
    ("ticket", "error"),
    [(None, "This access needs a ticket."), ("ops 12", "does not match the expected form")],
)
def test_a_missing_or_malformed_ticket_is_refused(ticket: str | None, error: str) -> None:
    w = world(rule(ticket={"pattern": "(INC|OPS)-[0-9]+"}))
    with pytest.raises(InvalidRequest) as refused:
        submit(w, ticket=ticket)
    assert error in refused.value.errors["ticket"]
    assert submit(w, ticket=" OPS-12 ").ticket == "OPS-12"


def test_an_account_below_a_named_ou_follows_that_rule() -> None:
    ou_rule = {
        "name": "ou",
        "accounts": [OU],
        "permission_sets": ["*"],
        "approvers": ["usergroup:oncall"],
    }
    request = submit(world(ou_rule))
    assert request.rule_name == "ou" and request.approvers == ("U06BOB",)
    outside = submit(world(ou_rule, ous=frozenset()))
    assert outside.rule_name is None and outside.approvers == ("U02OSCAR",)


def test_without_rules_nothing_changes() -> None:
    w = fake_world(users=USERS)
    request = submit(w)
    assert (request.rule_name, request.approvals_needed, request.approvers) == (
        None,
        1,
        ("U02OSCAR",),
    )
    assert w.services.decide(request.id, OSCAR, True, T0).status == Status.ACTIVE


def test_a_request_the_rule_approves_automatically_is_granted_with_no_click() -> None:
    w = world(rule(auto_approve=True))
    request = submit(w)
    assert request.status == Status.ACTIVE and len(w.aws.assigned) == 1
    assert request.approvers == ("U02OSCAR",)  # the owner's DM, an FYI
    approved = [e for e in w.store.audit_events(request.id) if e["action"] == "approved"]
    assert approved[0]["actor"] == "jitbot"
    assert {"automatic": True, "rule": "rule sbx"}.items() <= approved[0]["detail"].items()
    told = [o.payload for _, o in w.store.outbox if o.payload.get("kind") == NoticeKind.APPROVED]
    assert told[0]["by"] == "rule sbx"


def test_the_form_offers_only_what_the_rules_let_a_person_ask() -> None:
    from workflows.catalog import CatalogAccount

    w = world(rule(requesters=["bob@example.com"]))
    account = CatalogAccount(SANDBOX, "Sandbox", {"ReadOnlyAccess": "arn:ro"})
    assert w.services.offering(ALICE.slack_id)(account) is None  # nothing left: not offered
    assert w.services.offering(BOB.slack_id)(account) == account
    grouped = world(rule(requesters=["group:Platform"]))
    # Identity Center groups are not read on the form's paths: offered, decided at submit
    assert grouped.services.offering(BOB.slack_id)(account) == account
    assert fake_world().services.offering(ALICE.slack_id)(account) is account
