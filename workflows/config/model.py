"""The whole configuration file (:class:`Config`): its top-level keys, and who is an
admin, an SSO admin or an account owner."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, field_validator

from workflows.access_rules import AccessRule
from workflows.config.accounts import AccountConfig, CustomSetsConfig, IdentityCenterConfig
from workflows.config.defaults import (
    DEFAULT_APPROVAL_TIMEOUT,
    DEFAULT_DURATIONS,
    DEFAULT_EXPIRY_WARNING,
    DEFAULT_SWEEP_INTERVAL,
    SWEEP_INTERVAL_MAX,
    SWEEP_INTERVAL_MIN,
)
from workflows.config.extension import ExtensionConfig, check_max_total
from workflows.config.fields import (
    _MODEL_CONFIG,
    Duration,
    PersonEntry,
    _check_slash_command,
    _error,
    _in_range,
)
from workflows.config.identity import IdentityConfig
from workflows.config.limits import LimitsConfig
from workflows.config.reconcile import ReconcileConfig
from workflows.config.reminders import RemindersConfig
from workflows.config.rules import AccessRuleConfig, check_rules_against
from workflows.config.warning import ExpiryWarning
from workflows.durations import duration_code, parse_duration
from workflows.reminders import ReminderPlan


class Config(BaseModel):
    """The whole configuration file. Durations are :class:`~datetime.timedelta` values.

    Build it with :func:`load_config` or :func:`parse_config` to get readable errors;
    constructing it directly raises pydantic's :class:`~pydantic.ValidationError`.
    """

    model_config = _MODEL_CONFIG

    slash_command: Annotated[str, BeforeValidator(_check_slash_command)] = "/jit"
    identity_center: IdentityCenterConfig | None = None
    # people by email or Slack user id (workflows.people): bound to user ids at start-up
    admins: list[PersonEntry] = Field(default_factory=list)
    sso_admins: list[PersonEntry] = Field(default_factory=list)
    accounts: list[AccountConfig]
    durations: list[Duration] = Field(
        default_factory=lambda: [parse_duration(code) for code in DEFAULT_DURATIONS]
    )
    approval_timeout: Duration = DEFAULT_APPROVAL_TIMEOUT
    allow_self_approval: bool = False
    # who may use the bot at all (bot/gate.py): members of the installed workspace or
    # Enterprise Grid org only. True also lets in guests (users.info ``is_restricted`` /
    # ``is_ultra_restricted``) and Slack Connect users of other organizations; bots,
    # deactivated users and unconfirmed emails are refused either way
    allow_guests: bool = False
    sweep_interval: Duration = DEFAULT_SWEEP_INTERVAL
    # how long a replica's claim on work (an account assignment, an outbox entry) holds
    # without its heartbeat: a dead replica's work is taken over after this (design §5)
    lease_duration: Duration = timedelta(seconds=10)
    # at the end of a standard-set session, also end the AWS sign-ins already open with
    # it: a deny in the set's inline policy (workflows/services/live_sessions.py)
    revoke_live_sessions: bool = False
    # the requester is told this long before their session ends, with Extend and Release
    # now (workflows/services/warning.py); None: never
    expiry_warning: ExpiryWarning = DEFAULT_EXPIRY_WARNING
    custom_permission_sets: CustomSetsConfig = Field(default_factory=CustomSetsConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    # how Active sessions may be extended where no access rule says (workflows.extensions)
    extension: ExtensionConfig = Field(default_factory=ExtensionConfig)
    # reminders of approvers who have not acted, and escalation (workflows.reminders)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    # who may request what and who approves it (workflows.access_rules); last, so the
    # check of its references sees every other key
    access_rules: list[AccessRuleConfig] = Field(default_factory=list)

    @field_validator("access_rules")
    @classmethod
    def _rules_refer_to_the_file(
        cls, rules: list[AccessRuleConfig], info: ValidationInfo
    ) -> list[AccessRuleConfig]:
        accounts = info.data.get("accounts") or []
        durations = info.data.get("durations") or []
        custom = info.data.get("custom_permission_sets")
        check_rules_against(
            rules,
            {a.id: list(a.permission_sets) for a in accounts},
            min(durations) if durations else None,
            bool(custom and custom.enabled),
        )
        return rules

    @field_validator("extension")
    @classmethod
    def _extension_fits(cls, extension: ExtensionConfig, info: ValidationInfo) -> ExtensionConfig:
        durations = info.data.get("durations") or []
        longest = max(durations) if durations else None
        check_max_total(extension, longest, "the longest of durations", ".max_total")
        return extension

    @field_validator("reminders")
    @classmethod
    def _escalation_within_window(
        cls, reminders: RemindersConfig, info: ValidationInfo
    ) -> RemindersConfig:
        timeout = info.data.get("approval_timeout")
        after = reminders.escalate_after
        if timeout is not None and after is not None and after >= timeout:
            raise _error(
                "reminders",
                f"must be less than approval_timeout ({duration_code(timeout)}), "
                f"got {duration_code(after)}",
                subpath=".escalate_after",
            )
        return reminders

    def reminder_plan(self) -> ReminderPlan:
        """When approvers are reminded and the request escalated (``reminders:``)."""
        return self.reminders.plan(self.approval_timeout)

    def rules(self) -> tuple[AccessRule, ...]:
        """The access rules, in file order, as the domain reads them."""
        return tuple(rule.rule() for rule in self.access_rules)

    @field_validator("accounts")
    @classmethod
    def _accounts_present_and_unique(cls, accounts: list[AccountConfig]) -> list[AccountConfig]:
        if not accounts:
            raise _error("accounts", 'at least one account is required (e.g. - id: "111111111111")')
        first_index: dict[str, int] = {}
        for index, account in enumerate(accounts):
            if account.id in first_index:
                first = first_index[account.id]
                raise _error(
                    "accounts",
                    f'duplicate account id "{account.id}" (also accounts[{first}])',
                    subpath=f"[{index}].id",
                )
            first_index[account.id] = index
        return accounts

    @field_validator("durations")
    @classmethod
    def _durations_present_and_unique(cls, durations: list[timedelta]) -> list[timedelta]:
        if not durations:
            raise _error("durations", "at least one duration is required (e.g. [1h, 4h, 1d])")
        first_index: dict[timedelta, int] = {}
        for index, duration in enumerate(durations):
            if duration in first_index:
                raise _error(
                    "durations",
                    f"{duration_code(duration)} is listed twice "
                    f"(also durations[{first_index[duration]}])",
                    subpath=f"[{index}]",
                )
            first_index[duration] = index
        return durations

    @field_validator("sweep_interval")
    @classmethod
    def _sweep_interval_in_range(cls, interval: timedelta) -> timedelta:
        if not SWEEP_INTERVAL_MIN <= interval <= SWEEP_INTERVAL_MAX:
            raise _error(
                "sweep_interval",
                f"must be between {duration_code(SWEEP_INTERVAL_MIN)} and "
                f"{duration_code(SWEEP_INTERVAL_MAX)}, got {duration_code(interval)}",
            )
        return interval

    @field_validator("lease_duration")
    @classmethod
    def _lease_in_range(cls, lease: timedelta) -> timedelta:
        return _in_range("lease_duration", lease, timedelta(seconds=3), timedelta(minutes=5))

    def account(self, account_id: str) -> AccountConfig | None:
        """The configured account with this 12-digit id, or ``None``."""
        return next((a for a in self.accounts if a.id == account_id), None)

    def custom_allowed_on(self, account_id: str) -> bool:
        """Custom permission sets are enabled and the account does not opt out."""
        account = self.account(account_id)
        return (
            self.custom_permission_sets.enabled
            and account is not None
            and account.custom_permission_sets
        )

    def owners_of(self, account_id: str) -> list[str]:
        """The owner entries (lower-cased emails, Slack user ids) of an account; empty for
        an unknown account."""
        account = self.account(account_id)
        return list(account.owners) if account else []

    def people(self) -> list[tuple[str, str]]:
        """``(key path, entry)`` of every person named, in file order: ``admins``,
        ``sso_admins``, each account's ``owners``, then the people the access rules
        name by email or Slack user id."""
        people = [(f"admins[{i}]", e) for i, e in enumerate(self.admins)]
        people += [(f"sso_admins[{i}]", e) for i, e in enumerate(self.sso_admins)]
        for a, account in enumerate(self.accounts):
            people += [(f"accounts[{a}].owners[{i}]", e) for i, e in enumerate(account.owners)]
        for r, rule in enumerate(self.access_rules):
            for key in ("requesters", "approvers", "escalation"):
                refs = getattr(rule, key) or []
                people += [
                    (f"access_rules[{r}].{key}[{i}]", ref.value)
                    for i, ref in enumerate(refs)
                    if ref.kind == "person"
                ]
        return people
