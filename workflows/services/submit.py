"""Submit: validate a new request, store it through the lifecycle table and DM its
threads."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows import lifecycle
from workflows.access_granter import AccessGranter
from workflows.access_rules import AppliedRule
from workflows.assignments import AwsError
from workflows.catalog import Catalog, CatalogAccount
from workflows.config import Config
from workflows.custom_sets import CustomSpec, StandardSetPolicies, approver_warnings
from workflows.custom_sets.boundary import boundary_record
from workflows.domain import (
    AccessRequest,
    CustomPermissionSet,
    MessageRole,
    NewRequest,
    Notice,
    NoticeKind,
    Outgoing,
    Person,
)
from workflows.errors import InvalidRequest, NoApprover, NoIdentityCenterUser, WorkflowError
from workflows.people import Roster
from workflows.policy import ApproverRouting, Rules, route_approvers
from workflows.ports import Store
from workflows.rulebook import (
    RuleBook,
    RuleLookups,
    approver_ids,
    may_request,
    request_problems,
)
from workflows.services.channel import channel_choice, channel_threads
from workflows.services.hooks import Hooks
from workflows.services.principal import Found, find_principal, no_user_text
from workflows.states import Event
from workflows.validation import FIELD_ACCOUNT, RequestForm, ValidForm, validate_form

log = logging.getLogger("jitbot.workflows")

#: The standard sets' policies on an account, for "a standard set covers this".
StandardPolicies = Callable[[CatalogAccount], Mapping[str, StandardSetPolicies]]


def no_standard_policies(account: CatalogAccount) -> Mapping[str, StandardSetPolicies]:
    return {}


def threads_of(routing: ApproverRouting) -> list[Outgoing]:
    """A new request's threads: the requester's root, then one DM per approver (whoever
    can't be reached in Slack is found out at delivery; see :mod:`workflows.outbox`),
    and a word in each thread when it fell back to the admins."""
    slack_ids = routing.slack_ids
    return [
        Outgoing.thread(),
        *(
            Outgoing.approval(slack_id, MessageRole.APPROVER, last=i == len(slack_ids) - 1)
            for i, slack_id in enumerate(slack_ids)
        ),
        *([Outgoing.announce(Notice(NoticeKind.SENT_TO_ADMINS))] if routing.fell_back else []),
    ]


@dataclass(frozen=True)
class Submitting:
    """Stores new requests in ``store`` for people ``aws`` knows."""

    config: Config
    catalog: Catalog
    store: Store
    aws: AccessGranter
    hooks: Hooks
    standard_policies: StandardPolicies = no_standard_policies
    rulebook: RuleBook = field(default_factory=RuleBook)
    lookups: RuleLookups = field(default_factory=RuleLookups)

    def principal_of(self, person: Person) -> str | None:
        """The Identity Center user id of ``person`` (:func:`find_principal`: overrides,
        the Slack email, its mapped domains), or None when there is none.

        Raises:
            AwsError: Identity Center did not answer.
        """
        return self.lookup(person).principal_id

    def lookup(self, person: Person) -> Found:
        """:func:`find_principal` for ``person``: the user id and what was tried.

        Raises:
            AwsError: Identity Center did not answer.
        """
        return find_principal(self.aws, self.config.identity, person)

    def check_limits(self, slack_user_id: str, now: datetime) -> None:
        """Refuse a new request beyond the config's ``limits``: more than
        ``pending_per_requester`` waiting for a decision, or more than
        ``requests_per_minute`` submitted in the 60 seconds before ``now`` (UTC).

        Raises:
            InvalidRequest: on the account field, with the numbers.
        """
        limits = self.config.limits
        waiting, recent = self.store.requester_load(slack_user_id, now - timedelta(minutes=1))
        if waiting >= limits.pending_per_requester:
            raise InvalidRequest(
                {
                    FIELD_ACCOUNT: f"You have {waiting} requests waiting for approval (at most "
                    f"{limits.pending_per_requester}). Cancel one in App Home, or wait for a "
                    "decision."
                }
            )
        if recent >= limits.requests_per_minute:
            raise InvalidRequest(
                {
                    FIELD_ACCOUNT: f"You sent {recent} requests in the last minute (at most "
                    f"{limits.requests_per_minute}). Try again in a minute."
                }
            )

    def check_form_rule(self, form: RequestForm, valid: ValidForm) -> None:
        """The access rule's checks a form gets inline before the ack, where they need
        no AWS call: the duration and the ticket (:func:`request_problems`).
        :meth:`submit_request` checks everything again.

        Raises:
            InvalidRequest: by modal field.
        """
        set_name = None if valid.custom else valid.permission_set_name
        applied = self.rulebook.for_request_now(valid.account.id, set_name)
        problems = request_problems(applied, valid.duration, form.ticket) if applied else {}
        if problems:
            raise InvalidRequest(problems)

    def submit_request(self, requester: Person, form: RequestForm, now: datetime) -> AccessRequest:
        """Validate and store a new request (Pending, or Pending Owner for a custom set),
        then DM its threads.

        Raises:
            InvalidRequest: a form field breaks a rule, or the requester is over a limit
                (:meth:`check_limits`; nothing stored).
            NoIdentityCenterUser: the requester's email matches no Identity Center user.
            WorkflowError: Identity Center did not answer.
            NoApprover: nobody could approve it.
        """
        valid = validate_form(self.config, self.catalog, form)
        self.check_limits(requester.slack_id, now)
        principal_id = self._principal_id(requester)
        rules = Rules(self.config, Roster.of(self.store.bindings()))
        applied = self._rule(valid.account.id, None if valid.custom else valid.permission_set_name)
        self._check_rule(applied, rules, requester, principal_id, valid.account.id, form, valid)
        routing = self._routing(applied, rules, valid.account.id, requester)
        custom = None if valid.custom is None else self._custom(valid.custom, valid.account)
        new = NewRequest(
            requester=requester,
            principal_id=principal_id,
            account_id=valid.account.id,
            account_name=valid.account.name,
            permission_set_name=valid.permission_set_name,
            permission_set_arn=valid.permission_set_arn,
            duration=valid.duration,
            justification=valid.justification,
            requested_at=now,
            approval_deadline=now + self.config.approval_timeout,
            approvers=routing.slack_ids,
            custom=custom,
            session_limit=self.catalog.session_limits.get(valid.permission_set_name),
            rule_name=applied.name,
            approvals_needed=applied.approvals if custom is None else 1,
            ticket=(form.ticket or "").strip() or None if applied.ticket else None,
        )
        event = Event.SUBMIT if custom is None else Event.SUBMIT_CUSTOM
        choice = channel_choice(self.config, applied, valid.account.id, routing)
        outbox = threads_of(routing) if choice.channel is None else channel_threads(routing, choice)
        request = lifecycle.submit(self.store, new, event, outbox=outbox)
        self.hooks.kick()
        if routing.fell_back:
            self.store.audit(request.id, "jitbot", "routed_to_admins", now)
        self.hooks.wake_at(request.approval_deadline)
        return request

    def _rule(self, account_id: str, permission_set: str | None) -> AppliedRule:
        try:
            return self.rulebook.for_request(account_id, permission_set)
        except AwsError as exc:
            log.warning("OUs of account %s unreadable: %s", account_id, exc)
            raise WorkflowError(
                "AWS Organizations isn't answering right now, so no request was made. "
                "Try again in a minute."
            ) from exc

    def _check_rule(
        self,
        applied: AppliedRule,
        rules: Rules,
        requester: Person,
        principal_id: str,
        account_id: str,
        form: RequestForm,
        valid: ValidForm,
    ) -> None:
        """Refuse a submission its access rule does not allow, whatever the modal
        offered: a requester the rule does not name, a duration over its maximum, a
        missing or malformed ticket (:func:`~workflows.rulebook.request_problems`).

        Raises:
            InvalidRequest: by modal field, nothing stored.
            WorkflowError: a group lookup failed (nothing stored).
        """
        try:
            refusal = may_request(
                applied,
                self.lookups.members(rules),
                slack_id=requester.slack_id,
                principal_id=principal_id,
                account_id=account_id,
            )
        except AwsError as exc:
            raise WorkflowError(
                "AWS IAM Identity Center isn't answering right now, so no request was made. "
                "Try again in a minute."
            ) from exc
        if refusal is not None:
            raise InvalidRequest({FIELD_ACCOUNT: f"You can't request this: {refusal}."})
        problems = request_problems(applied, valid.duration, form.ticket)
        if problems:
            raise InvalidRequest(problems)

    def _routing(
        self, applied: AppliedRule, rules: Rules, account_id: str, requester: Person
    ) -> ApproverRouting:
        """Who the request goes to: the account's owners (:func:`route_approvers`), or
        the approvers its access rule names, minus the requester.

        Raises:
            NoApprover: nobody could approve it.
            WorkflowError: a group's members could not be listed.
        """
        if applied.name is None or applied.auto_approve:  # an automatic one: owners FYI
            return route_approvers(rules, account_id, requester)
        try:
            ids = approver_ids(applied, rules, self.lookups, account_id)
        except AwsError as exc:
            raise WorkflowError(
                "AWS IAM Identity Center isn't answering right now, so no request was made. "
                "Try again in a minute."
            ) from exc
        eligible = tuple(i for i in ids if rules.allow_self_approval or i != requester.slack_id)
        needed = applied.approvals
        if len(eligible) < needed:
            raise NoApprover(
                f"Nobody can approve this request: {applied.label} needs {needed} "
                f"approver{'s' if needed > 1 else ''} and names {len(eligible)} other than "
                "you who can be reached in Slack. Ask your jitbot administrator."
            )
        return ApproverRouting(eligible, fell_back=False)

    def _principal_id(self, requester: Person) -> str:
        try:
            found = self.lookup(requester)
        except AwsError as exc:
            log.warning("identity lookup for %s failed: %s", requester.email, exc)
            raise WorkflowError(
                "AWS IAM Identity Center isn't answering right now, so no request was made. "
                "Try again in a minute."
            ) from exc
        if found.principal_id is None:
            raise NoIdentityCenterUser(no_user_text(found, "so no request was made"))
        return found.principal_id

    def _custom(self, spec: CustomSpec, account: CatalogAccount) -> CustomPermissionSet:
        boundary = self.config.custom_permission_sets.boundary
        warnings = approver_warnings(
            spec, standard_sets=self.standard_policies(account), boundary=boundary
        )
        return CustomPermissionSet(
            spec.name,
            spec.session_duration,
            spec.managed_policies,
            spec.inline_policy,
            tuple((w.severity, w.text) for w in warnings),
            # the boundary granted is the one the approvers are shown now
            boundary=boundary_record(boundary),
        )
