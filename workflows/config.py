"""jitbot's YAML configuration file (``jitbot.yml``), read and checked with pydantic.

An example with every key (only ``accounts`` is required)::

    slash_command: /jit
    identity_center:              # optional; found with sso-admin ListInstances when omitted
      instance_arn: arn:aws:sso:::instance/ssoins-0123456789abcdef
      identity_store_id: d-0123456789
      portal_url: https://d-0123456789.awsapps.com/start     # optional
      max_calls_per_second: 20    # client-side API limit of all replicas (the quota); 0/null: none
    admins: [ada@example.com]
    sso_admins: [sam@example.com]
    accounts:
      - id: "111111111111"        # quoted: 12 digits, leading zeros kept
        name: Sandbox             # optional; from AWS Organizations when omitted
        owners: [oscar@example.com]
        permission_sets: [ReadOnlyAccess, AdministratorAccess]
    durations: [1h, 2h, 4h, 8h, 12h, 1d, 2d, 3d, 1w, 2w, 1mo]
    approval_timeout: 24h
    allow_self_approval: false
    sweep_interval: 5s
    lease_duration: 10s           # a dead replica's claimed work is taken over after this
    reconcile:                    # drift reconciliation (workflows.reconcile)
      mode: remove                # remove | report: stray assignments and orphan JIT- sets
      interval: 10m               # how often it runs (1m to 1d)
      orphan_grace: 15m           # leave JIT- sets younger than this alone (5m to 1d)

Every problem found is reported at once in a :class:`ConfigError`, one line each, named
by key path the way a person writes it, e.g.
``accounts[1].owners[0]: not an email address`` or
``jitbot.yml line 4, column 3: mapping values are not allowed here``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from workflows.aws.ratelimit import IDENTITY_CENTER_CALLS_PER_SECOND
from workflows.durations import duration_code, parse_duration

__all__ = [
    "DEFAULT_APPROVAL_TIMEOUT",
    "DEFAULT_DURATIONS",
    "DEFAULT_ORPHAN_GRACE",
    "DEFAULT_RECONCILE_INTERVAL",
    "DEFAULT_SWEEP_INTERVAL",
    "ROLES",
    "AccountConfig",
    "Config",
    "ConfigError",
    "IdentityCenterConfig",
    "ReconcileConfig",
    "load_config",
    "parse_config",
]

#: Durations offered when the file has no ``durations`` key, in the order shown.
DEFAULT_DURATIONS: tuple[str, ...] = (
    "1h", "2h", "4h", "8h", "12h", "1d", "2d", "3d", "1w", "2w", "1mo",
)  # fmt: skip
#: How long a request may wait for approval before it expires, when not configured.
DEFAULT_APPROVAL_TIMEOUT = timedelta(hours=24)
#: How often the scheduler looks for due work, when not configured.
DEFAULT_SWEEP_INTERVAL = timedelta(seconds=5)
SWEEP_INTERVAL_MIN = timedelta(seconds=1)
SWEEP_INTERVAL_MAX = timedelta(minutes=5)
#: How often drift reconciliation runs, when not configured, and the range allowed
#: (each run lists the assignments of every managed account and permission set).
DEFAULT_RECONCILE_INTERVAL = timedelta(minutes=10)
RECONCILE_INTERVAL_MIN = timedelta(minutes=1)
RECONCILE_INTERVAL_MAX = timedelta(days=1)
#: How old a ``JIT-`` permission set must be before the reconciler may call it an
#: orphan, and the range allowed: a grant in progress creates its set before assigning
#: it, and an assignment may take minutes (the AWS adapter waits up to 300 s).
DEFAULT_ORPHAN_GRACE = timedelta(minutes=15)
ORPHAN_GRACE_MIN = timedelta(minutes=5)
ORPHAN_GRACE_MAX = timedelta(days=1)

#: Every role :meth:`Config.role_of` can return.
ROLES = frozenset({"admin", "sso_admin", "owner"})

_CTX_SUBPATH = "subpath"  # error-context key: a path suffix below the failing field


class ConfigError(ValueError):
    """The configuration could not be used.

    ``problems`` lists every problem found, each one line fit to show a person,
    e.g. ``accounts[0].id: must be 12 digits, quoted ("012345678901")``;
    ``str()`` joins them with newlines.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


# --------------------------------------------------------------------------- values


def _kind(value: object) -> str:
    """What a person would call a YAML value's type."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _error(kind: str, message: str, subpath: str | None = None) -> PydanticCustomError:
    context = {_CTX_SUBPATH: subpath} if subpath else None
    return PydanticCustomError(f"jitbot_{kind}", message, context)


def _check_email(value: object) -> str:
    if not isinstance(value, str):
        raise _error("email", "not an email address")
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise _error("email", "not an email address") from None
    return checked.normalized.lower()


_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


def _check_account_id(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # Show the digits as written (YAML reads 011111111111 as octal, for one).
        written = getattr(value, "source", None) or str(value)
        if not written.isdigit() or len(written) > 12:
            written = str(value) if 0 <= value < 10**12 else "012345678901"
        raise _error("account_id", f'must be 12 digits, quoted ("{written.zfill(12)}")')
    if not isinstance(value, str):
        raise _error(
            "account_id", f'must be 12 digits, quoted ("012345678901"), not {_kind(value)}'
        )
    text = value.strip()
    if not _ACCOUNT_ID.match(text):
        raise _error("account_id", f'must be 12 digits, got "{text}"')
    return text


_PERMISSION_SET_NAME = re.compile(r"^[\w+=,.@-]{1,32}$", re.ASCII)


def _check_permission_set(value: object) -> str:
    if not isinstance(value, str):
        raise _error("permission_set", f"expected a permission set name, got {_kind(value)}")
    text = value.strip()
    if not _PERMISSION_SET_NAME.match(text):
        raise _error(
            "permission_set",
            f'not a permission set name: "{text}" (1-32 letters, digits and + = , . @ _ -)',
        )
    return text


def _check_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise _error("duration", "must be more than zero")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise _error("duration", f'needs a unit: write e.g. "{value}h" (use s, m, h, d, w, mo)')
    if not isinstance(value, str):
        raise _error("duration", f'expected a duration like "4h", got {_kind(value)}')
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _error("duration", str(exc)) from None


_INSTANCE_ARN = re.compile(r"^arn:aws(-us-gov|-cn)?:sso:::instance/ssoins-[0-9a-f]{16}$")
_IDENTITY_STORE_ID = re.compile(r"^d-[0-9a-f]{10}$")


def _pattern_checker(pattern: re.Pattern[str], example: str, kind: str):
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _error(kind, f'must look like "{example}", got {_kind(value)}')
        text = value.strip()
        if not pattern.match(text):
            raise _error(kind, f'must look like "{example}", got "{text}"')
        return text

    return check


def _check_url(value: object) -> str:
    example = "https://d-0123456789.awsapps.com/start"
    if not isinstance(value, str):
        raise _error("url", f'must be an http(s) URL like "{example}", got {_kind(value)}')
    text = value.strip()
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid or any(c.isspace() for c in text):
        raise _error("url", f'must be an http(s) URL like "{example}", got "{text}"')
    return text


def _check_slash_command(value: object) -> str:
    if not isinstance(value, str):
        raise _error(
            "slash_command", f'must be text starting with "/", e.g. "/jit", got {_kind(value)}'
        )
    text = value.strip()
    if not text.startswith("/"):
        raise _error("slash_command", f'must start with "/" (e.g. "/jit"), got "{text}"')
    if len(text) < 2 or len(text) > 32 or any(c.isspace() for c in text):
        raise _error(
            "slash_command", f'must be "/" and a name of at most 31 characters, no spaces: "{text}"'
        )
    return text


def _check_calls_per_second(value: object) -> float | None:
    """``max_calls_per_second``: a number >= 0; 0 and null mean no limit (None)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(
            "calls_per_second",
            f"must be a number of calls per second (e.g. 20), or 0 for no limit, got "
            f"{_kind(value)}",
        )
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise _error(
            "calls_per_second", f"must be 0 (no limit) or more calls per second, got {value}"
        )
    return float(value) or None


def _strip_or_none(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    return value


Email = Annotated[str, BeforeValidator(_check_email)]
AccountId = Annotated[str, BeforeValidator(_check_account_id)]
PermissionSetName = Annotated[str, BeforeValidator(_check_permission_set)]
Duration = Annotated[timedelta, BeforeValidator(_check_duration)]


# --------------------------------------------------------------------------- models

_MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid")


class IdentityCenterConfig(BaseModel):
    """Where the IAM Identity Center instance is (``identity_center:``).

    ``instance_arn`` looks like ``arn:aws:sso:::instance/ssoins-0123456789abcdef``
    (partition ``aws``, ``aws-us-gov`` or ``aws-cn``); ``identity_store_id`` like
    ``d-0123456789``; ``portal_url``, the AWS access portal, is an optional http(s) URL.
    Each may be omitted: the instance and its identity store are then found with
    sso-admin ``ListInstances`` (the first instance).

    ``max_calls_per_second`` is jitbot's own limit on its sso-admin and identitystore
    calls together (:mod:`workflows.ratelimit`): by default Identity Center's collective
    quota of 20 calls a second (IAM Identity Center quotas page,
    https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html); set it to
    the quota if AWS raised yours, or lower when other tools share the quota. ``0`` or
    ``null`` turns it off (None). It is the limit of all replicas together: each live
    replica paces itself at its share (:meth:`workflows.aws.IdentityCenter.share_quota`).
    """

    model_config = _MODEL_CONFIG

    instance_arn: (
        Annotated[
            str,
            BeforeValidator(
                _pattern_checker(
                    _INSTANCE_ARN, "arn:aws:sso:::instance/ssoins-0123456789abcdef", "instance_arn"
                )
            ),
        ]
        | None
    ) = None
    identity_store_id: (
        Annotated[
            str,
            BeforeValidator(
                _pattern_checker(_IDENTITY_STORE_ID, "d-0123456789", "identity_store_id")
            ),
        ]
        | None
    ) = None
    portal_url: Annotated[str, BeforeValidator(_check_url)] | None = None
    max_calls_per_second: Annotated[float | None, BeforeValidator(_check_calls_per_second)] = (
        IDENTITY_CENTER_CALLS_PER_SECOND
    )

    @model_validator(mode="after")
    def _both_ids_or_neither(self) -> IdentityCenterConfig:
        if (self.instance_arn is None) != (self.identity_store_id is None):
            raise PydanticCustomError(
                "both_or_neither",
                "give both instance_arn and identity_store_id, or neither (found with "
                "ListInstances)",
            )
        return self


class AccountConfig(BaseModel):
    """One AWS account people may ask for access to (an item of ``accounts:``).

    ``id`` is the 12-digit account id as text; ``name`` is ``None`` when it should come
    from AWS Organizations; ``owners`` are lower-cased emails of the people who approve
    requests for it; ``permission_sets`` name the standard permission sets requestable
    in it, in the order given.
    """

    model_config = _MODEL_CONFIG

    id: AccountId
    name: Annotated[str | None, BeforeValidator(_strip_or_none)] = None
    owners: list[Email] = Field(default_factory=list)
    permission_sets: list[PermissionSetName] = Field(default_factory=list)
    custom_permission_sets: bool = True  # may custom sets be requested here (when enabled)


class CustomSetsConfig(BaseModel):
    """``custom_permission_sets:``: may people build a one-off ``JIT-`` permission set,
    from which AWS managed policies, and how long may its sessions last (1 to 12 h,
    IAM Identity Center's range)."""

    model_config = _MODEL_CONFIG

    enabled: bool = False
    managed_policies: list[PermissionSetName] = Field(default_factory=list)
    max_session_duration: Duration = timedelta(hours=12)

    @field_validator("max_session_duration")
    @classmethod
    def _one_to_twelve_hours(cls, value: timedelta) -> timedelta:
        if not timedelta(hours=1) <= value <= timedelta(hours=12) or value.total_seconds() % 3600:
            raise PydanticCustomError(
                "session_range", "must be whole hours from 1h to 12h (IAM Identity Center's range)"
            )
        return value


def _in_range(name: str, value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    if not low <= value <= high:
        raise _error(
            name,
            f"must be between {duration_code(low)} and {duration_code(high)}, "
            f"got {duration_code(value)}",
        )
    return value


class ReconcileConfig(BaseModel):
    """``reconcile:``: drift reconciliation (:mod:`workflows.reconcile`), run every
    ``interval`` and by ``jitbot reconcile``.

    ``mode``: ``remove`` (default) deletes account assignments of managed permission
    sets that no active grant stands behind, and deletes orphan ``JIT-`` permission
    sets; ``report`` only audits them and tells the admins, changing nothing in AWS.
    In both modes a grant whose assignment was removed outside jitbot is marked
    Revoked and its requester and approvers are told (that only records what AWS
    already did). ``interval``: 1 minute to 1 day, default 10 minutes.
    ``orphan_grace``: a ``JIT-`` set younger than this (by its AWS creation time) may
    belong to a grant in progress and is left alone; 5 minutes to 1 day, default 15
    minutes.
    """

    model_config = _MODEL_CONFIG

    mode: Literal["remove", "report"] = "remove"
    interval: Duration = DEFAULT_RECONCILE_INTERVAL
    orphan_grace: Duration = DEFAULT_ORPHAN_GRACE

    @field_validator("mode", mode="before")
    @classmethod
    def _remove_or_report(cls, value: object) -> str:
        text = value.strip().lower() if isinstance(value, str) else None
        if text not in ("remove", "report"):
            shown = f'"{value}"' if isinstance(value, str) else _kind(value)
            raise _error("reconcile_mode", f"must be remove or report, got {shown}")
        return text

    @field_validator("interval")
    @classmethod
    def _interval_in_range(cls, value: timedelta) -> timedelta:
        return _in_range(
            "reconcile_interval", value, RECONCILE_INTERVAL_MIN, RECONCILE_INTERVAL_MAX
        )

    @field_validator("orphan_grace")
    @classmethod
    def _grace_in_range(cls, value: timedelta) -> timedelta:
        return _in_range("orphan_grace", value, ORPHAN_GRACE_MIN, ORPHAN_GRACE_MAX)

    @property
    def report_only(self) -> bool:
        """True in ``report`` mode: nothing is changed in AWS."""
        return self.mode == "report"


class Config(BaseModel):
    """The whole configuration file. Durations are :class:`~datetime.timedelta` values.

    Build it with :func:`load_config` or :func:`parse_config` to get readable errors;
    constructing it directly raises pydantic's :class:`~pydantic.ValidationError`.
    """

    model_config = _MODEL_CONFIG

    slash_command: Annotated[str, BeforeValidator(_check_slash_command)] = "/jit"
    identity_center: IdentityCenterConfig | None = None
    admins: list[Email] = Field(default_factory=list)
    sso_admins: list[Email] = Field(default_factory=list)
    accounts: list[AccountConfig]
    durations: list[Duration] = Field(
        default_factory=lambda: [parse_duration(code) for code in DEFAULT_DURATIONS]
    )
    approval_timeout: Duration = DEFAULT_APPROVAL_TIMEOUT
    allow_self_approval: bool = False
    sweep_interval: Duration = DEFAULT_SWEEP_INTERVAL
    # how long a replica's claim on work (an account assignment, an outbox entry) holds
    # without its heartbeat: a dead replica's work is taken over after this (design §5)
    lease_duration: Duration = timedelta(seconds=10)
    custom_permission_sets: CustomSetsConfig = Field(default_factory=CustomSetsConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)

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
        """Lower-cased owner emails of an account; empty for an unknown account."""
        account = self.account(account_id)
        return list(account.owners) if account else []

    def role_of(self, email: str) -> set[str]:
        """The roles of the person with this email (any case): a subset of :data:`ROLES`.

        ``"admin"`` if listed in ``admins``, ``"sso_admin"`` if in ``sso_admins``,
        ``"owner"`` if an owner of at least one account; empty for everyone else.
        """
        address = email.strip().lower()
        roles: set[str] = set()
        if address in self.admins:
            roles.add("admin")
        if address in self.sso_admins:
            roles.add("sso_admin")
        if any(address in account.owners for account in self.accounts):
            roles.add("owner")
        return roles

    def owned_account_ids(self, email: str) -> list[str]:
        """Ids of the accounts this email (any case) owns, in configuration order."""
        address = email.strip().lower()
        return [account.id for account in self.accounts if address in account.owners]


# --------------------------------------------------------------------------- YAML


class _YamlInt(int):
    """An int read from YAML that remembers how it was written (``source``)."""

    source: str


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys and keeps the text of integers."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; SafeLoader reports it itself
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f'duplicate key "{key}"', key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    number = _YamlInt(loader.construct_yaml_int(node))
    number.source = str(node.value).replace("_", "")
    return number


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _yaml_problem(source: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    text = f"{problem} ({context})" if context else problem
    if mark is None:
        return f"{source}: {text}"
    return f"{source} line {mark.line + 1}, column {mark.column + 1}: {text}"


# --------------------------------------------------------------------------- errors

# Models below each path (ints stand for "any list index"), for "did you mean" hints.
_MODELS_AT: dict[tuple[Any, ...], type[BaseModel]] = {
    (): Config,
    ("identity_center",): IdentityCenterConfig,
    ("accounts", int): AccountConfig,
    ("reconcile",): ReconcileConfig,
}


def _format_path(loc: Sequence[str | int]) -> str:
    """``("accounts", 1, "owners", 0)`` -> ``accounts[1].owners[0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _unknown_key_message(loc: Sequence[str | int]) -> str:
    shape = tuple(int if isinstance(p, int) else p for p in loc[:-1])
    model = _MODELS_AT.get(shape)
    if model is not None and isinstance(loc[-1], str):
        close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.6)
        if close:
            return f'unknown key (did you mean "{close[0]}"?)'
    return "unknown key"


def _plain_message(error: dict[str, Any]) -> str:
    kind: str = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind.startswith("jitbot_"):
        return error["msg"]
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return _unknown_key_message(error["loc"])
    if kind == "string_type":
        return f"expected text, got {_kind(value)}"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return f"expected a list (e.g. [a, b]), got {_kind(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected keys and values (key: value), got {_kind(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_kind(value)}"
    if kind == "string_pattern_mismatch":
        return f"does not match the pattern {ctx.get('pattern')}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    return str(error["msg"])


def _problems(exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        path = _format_path(error["loc"]) + ((error.get("ctx") or {}).get(_CTX_SUBPATH) or "")
        message = _plain_message(error)
        problem = f"{path}: {message}" if path else message
        if problem not in problems:
            problems.append(problem)
    return problems


# --------------------------------------------------------------------------- loading


def parse_config(text: str, source: str = "<config>") -> Config:
    """Read a configuration from YAML text.

    ``source`` names the text in YAML syntax errors (``"<source> line 4, column 3: …"``).

    Raises:
        ConfigError: listing every problem, each prefixed by its key path.
    """
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(source, exc)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: expected settings as key: value lines, got {_kind(data)}"])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None


def load_config(path: str | Path) -> Config:
    """Read and check the configuration file at ``path`` (UTF-8 YAML).

    Raises:
        ConfigError: e.g. ``["jitbot.yml: file not found"]``, or every problem found in
            the file as :func:`parse_config` reports them.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, not a file"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    return parse_config(text, source=str(path))
