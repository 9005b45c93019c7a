"""The access rules in force and the checks a submission gets from them (issue 18).

:class:`RuleBook` is the rules in file order and how to find the OUs above an account
(asked only when some rule names an OU). :class:`RoleMembers` answers the rules'
:class:`~workflows.rule_refs.Memberships` questions from the config's roles (through
the stored bindings, :class:`workflows.policy.Rules`), Identity Center groups and Slack
user groups. :func:`request_problems` is what a submission outside its rule is refused
with, one message per modal field, checked on the server whatever the modal offered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from workflows.access_rules import ALL, OU_ID, AccessRule, AppliedRule, RuleTarget, governing
from workflows.durations import duration_label
from workflows.policy import Rules, roles_of
from workflows.rule_refs import names
from workflows.validation import FIELD_DURATION

__all__ = [
    "FIELD_TICKET",
    "RoleMembers",
    "RuleBook",
    "RuleLookups",
    "approver_ids",
    "may_request",
    "request_problems",
]

#: The modal field a ticket is typed in (block id of the "Ticket" input).
FIELD_TICKET = "ticket"


@dataclass(frozen=True)
class RuleBook:
    """``rules`` in file order; ``ous``: account id -> the OU ids above it (None: no
    lookups; rules naming OUs then match no account, so they never loosen anything)."""

    rules: tuple[AccessRule, ...] = ()
    ous: Callable[[str], frozenset[str]] | None = field(default=None, compare=False)
    #: the OUs above an account if known without a call (None: not known yet)
    known_ous: Callable[[str], frozenset[str] | None] | None = field(default=None, compare=False)

    @cached_property
    def _index(self) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
        """Positions of the rules naming each account or OU id, and of those naming
        ``*``, built once."""
        by_id: dict[str, list[int]] = {}
        everywhere: list[int] = []
        for position, rule in enumerate(self.rules):
            for entry in dict.fromkeys(rule.accounts):
                if entry == ALL:
                    everywhere.append(position)
                else:
                    by_id.setdefault(entry, []).append(position)
        return {k: tuple(v) for k, v in by_id.items()}, tuple(everywhere)

    def candidates(
        self, account_id: str, ous: frozenset[str] = frozenset()
    ) -> tuple[AccessRule, ...]:
        """The rules covering ``account_id`` below the OUs ``ous`` (naming it, one of
        them, or ``*``), in file order, remembered per account and OUs: an account
        picker over thousands of accounts and hundreds of rules compares only their
        sets."""
        memo = self.__dict__.setdefault("_candidates", {})
        found = memo.get((account_id, ous))
        if found is None:
            by_id, everywhere = self._index
            named = [*by_id.get(account_id, ()), *(p for ou in ous for p in by_id.get(ou, ()))]
            positions = sorted({*named, *everywhere}) if named else everywhere
            found = memo[(account_id, ous)] = tuple(self.rules[p] for p in positions)
        return found

    @cached_property
    def names_ous(self) -> bool:
        """Whether some rule names an OU (only then is Organizations asked)."""
        return any(OU_ID.fullmatch(entry) for rule in self.rules for entry in rule.accounts)

    def for_request(self, account_id: str, permission_set: str | None) -> AppliedRule:
        """The rule governing a request on ``account_id`` for the standard set named
        ``permission_set`` (None: a custom set).

        :raises AwsError: the OUs above the account could not be read (the caller
            refuses the request: a rule it cannot evaluate must not be skipped).
        """
        ous = self.ous(account_id) if self.ous is not None and self.names_ous else frozenset()
        return self._governing(account_id, permission_set, ous)

    def for_request_now(self, account_id: str, permission_set: str | None) -> AppliedRule | None:
        """:meth:`for_request` without calling AWS (before an ack: the form's inline
        checks), or None when an OU lookup that is not cached would be needed."""
        known: frozenset[str] | None = frozenset()
        if self.names_ous and self.ous is not None:
            known = self.known_ous(account_id) if self.known_ous is not None else None
            if known is None:
                return None
        return self._governing(account_id, permission_set, known)

    def _governing(
        self, account_id: str, permission_set: str | None, ous: frozenset[str]
    ) -> AppliedRule:
        """:func:`governing` over the account's candidates, remembered (the rules do
        not change while this book lives)."""
        memo = self.__dict__.setdefault("_applied", {})
        key = (account_id, permission_set, ous)
        found = memo.get(key)
        if found is None:
            target = RuleTarget(account_id, permission_set, ous)
            found = governing(self.candidates(account_id, ous), target, accounts_checked=True)
            memo[key] = found
        return found


@dataclass(frozen=True)
class RuleLookups:
    """How groups in rules are read, each None where the composition root has none:
    ``in_group`` (Identity Center user id, group name), ``in_usergroup`` (Slack user
    id, handle), and the Slack user ids to DM for a group (``group_members``, by
    Identity Center group name; ``usergroup_members``, by handle). Each may raise
    (AWS or Slack down): callers refuse then."""

    in_group: Callable[[str, str], bool] | None = None
    in_usergroup: Callable[[str, str], bool] | None = None
    group_members: Callable[[str], tuple[str, ...]] | None = None
    usergroup_members: Callable[[str], tuple[str, ...]] | None = None

    def members(self, rules: Rules) -> RoleMembers:
        """:class:`RoleMembers` over ``rules`` and these lookups."""
        return RoleMembers(rules, self.in_group, self.in_usergroup)


def approver_ids(
    applied: AppliedRule, rules: Rules, lookups: RuleLookups, account_id: str
) -> tuple[str, ...]:
    """The Slack user ids ``applied``'s approvers name for a request on ``account_id``,
    each once, in the rule's order: roles through the bindings, people, and the members
    of each group (nobody for a group the composition root cannot list)."""
    found: dict[str, None] = {}
    for ref in applied.approvers:
        if ref.kind == "owners":
            ids: tuple[str, ...] = rules.owners_of(account_id)
        elif ref.kind == "sso_admins":
            ids = rules.sso_admins()
        elif ref.kind == "admins":
            ids = rules.admins()
        elif ref.kind == "person":
            one = rules.roster.id_of(ref.value)
            ids = (one,) if one else ()
        elif ref.kind == "group":
            ids = lookups.group_members(ref.value) if lookups.group_members else ()
        else:
            ids = lookups.usergroup_members(ref.value) if lookups.usergroup_members else ()
        found.update(dict.fromkeys(ids))
    return tuple(found)


@dataclass(frozen=True)
class RoleMembers:
    """:class:`~workflows.rule_refs.Memberships` for the product: roles and people from
    ``rules`` (the config read through the stored bindings), Identity Center groups from
    ``in_group`` (principal id, group name), Slack user groups from ``in_usergroup``
    (Slack user id, handle). A missing lookup names nobody."""

    rules: Rules
    in_group_of: Callable[[str, str], bool] | None = None
    in_usergroup_of: Callable[[str, str], bool] | None = None

    def has_role(self, slack_id: str, role: str, account_id: str) -> bool:
        roles = roles_of(self.rules, slack_id, account_id)
        return {"owners": roles.owner, "sso_admins": roles.sso_admin, "admins": roles.admin}[role]

    def is_person(self, slack_id: str, entry: str) -> bool:
        return self.rules.roster.names([entry], slack_id)

    def in_group(self, principal_id: str, group_name: str) -> bool:
        return self.in_group_of is not None and self.in_group_of(principal_id, group_name)

    def in_usergroup(self, slack_id: str, handle: str) -> bool:
        return self.in_usergroup_of is not None and self.in_usergroup_of(slack_id, handle)


def may_request(
    applied: AppliedRule,
    members: RoleMembers,
    *,
    slack_id: str,
    principal_id: str | None,
    account_id: str,
) -> str | None:
    """Why this person may not ask for what ``applied`` governs, or None if they may
    (everyone may, unless the rule lists ``requesters``)."""
    if applied.requesters is None:
        return None
    found = names(
        applied.requesters,
        members,
        slack_id=slack_id,
        principal_id=principal_id,
        account_id=account_id,
    )
    return None if found is not None else f"{applied.label} does not let you request this access"


def request_problems(
    applied: AppliedRule, duration: timedelta, ticket: str | None
) -> dict[str, str]:
    """What a submission breaks of ``applied``, by modal field: a duration over the
    rule's maximum (``duration``) and a missing or malformed ticket (``ticket``)."""
    problems: dict[str, str] = {}
    if not applied.allows_duration(duration):
        limit = duration_label(applied.max_duration or duration)
        problems[FIELD_DURATION] = f"At most {limit} under {applied.label}."
    if applied.ticket is not None:
        problem = applied.ticket.problem(ticket)
        if problem is not None:
            problems[FIELD_TICKET] = problem
    elif ticket and ticket.strip():
        problems[FIELD_TICKET] = "This access takes no ticket."
    return problems
