"""The lifecycle's services behind one name, as the listeners, scheduler, reconciler
and tests call them (``services.decide(...)``): each method hands over to the verb's
own module. Built whole by the composition root; nothing is set on it afterwards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from workflows.access_granter import AccessGranter
from workflows.catalog import Catalog, CatalogAccount
from workflows.config import Config
from workflows.domain import AccessRequest, Outgoing, Person
from workflows.errors import NotAuthorized, WorkflowError
from workflows.ports import Store
from workflows.reminders import ReminderStore
from workflows.rulebook import RuleBook, RuleLookups
from workflows.services.again import Again
from workflows.services.authority import Authority
from workflows.services.decide import Deciding
from workflows.services.end import Ending
from workflows.services.extend import Extending, ExtensionStore
from workflows.services.extend_decide import DecidingExtensions
from workflows.services.grant import Granting, pending_timeout_of
from workflows.services.hooks import Hooks
from workflows.services.jit_sets import JitSets
from workflows.services.leases import Leases
from workflows.services.live_sessions import LiftStore, LiveSessions
from workflows.services.offering import FormChoice, form_choice, offering
from workflows.services.principal import find_principal
from workflows.services.remind import Reminding
from workflows.services.submit import StandardPolicies, Submitting, no_standard_policies
from workflows.services.sweep import Sweeper
from workflows.services.warning import ExpiryWarnings
from workflows.validation import RequestForm


def _authority(
    config: Config,
    store: Store,
    aws: AccessGranter,
    rulebook: RuleBook | None,
    lookups: RuleLookups | None,
) -> Authority:
    """The checks every click goes through, with the access rules in force."""
    return Authority(
        config,
        store,
        rulebook or RuleBook(),
        lookups or RuleLookups(),
        principal_of=lambda person: find_principal(aws, config.identity, person).principal_id,
        escalated=(lambda rid: store.reminder_state(rid).escalated_at)
        if isinstance(store, ReminderStore)
        else None,
    )


class Services:
    """Submit, decide, grant, end and sweep over the ports ``store`` and ``aws``.

    ``hooks`` are what the services tell the bot (:class:`Hooks`), ``leases`` this
    replica's leases (a fresh holder name when not given); ``standard_policies`` gives
    the standard sets' policies on an account, for "a standard set covers this";
    ``parallel_revokes`` due sessions are ended at once by a sweep (Identity Center: 15
    outstanding operations); ``lifts`` keeps the pending lifts of ended sign-ins'
    deny statements when ``store`` does not (:mod:`workflows.services.live_sessions`);
    ``rulebook`` the access rules in force and ``rule_lookups`` how their groups are read
    (:mod:`workflows.rulebook`; none: every account's default rule).
    """

    def __init__(
        self,
        config: Config,
        catalog: Catalog,
        store: Store,
        aws: AccessGranter,
        *,
        hooks: Hooks | None = None,
        leases: Leases | None = None,
        standard_policies: StandardPolicies = no_standard_policies,
        parallel_revokes: int = 10,
        lifts: LiftStore | None = None,
        rulebook: RuleBook | None = None,
        rule_lookups: RuleLookups | None = None,
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.store = store
        self.aws = aws
        self.hooks = hooks or Hooks()
        self.leases = leases or Leases(store)
        self.authority = _authority(config, store, aws, rulebook, rule_lookups)
        sets = JitSets(store, aws, self.authority, config.custom_permission_sets.boundary)
        parts = (store, aws, self.authority, self.leases, sets, self.hooks)
        rules = (self.authority.rulebook, self.authority.lookups)
        self.submitting = Submitting(
            config, catalog, store, aws, self.hooks, standard_policies, *rules
        )
        self.granting = Granting(
            *parts,
            pending_timeout=pending_timeout_of(config),
            expiry_warning=config.expiry_warning,
        )
        # pending lifts: ``lifts``, else ``store`` when it keeps them (SqlStore does)
        if lifts is None and isinstance(store, LiftStore):
            lifts = store
        self.live = LiveSessions(config.revoke_live_sessions, store, lifts, aws, self.leases)
        self.ending = Ending(*parts, live=self.live)
        self.deciding = Deciding(
            config, store, self.authority, self.leases, self.granting, self.hooks
        )
        self.warnings = ExpiryWarnings(store, self.hooks, config.expiry_warning)
        self.again = Again(config, self.authority, self.form_choice)
        self.reminding = self._reminding(store)
        self.sweeper = Sweeper(
            store,
            grant=self.granting.grant,
            end_session=self.ending.end_session,
            time_out=self.ending.time_out,
            lift_due=self.live.lift_due,
            parallel_revokes=parallel_revokes,
            warn=self.warnings.warn_due,
            remind=self.reminding.remind_due if self.reminding else lambda now: None,
        )
        self._build_extending(store)
        self._name_verbs()

    def _reminding(self, store: Store) -> Reminding | None:
        """Reminders and escalation (:mod:`.remind`), over ``store`` when it keeps them
        (SqlStore does); None: a store without them, nobody is reminded."""
        if not isinstance(store, ReminderStore):
            return None
        plan = self.config.reminder_plan()
        return Reminding(store, self.authority, plan, self.hooks)  # type: ignore[arg-type]

    def _build_extending(self, store: Store) -> None:
        """Extending sessions (:mod:`.extend`), over ``store`` when it keeps extensions
        (SqlStore does; a fake store without them never reaches these verbs)."""
        kept = store if isinstance(store, ExtensionStore) else None
        self._extensions = kept
        self.extending = Extending(self.config, self.authority, kept or _NoExtensions(), self.hooks)
        self.deciding_extensions = DecidingExtensions(self.extending)
        self.extend_offer = self.extending.offer
        self.extend_policy = self.extending.policy_of
        self.extend = self.extending.ask
        self.decide_extension = self.deciding_extensions.decide

    def _name_verbs(self) -> None:
        """The verbs, as the callers name them."""
        self.grant = self.granting.grant
        self.end_session = self.ending.end_session
        self.time_out = self.ending.time_out
        self.principal_of = self.submitting.principal_of
        self.lookup = self.submitting.lookup
        self.submit_request = self._submit
        self.check_limits = self.submitting.check_limits
        self.check_form_rule = self.submitting.check_form_rule
        self.decide = self.deciding.decide
        self.revoke = self.ending.revoke
        self.release = self.ending.release
        self.cancel = self.ending.cancel
        self.visible = self.authority.visible
        self.decidable = self.authority.decidable
        self.revocable = self.authority.revocable
        self.request_again = self.again.refill
        self.assignment_guard: Callable[[str, str, str], AbstractContextManager[bool]] = (
            self.leases.assignment_guard
        )

    def _submit(self, requester: Person, form: RequestForm, now: datetime) -> AccessRequest:
        """:meth:`Submitting.submit_request`, then, when the request's access rule
        approves it automatically, :meth:`Deciding.approve_by_rule` (it is granted
        before this returns)."""
        request = self.submitting.submit_request(requester, form, now)
        if request.rule_name is not None:
            applied = self.authority.rule_of(request)
            if applied.auto_approve and applied.name == request.rule_name:
                return self.deciding.approve_by_rule(request, applied.label, now)
        return request

    def offering(self, slack_id: str) -> Callable[[CatalogAccount], CatalogAccount | None]:
        """What the request form may offer ``slack_id`` under the access rules
        (:func:`workflows.services.offering.offering`)."""
        a = self.authority
        if not a.rulebook.rules:  # no bindings read on the picker's path without rules
            return lambda account: account
        return offering(a.rulebook, a.lookups, a.rules(), slack_id)

    def form_choice(
        self, slack_id: str, account_id: str | None, permission_set: str | None, custom: bool
    ) -> FormChoice:
        """What the request form shows ``slack_id`` for this choice, without AWS
        (:func:`workflows.services.offering.form_choice`)."""
        offer = self.offering(slack_id)
        return form_choice(
            self.catalog,
            self.config.durations,
            self.authority.rulebook,
            offer,
            account_id,
            permission_set,
            custom,
        )

    def nudge(self, request_id: int, actor: Person, now: datetime) -> int:
        """:meth:`Reminding.nudge` (the requester's Nudge button); how many were nudged."""
        if self.reminding is None:
            raise NotAuthorized("Nudging isn't available here.")
        return self.reminding.nudge(request_id, actor, now)

    def sweep(self, now: datetime, *, wait: bool = True) -> None:
        """:meth:`Sweeper.sweep`, then the extensions due are timed out
        (:meth:`DecidingExtensions.time_out_due`)."""
        self.sweeper.sweep(now, wait=wait)
        if self._extensions is not None:
            self.deciding_extensions.time_out_due(now)

    def close(self) -> None:
        """Finish the sessions being ended (a clean stop), then stop the sweep's pool."""
        self.sweeper.close()

    def tell(self, request_id: int | None, items: Sequence[Outgoing], now: datetime) -> None:
        """Queue Slack notices that go with no state change (alerts, say) and have them
        delivered (see :mod:`workflows.outbox`)."""
        self.store.enqueue(request_id, items, now)
        self.hooks.kick()

    # Views of the hooks and leases every part shares. Setting one changes it for every
    # part: tests hold the outbox back, play a second replica or let a lease run out.

    @property
    def kick(self) -> Callable[[], None]:
        """Have the outbox deliver what is queued now (:attr:`Hooks.kick`)."""
        return self.hooks.kick

    @kick.setter
    def kick(self, kick: Callable[[], None]) -> None:
        self.hooks.kick = kick

    @property
    def holder(self) -> str:
        """This replica's name in leases (:attr:`Leases.holder`)."""
        return self.leases.holder

    @holder.setter
    def holder(self, holder: str) -> None:
        self.leases.holder = holder

    @property
    def lease_clock(self) -> Callable[[], datetime]:
        """The real UTC clock leases are measured by (:attr:`Leases.clock`)."""
        return self.leases.clock

    @lease_clock.setter
    def lease_clock(self, clock: Callable[[], datetime]) -> None:
        self.leases.clock = clock


class _NoExtensions:
    """A store that keeps no extensions: each verb says so."""

    def __getattr__(self, name: str) -> object:
        raise WorkflowError("Extending sessions needs a store that keeps extensions.")
