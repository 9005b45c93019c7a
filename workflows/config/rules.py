"""The model of an item of ``access_rules:`` (:class:`AccessRuleConfig`) and its
``ticket:`` (:class:`TicketConfig`); what the rules mean is
:mod:`workflows.access_rules`.

Checked here, one rule at a time: the name, each account entry (``*``, an account id,
an OU id), each set entry, each person reference, the ticket's pattern and link, and the
combinations that cannot mean what they say (``auto_approve`` with approvers or several
approvals; ``custom`` with ``auto_approve`` or several approvals, since custom sets keep
their two stages). Whether the accounts, sets, groups, user groups and OUs exist is the
config's and ``check-config``'s to say.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from workflows.access_rules import (
    ALL,
    CUSTOM,
    AccessRule,
    Ref,
    Ticket,
    parse_account_selector,
    parse_ref,
)
from workflows.config.approval_channel import ApprovalChannel, NotifyApprovers
from workflows.config.extension import ExtensionConfig, check_max_total
from workflows.config.fields import _MODEL_CONFIG, Duration, _check_person, _check_url, _error

__all__ = ["AccessRuleConfig", "TicketConfig", "check_rules_against"]

_RULE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_PATTERN_MAX = 200
#: Most approvals a rule may ask for: more distinct people than this never answer in time.
APPROVALS_MAX = 5


def _check_name(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _RULE_NAME.fullmatch(text):
        raise _error(
            "rule_name",
            "a rule name is 1 to 63 lower-case letters, digits, _ and -, starting with a "
            f"letter or digit (e.g. prod-admin), got {value!r}",
        )
    return text


def _check_account(value: object) -> str:
    if not isinstance(value, str):
        raise _error("rule_account", f'quote account ids ("012345678901"), got {value!r}')
    try:
        return parse_account_selector(value)
    except ValueError as exc:
        raise _error("rule_account", str(exc)) from None


def _check_set(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text in (ALL, CUSTOM) or re.fullmatch(r"[\w+=,.@-]{1,32}", text, re.ASCII):
        return text
    raise _error(
        "rule_permission_set",
        f'expected a permission set name, "*" (every standard set) or "custom", got {value!r}',
    )


def _check_ref(value: object) -> Ref:
    if not isinstance(value, str):
        raise _error("rule_person", f"expected text (e.g. group:ProdLeads), got {value!r}")
    try:
        ref = parse_ref(value)
    except ValueError as exc:
        raise _error("rule_person", str(exc)) from None
    if ref.kind == "person":
        return Ref("person", _check_person(ref.value))
    return ref


RuleName = Annotated[str, BeforeValidator(_check_name)]
AccountSelector = Annotated[str, BeforeValidator(_check_account)]
SetSelector = Annotated[str, BeforeValidator(_check_set)]
PersonRef = Annotated[Ref, BeforeValidator(_check_ref)]


class TicketConfig(BaseModel):
    """``ticket:`` of a rule: ``required`` (default true), ``pattern`` (a Python regular
    expression the whole ticket must match, at most 200 characters), ``link`` (an http(s)
    URL with one ``{}`` where the ticket goes)."""

    model_config = _MODEL_CONFIG

    required: bool = True
    pattern: str | None = None
    link: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) > _PATTERN_MAX:
            raise _error("ticket_pattern", f"at most {_PATTERN_MAX} characters")
        try:
            re.compile(value)
        except re.error as exc:
            raise _error("ticket_pattern", f"not a regular expression: {exc}") from None
        return value

    @field_validator("link")
    @classmethod
    def _one_placeholder(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.count("{}") != 1:
            raise _error(
                "ticket_link",
                'needs exactly one "{}" where the ticket goes '
                '(e.g. "https://tickets.example.com/browse/{}")',
            )
        _check_url(value.replace("{}", "TICKET"))
        return value

    def ticket(self) -> Ticket:
        """The domain value."""
        return Ticket(required=self.required, pattern=self.pattern, link=self.link)


class AccessRuleConfig(BaseModel):
    """One item of ``access_rules:`` (see :mod:`workflows.access_rules` for how it is
    matched and applied). ``max_duration`` is a duration like ``4h``; ``approvals`` 1 to
    5 distinct approvers."""

    model_config = _MODEL_CONFIG

    name: RuleName
    accounts: list[AccountSelector] = Field(min_length=1)
    permission_sets: list[SetSelector] = Field(min_length=1)
    requesters: list[PersonRef] | None = None
    approvers: list[PersonRef] | None = None
    approvals: int = Field(default=1, ge=1, le=APPROVALS_MAX)
    max_duration: Duration | None = None
    ticket: TicketConfig | None = None
    auto_approve: bool = False
    # how an Active session under this rule may be extended (workflows.extensions)
    extension: ExtensionConfig | None = None
    # where its requests are posted for the approvers, and whether they are DM'd too
    # (workflows.config.approval_channel); when left out, the account's keys apply
    approval_channel: ApprovalChannel = None
    notify_approvers: NotifyApprovers | None = None
    # who also gets the request when nobody acted by reminders.escalate_after (None:
    # the SSO admins and the admins)
    escalation: list[PersonRef] | None = None

    @field_validator("requesters", "approvers", "escalation")
    @classmethod
    def _not_empty(cls, value: list[Ref] | None) -> list[Ref] | None:
        if value is not None and not value:
            raise _error(
                "rule_people",
                "leave it out for the default, or name at least one (an empty "
                "list would let nobody in)",
            )
        return value

    @field_validator("max_duration")
    @classmethod
    def _at_least_a_minute(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=1):
            raise _error("max_duration", "must be at least 1m")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> AccessRuleConfig:
        custom = CUSTOM in self.permission_sets
        if self.auto_approve and (self.approvers is not None or self.approvals != 1):
            raise PydanticCustomError(
                "rule_auto",
                "auto_approve grants at once: leave out approvers and approvals",
            )
        if custom and self.auto_approve:
            raise PydanticCustomError(
                "rule_custom",
                "custom permission sets always need an owner and then an SSO admin: "
                "auto_approve cannot apply to custom",
            )
        if custom and self.approvals != 1:
            raise PydanticCustomError(
                "rule_custom",
                "custom permission sets have two stages of one approval each: "
                "approvals cannot apply to custom (put custom in a rule of its own)",
            )
        return self

    @model_validator(mode="after")
    def _extension_fits(self) -> AccessRuleConfig:
        check_max_total(
            self.extension, self.max_duration, "the rule's max_duration", ".extension.max_total"
        )
        return self

    @model_validator(mode="after")
    def _channel_needs_a_decision(self) -> AccessRuleConfig:
        if self.auto_approve and (self.approval_channel or self.notify_approvers):
            raise PydanticCustomError(
                "rule_auto",
                "auto_approve grants at once, so nobody decides in a channel: leave out "
                "approval_channel and notify_approvers",
            )
        return self

    def rule(self) -> AccessRule:
        """The domain value."""
        return AccessRule(
            name=self.name,
            accounts=tuple(self.accounts),
            permission_sets=tuple(self.permission_sets),
            requesters=tuple(self.requesters) if self.requesters is not None else None,
            approvers=tuple(self.approvers) if self.approvers is not None else None,
            approvals=self.approvals,
            max_duration=self.max_duration,
            ticket=self.ticket.ticket() if self.ticket else None,
            auto_approve=self.auto_approve,
            extension=self.extension.rule() if self.extension else None,
            approval_channel=self.approval_channel,
            notify_approvers=self.notify_approvers,
            escalation=tuple(self.escalation) if self.escalation is not None else None,
        )


def check_rules_against(
    rules: list[AccessRuleConfig],
    account_sets: dict[str, list[str]],
    shortest: timedelta | None,
    custom_enabled: bool,
) -> None:
    """The rules' references to the rest of the file: names unique; each account id is
    a configured account (OU ids are checked against AWS by ``check-config``); each set
    named is configured on an account the rule covers; ``custom`` only when custom sets
    are enabled; ``max_duration`` not below the shortest configured duration (the rule
    would offer none). ``account_sets``: account id -> its configured set names.

    :raises PydanticCustomError: the first problem, with its path below ``access_rules``.
    """
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        if rule.name in seen:
            raise _error(
                "rule_name",
                f'duplicate rule name "{rule.name}" (also access_rules[{seen[rule.name]}])',
                subpath=f"[{index}].name",
            )
        seen[rule.name] = index
        ids = [a for a in rule.accounts if a.isdigit()]
        for a, account in enumerate(rule.accounts):
            if account.isdigit() and account not in account_sets:
                raise _error(
                    "rule_account",
                    f'"{account}" is not one of the accounts: list it under accounts first',
                    subpath=f"[{index}].accounts[{a}]",
                )
        covers_all = any(not a.isdigit() for a in rule.accounts)  # "*" or an OU
        offered = {
            name
            for account_id, names in account_sets.items()
            if covers_all or account_id in ids
            for name in names
        }
        for i, name in enumerate(rule.permission_sets):
            if name == CUSTOM and not custom_enabled:
                raise _error(
                    "rule_permission_set",
                    "custom permission sets are not enabled (custom_permission_sets.enabled)",
                    subpath=f"[{index}].permission_sets[{i}]",
                )
            if name not in (ALL, CUSTOM) and name not in offered:
                raise _error(
                    "rule_permission_set",
                    f'"{name}" is not a permission set of the accounts this rule covers',
                    subpath=f"[{index}].permission_sets[{i}]",
                )
        if rule.max_duration is not None and shortest is not None and rule.max_duration < shortest:
            raise _error(
                "max_duration",
                "is shorter than every configured duration, so the rule would offer none",
                subpath=f"[{index}].max_duration",
            )
