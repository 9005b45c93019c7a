"""Access rules as the config states them and as they govern a request (issue 18):
the first rule matching the account and set decides, ``*`` never matches custom sets,
and people are named by stable ids only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from pydantic import ValidationError

from workflows.access_rules import (
    AccessRule,
    Ref,
    RuleTarget,
    Ticket,
    default_rule,
    governing,
    names,
    parse_ref,
)
from workflows.config import ConfigError, parse_config
from workflows.config.rules import AccessRuleConfig
from workflows.people import Roster
from workflows.policy import Rules
from workflows.rulebook import RoleMembers, RuleBook, may_request, request_problems

PROD, SANDBOX, DATA = "222222222222", "111111111111", "333333333333"
PROD_OU = "ou-ab12-prodxxxx"

PROD_ADMIN = {
    "name": "prod-admin",
    "accounts": [PROD, PROD_OU],
    "permission_sets": ["AdministratorAccess"],
    "requesters": ["group:Platform", "usergroup:oncall"],
    "approvers": ["group:ProdLeads"],
    "approvals": 2,
    "max_duration": "4h",
    "ticket": {
        "required": True,
        "pattern": "^(INC|OPS)-[0-9]+$",
        "link": "https://t.example.com/{}",
    },
}
SANDBOX_READ = {
    "name": "sandbox-read",
    "accounts": [SANDBOX],
    "permission_sets": ["ReadOnlyAccess"],
    "auto_approve": True,
}


def _rules(*items: dict) -> list[AccessRule]:
    return [AccessRuleConfig.model_validate(item).rule() for item in items]


def _problem(item: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        AccessRuleConfig.model_validate(item)
    return str(caught.value)


def test_the_issues_two_rules_read_as_written() -> None:
    prod, sandbox = _rules(PROD_ADMIN, SANDBOX_READ)
    assert prod.requesters == (Ref("group", "Platform"), Ref("usergroup", "oncall"))
    assert prod.approvers == (Ref("group", "ProdLeads"),)
    assert (prod.approvals, prod.max_duration) == (2, timedelta(hours=4))
    assert prod.ticket == Ticket(True, "^(INC|OPS)-[0-9]+$", "https://t.example.com/{}")
    assert sandbox.auto_approve and sandbox.requesters is None and sandbox.approvers is None


def test_the_first_matching_rule_decides_and_no_match_gets_the_default() -> None:
    loose = {"name": "all-admin", "accounts": ["*"], "permission_sets": ["*"]}
    rules = _rules(PROD_ADMIN, SANDBOX_READ, loose)

    assert governing(rules, RuleTarget(PROD, "AdministratorAccess")).name == "prod-admin"
    assert governing(rules, RuleTarget(SANDBOX, "ReadOnlyAccess")).auto_approve
    assert governing(rules, RuleTarget(SANDBOX, "AdministratorAccess")).name == "all-admin"
    assert governing(rules[:2], RuleTarget(DATA, "ReadOnlyAccess")) == default_rule()


def test_an_account_below_a_named_ou_follows_that_rule() -> None:
    rules = _rules(PROD_ADMIN)
    below = RuleTarget(DATA, "AdministratorAccess", frozenset({PROD_OU, "r-root"}))
    assert governing(rules, below).name == "prod-admin"
    assert governing(rules, RuleTarget(DATA, "AdministratorAccess")).name is None


def test_a_star_rule_never_governs_custom_sets_and_custom_must_be_named() -> None:
    star = {
        "name": "sandbox-any",
        "accounts": [SANDBOX],
        "permission_sets": ["*"],
        "auto_approve": True,
    }
    custom = {
        "name": "custom-sbx",
        "accounts": [SANDBOX],
        "permission_sets": ["custom"],
        "max_duration": "2h",
    }
    rules = _rules(star, custom)
    applied = governing(rules, RuleTarget(SANDBOX, None))
    assert applied.name == "custom-sbx" and not applied.auto_approve
    assert governing(rules[:1], RuleTarget(SANDBOX, None)) == default_rule()


def test_the_default_rule_is_todays_behaviour() -> None:
    rule = default_rule()
    assert rule.requesters is None and rule.approvals == 1 and not rule.auto_approve
    assert [str(r) for r in rule.approvers] == ["owners", "sso_admins", "admins"]
    assert rule.durations([timedelta(hours=1), timedelta(days=30)]) == [
        timedelta(hours=1),
        timedelta(days=30),
    ]
    assert rule.label == "the default rule"


def test_durations_are_cut_at_the_rules_maximum() -> None:
    (rule,) = _rules(PROD_ADMIN)
    applied = governing([rule], RuleTarget(PROD, "AdministratorAccess"))
    offered = [timedelta(hours=h) for h in (1, 4, 8, 24)]
    assert applied.durations(offered) == [timedelta(hours=1), timedelta(hours=4)]
    assert not applied.allows_duration(timedelta(hours=4, minutes=1))
    assert applied.label == "rule prod-admin"


@pytest.mark.parametrize(
    ("ticket", "problem"),
    [
        (None, "This access needs a ticket."),
        ("   ", "This access needs a ticket."),
        ("inc-42", "does not match the expected form"),
        ("INC-42 ", None),
        ("OPS-" + "9" * 70, "at most 64 characters"),
    ],
)
def test_a_ticket_is_checked_against_the_rule(ticket: str | None, problem: str | None) -> None:
    (rule,) = _rules(PROD_ADMIN)
    found = rule.ticket.problem(ticket) if rule.ticket else "no ticket rule"
    assert (found is None) if problem is None else (problem in (found or ""))


def test_a_ticket_link_percent_encodes_what_was_typed() -> None:
    ticket = Ticket(link="https://t.example.com/browse/{}")
    assert (
        ticket.url("INC-1/../x?y=<z>")
        == "https://t.example.com/browse/INC-1%2F..%2Fx%3Fy%3D%3Cz%3E"
    )
    assert Ticket().url("INC-1") is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"name": "Prod Admin"}, "lower-case letters"),
        ({"accounts": [222222222222]}, "quote account ids"),
        ({"accounts": ["ou-xyz"]}, "OU id like ou-ab12-cd34ef56"),
        ({"accounts": []}, "at least 1 item"),
        ({"permission_sets": ["Admin Access"]}, '"*" (every standard set) or "custom"'),
        ({"approvers": ["grp:ProdLeads"]}, "group:NAME (Identity Center)"),
        ({"approvers": ["usergroup:On Call"]}, "Slack user group handle"),
        ({"approvers": []}, "would let nobody in"),
        ({"requesters": ["not-an-email@"]}, "an email or a Slack user id"),
        ({"approvals": 0}, "greater than or equal to 1"),
        ({"approvals": 6}, "less than or equal to 5"),
        ({"max_duration": "30s"}, "at least 1m"),
        ({"ticket": {"pattern": "(INC"}}, "not a regular expression"),
        ({"ticket": {"link": "https://t.example.com/"}}, 'exactly one "{}"'),
        ({"ticket": {"link": "javascript:{}"}}, "http(s) URL"),
        ({"auto_approve": True}, "leave out approvers and approvals"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_a_rule_that_cannot_mean_what_it_says_is_refused(change: dict, words: str) -> None:
    assert words in _problem({**PROD_ADMIN, **change})


def test_custom_sets_keep_their_two_stages() -> None:
    base = {"name": "c", "accounts": ["*"], "permission_sets": ["custom"]}
    assert "auto_approve cannot apply to custom" in _problem({**base, "auto_approve": True})
    assert "approvals cannot apply to custom" in _problem({**base, "approvals": 2})
    (rule,) = _rules({**base, "approvers": ["group:DataOwners"], "max_duration": "8h"})
    assert rule.approvers == (Ref("group", "DataOwners"),)


def test_people_are_read_as_roles_groups_user_groups_emails_and_ids() -> None:
    assert parse_ref(" Owners ") == Ref("owners")
    assert parse_ref("group:Prod Leads") == Ref("group", "Prod Leads")
    assert parse_ref("usergroup:@oncall") == Ref("usergroup", "oncall")
    assert parse_ref("Ada@Example.com") == Ref("person", "ada@example.com")
    assert parse_ref("U0123ABCD") == Ref("person", "U0123ABCD")
    with pytest.raises(ValueError, match="expected owners"):
        parse_ref("<@U0123ABCD>")


@dataclass
class Members:
    """Memberships from plain sets, recording which lookups were made."""

    roles: dict[tuple[str, str], bool] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    usergroups: dict[str, set[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def has_role(self, slack_id: str, role: str, account_id: str) -> bool:
        return self.roles.get((slack_id, role), False)

    def is_person(self, slack_id: str, entry: str) -> bool:
        return self.people.get(entry) == slack_id

    def in_group(self, principal_id: str, group_name: str) -> bool:
        self.asked.append(f"group:{group_name}")
        return principal_id in self.groups.get(group_name, set())

    def in_usergroup(self, slack_id: str, handle: str) -> bool:
        self.asked.append(f"usergroup:{handle}")
        return slack_id in self.usergroups.get(handle, set())


def test_a_group_names_a_member_by_principal_id_and_nobody_without_one() -> None:
    members = Members(groups={"ProdLeads": {"p-oscar"}})
    refs = (Ref("group", "ProdLeads"),)
    found = names(refs, members, slack_id="U0OSCAR", principal_id="p-oscar", account_id=PROD)
    assert found == Ref("group", "ProdLeads")
    assert names(refs, members, slack_id="U0OSCAR", principal_id=None, account_id=PROD) is None
    assert names(refs, members, slack_id="U0OLGA", principal_id="p-olga", account_id=PROD) is None


def test_roles_and_people_are_tried_before_lookups_that_cost_a_call() -> None:
    members = Members(roles={("U0ADA", "admins"): True}, usergroups={"oncall": {"U0ADA"}})
    refs = (Ref("usergroup", "oncall"), Ref("admins"))
    found = names(refs, members, slack_id="U0ADA", principal_id="p-ada", account_id=PROD)
    assert found == Ref("admins") and members.asked == []
    members.people["bob@example.com"] = "U0BOB"
    found = names(
        (Ref("person", "bob@example.com"),),
        members,
        slack_id="U0BOB",
        principal_id=None,
        account_id=PROD,
    )
    assert found == Ref("person", "bob@example.com")


# --- the rule book: what a submission is checked against -------------------------------


def _book(*items: dict, asked: list[str] | None = None) -> RuleBook:
    def lookup(account_id: str) -> frozenset[str]:
        (asked if asked is not None else []).append(account_id)
        return frozenset({PROD_OU}) if account_id == DATA else frozenset()

    return RuleBook(tuple(_rules(*items)), lookup)


def test_the_ous_are_asked_only_when_a_rule_names_one() -> None:
    asked: list[str] = []
    assert _book(SANDBOX_READ, asked=asked).for_request(SANDBOX, "ReadOnlyAccess").auto_approve
    assert asked == []
    applied = _book(PROD_ADMIN, asked=asked).for_request(DATA, "AdministratorAccess")
    assert applied.name == "prod-admin" and asked == [DATA]


# Production's owner is Oscar, the admin Ada
RULES_CONFIG = parse_config(
    f"""
admins: [ada@example.com]
accounts:
  - id: "{PROD}"
    owners: [oscar@example.com]
    permission_sets: [AdministratorAccess]
"""
)


def _members(**bound: str) -> RoleMembers:
    config = RULES_CONFIG
    roster = Roster.direct(bound)
    return RoleMembers(
        Rules(config, roster),
        in_group_of=lambda principal, group: (principal, group) == ("p-pat", "Platform"),
        in_usergroup_of=lambda slack_id, handle: (slack_id, handle) == ("U0ONCALL", "oncall"),
    )


@pytest.mark.parametrize(
    ("slack_id", "principal", "allowed"),
    [
        ("U0PAT", "p-pat", True),  # in the Identity Center group Platform
        ("U0ONCALL", "p-on", True),  # in the Slack user group oncall
        ("U0OSCAR", "p-oscar", False),  # the account's owner, but not a requester here
        ("U0PAT", None, False),  # no Identity Center user: no group names them
    ],
)
def test_only_the_rules_requesters_may_ask(
    slack_id: str, principal: str | None, allowed: bool
) -> None:
    applied = _book(PROD_ADMIN).for_request(PROD, "AdministratorAccess")
    members = _members(**{"oscar@example.com": "U0OSCAR"})
    reason = may_request(
        applied, members, slack_id=slack_id, principal_id=principal, account_id=PROD
    )
    assert (reason is None) == allowed
    if not allowed:
        assert reason == "rule prod-admin does not let you request this access"


def test_owners_and_admins_in_a_rule_are_read_through_the_bindings() -> None:
    rule = {
        "name": "own",
        "accounts": [PROD],
        "permission_sets": ["*"],
        "requesters": ["owners", "admins"],
    }
    applied = _book(rule).for_request(PROD, "AdministratorAccess")
    members = _members(**{"oscar@example.com": "U0OSCAR", "ada@example.com": "U0ADA"})
    for slack_id, allowed in (("U0OSCAR", True), ("U0ADA", True), ("U0BOB", False)):
        reason = may_request(applied, members, slack_id=slack_id, principal_id="p", account_id=PROD)
        assert (reason is None) == allowed, slack_id


def test_a_submission_is_refused_beyond_the_rules_duration_and_ticket() -> None:
    applied = _book(PROD_ADMIN).for_request(PROD, "AdministratorAccess")
    assert request_problems(applied, timedelta(hours=4), "INC-7") == {}
    assert request_problems(applied, timedelta(hours=8), None) == {
        "duration": "At most 4 hours under rule prod-admin.",
        "ticket": "This access needs a ticket.",
    }
    default = _book().for_request(PROD, "AdministratorAccess")
    assert request_problems(default, timedelta(days=30), None) == {}
    assert request_problems(default, timedelta(hours=1), "INC-1") == {
        "ticket": "This access takes no ticket."
    }


# --- access_rules in jitbot.yml ---------------------------------------------------------

BASE = f"""
admins: [ada@example.com]
durations: [1h, 4h]
accounts:
  - id: "{PROD}"
    owners: [oscar@example.com]
    permission_sets: [AdministratorAccess, ReadOnlyAccess]
  - id: "{SANDBOX}"
    permission_sets: [ReadOnlyAccess]
"""


def test_a_config_with_rules_reads_them_in_order_and_binds_their_people() -> None:
    config = parse_config(
        BASE
        + f"""
access_rules:
  - name: prod-admin
    accounts: ["{PROD}"]
    permission_sets: [AdministratorAccess]
    approvers: [group:ProdLeads, pat@example.com]
    approvals: 2
  - name: any-read
    accounts: ["*"]
    permission_sets: [ReadOnlyAccess]
    auto_approve: true
"""
    )
    assert [r.name for r in config.rules()] == ["prod-admin", "any-read"]
    assert ("access_rules[0].approvers[1]", "pat@example.com") in config.people()


def test_a_config_without_rules_has_none() -> None:
    assert parse_config(BASE).rules() == ()


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        (
            '[{name: a, accounts: ["*"], permission_sets: ["*"]}, {name: a, accounts: ["*"], permission_sets: ["*"]}]',
            'access_rules[1].name: duplicate rule name "a" (also access_rules[0])',
        ),
        (
            '[{name: a, accounts: ["999999999999"], permission_sets: ["*"]}]',
            'access_rules[0].accounts[0]: "999999999999" is not one of the accounts',
        ),
        (
            f'[{{name: a, accounts: ["{SANDBOX}"], permission_sets: [AdministratorAccess]}}]',
            'access_rules[0].permission_sets[0]: "AdministratorAccess" is not a permission set of the accounts this rule covers',
        ),
        (
            '[{name: a, accounts: ["*"], permission_sets: [custom]}]',
            "access_rules[0].permission_sets[0]: custom permission sets are not enabled",
        ),
        (
            '[{name: a, accounts: ["*"], permission_sets: ["*"], max_duration: 30m}]',
            "access_rules[0].max_duration: is shorter than every configured duration",
        ),
    ],
)
def test_a_rule_naming_what_the_file_does_not_have_is_refused_by_path(
    rules: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + "access_rules: " + rules + "\n")
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_before_the_ack_an_ou_rule_is_judged_only_from_a_cached_lookup() -> None:
    cached: dict[str, frozenset[str]] = {}
    book = RuleBook(tuple(_rules(PROD_ADMIN)), lambda a: frozenset({PROD_OU}), cached.get)
    assert book.for_request_now(DATA, "AdministratorAccess") is None  # would call AWS
    cached[DATA] = frozenset({PROD_OU})
    assert book.for_request_now(DATA, "AdministratorAccess").name == "prod-admin"
    plain = RuleBook(tuple(_rules(SANDBOX_READ)))
    assert plain.for_request_now(SANDBOX, "ReadOnlyAccess").auto_approve
