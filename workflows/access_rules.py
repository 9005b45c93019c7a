"""Access rules: which rule governs a request, and what it asks for (issue 18, design §3).

A rule names accounts (12-digit ids, Organizations OU ids matching every account below
the OU, or ``*``) and permission sets (names; ``*`` for every *standard* set;
``custom`` for one-off ``JIT-`` sets, which ``*`` does not match, so that a rule
written for standard sets never loosens the two stages custom sets keep). The rules
are read in file order and the first whose accounts and sets match decides
(:func:`governing`): who may request (``requesters``; everyone when not given), who
approves, how many distinct approvals, the longest duration, whether a ticket is asked
for, and automatic approval. A request no rule matches gets the account's default rule,
which is today's behaviour: anyone may request, one approval by an owner of the account,
an SSO admin or an admin, any configured duration.

The first match decides even when its ``requesters`` leave the person out: a rule
"only the data team may ask for the analytics account" must not fall through to a
looser rule below it.

People in a rule are :class:`Ref` s: a role (``owners`` of the request's account,
``sso_admins``, ``admins``), an Identity Center group (``group:NAME``, its display
name), a Slack user group (``usergroup:HANDLE``), or one person by email or Slack user
id. Whether someone is named is decided from stable ids only (Slack user id, Identity
Center user id), never from an email Slack shows (design §3): the caller resolves
memberships through :class:`Memberships`.

Everything here is pure: no AWS, no Slack, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

from workflows.durations import duration_label
from workflows.extensions import ExtensionRule
from workflows.rule_refs import Memberships, Ref, names, parse_ref

__all__ = [
    "ALL",
    "CUSTOM",
    "AppliedRule",
    "Memberships",
    "Ref",
    "RuleTarget",
    "Ticket",
    "AccessRule",
    "default_rule",
    "governing",
    "may_ask_ticket",
    "rule_line",
    "rule_summary",
    "rules_on",
    "names",
    "parse_account_selector",
    "parse_ref",
]

#: Matches every account, or every standard permission set.
ALL = "*"
#: The permission-set selector for custom (``JIT-``) sets.
CUSTOM = "custom"

# Organizations OU ids (API_OrganizationalUnit.html: ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$)
OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def parse_account_selector(text: str) -> str:
    """A rule's account entry: ``*``, a 12-digit account id or an OU id (``ou-…``).

    :raises ValueError: anything else.
    """
    raw = text.strip()
    if raw == ALL or _ACCOUNT_ID.fullmatch(raw) or OU_ID.fullmatch(raw):
        return raw
    raise ValueError(
        f'expected "*", a 12-digit account id (quoted) or an OU id like ou-ab12-cd34ef56, '
        f"got {raw!r}"
    )


@dataclass(frozen=True)
class Ticket:
    """A rule's ``ticket:``: ``required`` (a request without one is refused), ``pattern``
    (a regular expression the whole ticket must match; None: any text), ``link`` (a URL
    with ``{}`` where the ticket goes; None: shown as text)."""

    required: bool = True
    pattern: str | None = None
    link: str | None = None

    #: The longest ticket accepted, so a pattern never runs on a long input.
    MAX_LENGTH = 64

    def problem(self, ticket: str | None) -> str | None:
        """Why ``ticket`` (as typed, stripped) is refused, or None when it is fine."""
        text = (ticket or "").strip()
        if not text:
            return "This access needs a ticket." if self.required else None
        if len(text) > self.MAX_LENGTH:
            return f"A ticket is at most {self.MAX_LENGTH} characters."
        if self.pattern is not None and not re.fullmatch(self.pattern, text):
            return f"That ticket does not match the expected form ({self.pattern})."
        return None

    def url(self, ticket: str) -> str | None:
        """The ticket's link (the ticket percent-encoded into ``link``), or None."""
        if self.link is None:
            return None
        return self.link.replace("{}", quote(ticket.strip(), safe=""), 1)


@dataclass(frozen=True)
class AccessRule:
    """One item of ``access_rules:``. ``accounts``: account ids, OU ids or ``*``;
    ``permission_sets``: set names, ``*`` (every standard set) or ``custom``;
    ``requesters``: None for everyone; ``approvers``: None for the default (the
    account's owners, the SSO admins and the admins); ``approvals``: distinct approvers
    needed (1 for a custom set's owner stage); ``max_duration``: None for any configured
    duration; ``auto_approve``: granted at once, the owners told."""

    name: str
    accounts: tuple[str, ...]
    permission_sets: tuple[str, ...]
    requesters: tuple[Ref, ...] | None = None
    approvers: tuple[Ref, ...] | None = None
    approvals: int = 1
    max_duration: timedelta | None = None
    ticket: Ticket | None = None
    auto_approve: bool = False
    #: ``extension:`` (None: the top-level default, :mod:`workflows.extensions`)
    extension: ExtensionRule | None = None
    #: where requests it governs are posted for the approvers (a channel id or #name;
    #: None: the account's), and ``"dm"``/``"none"`` for DMs as well (None: the account's)
    approval_channel: str | None = None
    notify_approvers: str | None = None
    #: who also gets a request nobody acted on in time (None: DEFAULT_ESCALATION)
    escalation: tuple[Ref, ...] | None = None

    def matches(self, target: RuleTarget) -> bool:
        """Whether this rule's accounts and permission sets cover ``target``."""
        account = any(
            entry == ALL or entry == target.account_id or entry in target.ou_ids
            for entry in self.accounts
        )
        return account and self.covers_set(target.permission_set)

    def applied(self) -> AppliedRule:
        """What this rule asks of a request it governs (approvers defaulted)."""
        return AppliedRule(
            name=self.name,
            requesters=self.requesters,
            approvers=self.approvers or DEFAULT_APPROVERS,
            approvals=self.approvals,
            max_duration=self.max_duration,
            ticket=self.ticket,
            auto_approve=self.auto_approve,
            extension=self.extension,
            approval_channel=self.approval_channel,
            notify_approvers=self.notify_approvers,
            escalation=self.escalation or DEFAULT_ESCALATION,
        )

    def covers_set(self, permission_set: str | None) -> bool:
        """Whether this rule's sets cover the standard set ``permission_set`` (None: a
        custom set)."""
        sets = self.permission_sets
        if permission_set is None:
            return CUSTOM in sets
        return ALL in sets or permission_set in sets


@dataclass(frozen=True)
class RuleTarget:
    """What a request is for: the account, the OUs above it (every level up to the root,
    from Organizations ``ListParents``) and the standard permission set's name (None: a
    custom set)."""

    account_id: str
    permission_set: str | None
    ou_ids: frozenset[str] = field(default_factory=frozenset)


DEFAULT_APPROVERS: tuple[Ref, ...] = (Ref("owners"), Ref("sso_admins"), Ref("admins"))
#: Who a request goes to when nobody acted by ``reminders.escalate_after``.
DEFAULT_ESCALATION: tuple[Ref, ...] = (Ref("sso_admins"), Ref("admins"))


@dataclass(frozen=True)
class AppliedRule:
    """The rule a request falls under: ``name`` (None: the account's default rule) and
    what it asks for. ``approvers`` is never empty."""

    name: str | None
    requesters: tuple[Ref, ...] | None
    approvers: tuple[Ref, ...]
    approvals: int
    max_duration: timedelta | None
    ticket: Ticket | None
    auto_approve: bool
    #: the rule's ``extension:`` (None: the top-level default)
    extension: ExtensionRule | None = None
    #: the rule's ``approval_channel`` and ``notify_approvers`` (None: the account's)
    approval_channel: str | None = None
    notify_approvers: str | None = None
    #: who also gets the request when nobody acted by ``reminders.escalate_after``
    escalation: tuple[Ref, ...] = DEFAULT_ESCALATION

    @property
    def label(self) -> str:
        """How messages and the audit name it: ``rule prod-admin`` or ``the default rule``."""
        return f"rule {self.name}" if self.name else "the default rule"

    def allows_duration(self, duration: timedelta) -> bool:
        """Whether ``duration`` is within the rule's maximum."""
        return self.max_duration is None or duration <= self.max_duration

    def durations(self, offered: Iterable[timedelta]) -> list[timedelta]:
        """The configured durations this rule allows, in their order."""
        return [d for d in offered if self.allows_duration(d)]


def may_ask_ticket(rules: Sequence[AccessRule], account_id: str | None) -> bool:
    """Whether a rule with a ``ticket`` could govern a request on ``account_id`` (any
    account when None), without asking Organizations (:func:`rules_on`: a rule naming an
    OU counts as covering every account). The request form shows its "Ticket" input
    then; the server checks the ticket against the rule that does govern."""
    covering = rules if account_id is None else rules_on(rules, account_id)
    return any(rule.ticket is not None for rule in covering)


def rule_summary(rule: AccessRule) -> str:
    """One line saying what ``rule`` asks, for App Home's Owned Accounts:
    ``prod-admin: AdministratorAccess · 2 approvals from group:ProdLeads · at most
    4 hours · ticket · by group:Platform`` (plain text; the caller escapes it)."""
    sets = ", ".join("every standard set" if s == ALL else s for s in rule.permission_sets)
    if rule.auto_approve:
        how = "approved automatically"
    else:
        who = ", ".join(str(r) for r in rule.approvers) if rule.approvers else "owners or admins"
        how = f"{rule.approvals} approval{'s' if rule.approvals > 1 else ''} from {who}"
    parts = [f"{rule.name}: {sets}", how]
    if rule.max_duration is not None:
        parts.append(f"at most {duration_label(rule.max_duration)}")
    if rule.ticket is not None and rule.ticket.required:
        parts.append("ticket")
    if rule.requesters is not None:
        parts.append("requested by " + ", ".join(str(r) for r in rule.requesters))
    return " · ".join(parts)


def rule_line(applied: AppliedRule | None) -> str | None:
    """What the request form says will happen under ``applied`` (plain text; None for
    the default rule or an unknown one): ``Needs 2 approvals from group:ProdLeads · at
    most 4 hours · a ticket (rule prod-admin)`` or ``Approved automatically (rule
    sandbox-read)``."""
    if applied is None or applied.name is None:
        return None
    if applied.auto_approve:
        return f"Approved automatically ({applied.label})"
    who = ", ".join(str(r) for r in applied.approvers)
    n = applied.approvals
    parts = [f"Needs {n} approval{'s' if n > 1 else ''} from {who}"]
    if applied.max_duration is not None:
        parts.append(f"at most {duration_label(applied.max_duration)}")
    if applied.ticket is not None and applied.ticket.required:
        parts.append("a ticket")
    return " · ".join(parts) + f" ({applied.label})"


def rules_on(rules: Sequence[AccessRule], account_id: str) -> list[AccessRule]:
    """The rules that may govern requests on ``account_id``, in order: naming it, ``*``,
    or an OU (which may or may not hold it: Organizations is not asked here)."""
    return [
        r for r in rules if any(a in (ALL, account_id) or OU_ID.fullmatch(a) for a in r.accounts)
    ]


def default_rule() -> AppliedRule:
    """An account's default rule: everyone may request; one approval by an owner, an SSO
    admin or an admin; any configured duration; no ticket."""
    return AppliedRule(None, None, DEFAULT_APPROVERS, 1, None, None, False)


def governing(
    rules: Sequence[AccessRule], target: RuleTarget, *, accounts_checked: bool = False
) -> AppliedRule:
    """The first rule in ``rules`` (file order) matching ``target``, else the default.
    ``accounts_checked``: every rule given is known to cover the account (an index's
    candidates), so only the sets are compared."""
    for rule in rules:
        if rule.covers_set(target.permission_set) if accounts_checked else rule.matches(target):
            return rule.applied()
    return default_rule()
