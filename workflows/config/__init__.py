"""jitbot's YAML configuration file (``jitbot.yml``), read and checked with pydantic.

An example with every key (only ``accounts`` is required)::

    slash_command: /jit
    identity_center:              # optional; found with sso-admin ListInstances when omitted
      instance_arn: arn:aws:sso:::instance/ssoins-0123456789abcdef
      identity_store_id: d-0123456789
      portal_url: https://d-0123456789.awsapps.com/start     # optional
      max_calls_per_second: 15    # client-side API limit of all replicas (AWS: 20/s); 0/null: none
      max_outstanding_operations: 15  # assignment changes under way at once (AWS: 15, fixed)
      conflict_retry_seconds: 120 # retry ConflictException / ServiceQuotaExceeded this long
      pending_grant_timeout: 1h   # follow a grant AWS has not finished this long, then undo it
    admins: [ada@example.com]     # people by email or Slack user id (U0123ABCD)
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
    identity:                     # who the people named are (workflows.people)
      rebind: alert               # alert (keep the old id until an admin confirms) | follow
      resolve_interval: 1h        # how often their emails are looked up again in Slack

Every problem found is reported at once in a :class:`ConfigError`, one line each, named
by key path the way a person writes it, e.g.
``accounts[1].owners[0]: not an email address or a Slack user id (U0123ABCD)`` or
``jitbot.yml line 4, column 3: mapping values are not allowed here``.
"""

from workflows.config.accounts import AccountConfig, CustomSetsConfig, IdentityCenterConfig
from workflows.config.defaults import (
    DEFAULT_APPROVAL_TIMEOUT,
    DEFAULT_DURATIONS,
    DEFAULT_ORPHAN_GRACE,
    DEFAULT_RECONCILE_INTERVAL,
    DEFAULT_SWEEP_INTERVAL,
    ORPHAN_GRACE_MAX,
    ORPHAN_GRACE_MIN,
    RECONCILE_INTERVAL_MAX,
    RECONCILE_INTERVAL_MIN,
    ROLES,
    SWEEP_INTERVAL_MAX,
    SWEEP_INTERVAL_MIN,
)
from workflows.config.fields import AccountId, Duration, Email, PermissionSetName
from workflows.config.loading import load_config, parse_config
from workflows.config.model import Config
from workflows.config.problems import ConfigError
from workflows.config.reconcile import ReconcileConfig

__all__ = [
    "DEFAULT_APPROVAL_TIMEOUT",
    "DEFAULT_DURATIONS",
    "DEFAULT_ORPHAN_GRACE",
    "DEFAULT_RECONCILE_INTERVAL",
    "DEFAULT_SWEEP_INTERVAL",
    "ORPHAN_GRACE_MAX",
    "ORPHAN_GRACE_MIN",
    "RECONCILE_INTERVAL_MAX",
    "RECONCILE_INTERVAL_MIN",
    "ROLES",
    "SWEEP_INTERVAL_MAX",
    "SWEEP_INTERVAL_MIN",
    "AccountConfig",
    "AccountId",
    "Config",
    "ConfigError",
    "CustomSetsConfig",
    "Duration",
    "Email",
    "IdentityCenterConfig",
    "PermissionSetName",
    "ReconcileConfig",
    "load_config",
    "parse_config",
]
