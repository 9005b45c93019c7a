"""Creating a ``JIT-`` custom permission set for one request: a free name, the set
with jitbot's tags, its policies, and the roll back of a half-made set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workflows.arns import partition_of
from workflows.assignments import (
    AwsError,
)
from workflows.aws.base import Plumbing
from workflows.aws.errors import (
    _already_exists,
    _describe,
    _error_message,
    _gone,
    _wrap,
)
from workflows.aws.values import (
    _DURATION_RE,
    _NAME_RE,
    MANAGED_TAG,
    MAX_NAME_SUFFIX,
    MAX_PERMISSION_SET_NAME,
    REQUEST_TAG,
    _candidate_names,
    _clean_description,
)
from workflows.custom_sets.boundary import PermissionsBoundary
from workflows.custom_sets.managed import managed_policy_arn, managed_policy_name

log = logging.getLogger("jitbot.aws")


class CustomSetCreation(Plumbing):
    """Creates a request's ``JIT-`` permission set (:meth:`create_custom_permission_set`)."""

    @property
    def partition(self) -> str:
        """The AWS partition of the Identity Center instance's ARN (``aws``,
        ``aws-us-gov``, ``aws-cn``): every ARN jitbot builds is in it.

        :raises AwsError: the instance could not be found (``ListInstances``) or its ARN
            has no known partition.
        """
        try:
            return partition_of(self.instance_arn)
        except ValueError as exc:
            raise AwsError(f"Identity Center instance: {exc}") from exc

    def create_custom_permission_set(
        self,
        *,
        name: str,
        session_duration: str,
        description: str,
        request_id: int,
        managed_policies: Sequence[str],
        inline_policy: str | None,
        permissions_boundary: PermissionsBoundary | None = None,
    ) -> str:
        """Create a permission set for one request, fill it, and return its ARN: a free
        name and ``CreatePermissionSet`` with jitbot's tags (:meth:`_create_named`),
        then its policies and permissions boundary (:meth:`_fill`). Throttling and in-progress conflicts are
        retried with backoff (``write_attempts``; Identity Center allows one operation
        on a permission set at a time). When a step after the creation fails, the set
        is deleted again (best effort, logged) before the error is raised. The set is
        not provisioned to any account here: assigning it (:meth:`assign`) does that.

        :param name: 1 to 32 characters of ``[A-Za-z0-9_+=,.@-]``.
        :param session_duration: ISO 8601, ``"PT1H"``; AWS accepts 1 to 12 hours.
        :param description: free text shown in the IAM Identity Center console;
            characters AWS does not accept become ``?``, and it is cut to 700
            characters. Left out when empty.
        :param request_id: the request the set is for (tag ``jitbot:request-id``).
        :param managed_policies: AWS managed policy names (``ReadOnlyAccess``; an ARN
            counts as its name), attached each once by ARN in :attr:`partition`; IAM
            allows 10 per role by default (up to 20); more fail the attach step.
        :param inline_policy: IAM policy document (JSON text) or None. One inline
            policy per permission set, at most 10,240 bytes (IAM Identity Center quotas).
        :param permissions_boundary: attached with
            ``PutPermissionsBoundaryToPermissionSet`` before the set is ever assigned;
            None: no boundary.
        :returns: the new permission set's ARN.
        :raises ValueError: ``name``, ``session_duration`` or a policy name is malformed.
        :raises AwsError: a step failed; the message names it, e.g.
            ``"sso-admin AttachManagedPolicyToPermissionSet (arn:aws:iam::aws:policy/Foo):
            ValidationException: …"``, and ``code`` is AWS's error code. If the rollback
            failed too the message says so and which set is left over (it carries the
            jitbot tags, so :meth:`custom_permission_sets` finds it). Quotas:
            https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html
        """
        policies, inline = _checked(name, session_duration, managed_policies, inline_policy)
        policies = [managed_policy_arn(p, self.partition) for p in policies]
        what = f"custom permission set {name!r} for request {request_id}"
        arn, chosen = self._create_named(name, session_duration, description, request_id, what)
        self._fill(arn, chosen, policies, inline, what, permissions_boundary)
        with self._lock:
            if self._permission_sets is not None and self._session_durations is not None:
                self._permission_sets[chosen] = arn
                self._session_durations[chosen] = session_duration
        inline_text = "an" if inline is not None else "no"
        log.info(
            "%s: %s ready (%d managed policies, %s inline policy)",
            what,
            chosen,
            len(policies),
            inline_text,
        )
        return arn

    def _create_named(
        self, name: str, session_duration: str, description: str, request_id: int, what: str
    ) -> tuple[str, str]:
        """``(ARN, name)`` of a new set: ``CreatePermissionSet`` with ``Name``,
        ``SessionDuration``, ``Description`` and the tags ``jitbot:managed=true``,
        ``jitbot:request-id=<request_id>``. Names are unique in an instance, compared
        case-insensitively (AWS answers ``ConflictException`` "PermissionSet with name …
        already exists."): a name refused so is retried as ``name-2`` … ``name-100``,
        trimmed to 32 characters. An existing set is never reused, not even one of the
        same request.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreatePermissionSet.html
        """
        instance_arn = self.instance_arn
        params: dict[str, Any] = {
            "InstanceArn": instance_arn,
            "SessionDuration": session_duration,
            "Tags": [
                {"Key": MANAGED_TAG, "Value": "true"},
                {"Key": REQUEST_TAG, "Value": str(request_id)},
            ],
        }
        cleaned = _clean_description(description)
        if cleaned is not None:
            params["Description"] = cleaned
        for candidate in _candidate_names(name):
            arn = self._create_as(candidate, params, what)
            if arn is None:
                continue
            with self._lock:
                self._names_by_arn[arn] = candidate
            log.info("%s: created %s as %r", what, arn, candidate)
            return arn, candidate
        raise AwsError(
            f"sso-admin CreatePermissionSet: no free name for {name!r} "
            f"(tried up to suffix -{MAX_NAME_SUFFIX})"
        )

    def _create_as(self, candidate: str, params: dict[str, Any], what: str) -> str | None:
        """``CreatePermissionSet`` named ``candidate``: the new ARN, or None when AWS
        says the name is taken. Raises :class:`AwsError` for any other failure."""
        client = self._client("sso-admin")
        try:
            response = self._write(
                "CreatePermissionSet",
                lambda: client.create_permission_set(Name=candidate, **params),
                what=what,
                retry_conflict=lambda exc: not _already_exists(exc),
            )
        except ClientError as exc:
            if _already_exists(exc):
                log.info("%s: name %r taken (%s)", what, candidate, _error_message(exc))
                return None
            log.warning("%s: CreatePermissionSet failed: %s", what, _describe(exc))
            raise _wrap(f"sso-admin CreatePermissionSet ({candidate})", exc) from exc
        except BotoCoreError as exc:
            log.warning("%s: CreatePermissionSet failed: %s", what, exc)
            raise _wrap(f"sso-admin CreatePermissionSet ({candidate})", exc) from exc
        return str(response["PermissionSet"]["PermissionSetArn"])

    def _fill(
        self,
        arn: str,
        chosen: str,
        policies: list[str],
        inline: str | None,
        what: str,
        boundary: PermissionsBoundary | None = None,
    ) -> None:
        """The writes of :meth:`_fill_steps`, in order; on a failure the set is rolled
        back (:meth:`_roll_back`) and :class:`AwsError` raised naming the step."""
        instance_arn = self.instance_arn
        step = "sso-admin CreatePermissionSet"
        try:
            for named, operation, call in self._fill_steps(arn, policies, inline, boundary):
                step = named  # what a failure names
                self._write(operation, call, what=what)
        except (ClientError, BotoCoreError) as exc:
            error = _wrap(step, exc)
            log.warning("%s: %s", what, error)
            problem = self._roll_back(instance_arn, arn, what)
            if problem:
                error = AwsError(
                    f"{error}; rolling back failed too, delete permission set {arn} "
                    f"({chosen}) by hand: {problem}",
                    code=error.code,
                )
            raise error from exc
        except BaseException:
            self._roll_back(instance_arn, arn, what)
            raise

    def _fill_steps(
        self,
        arn: str,
        policies: list[str],
        inline: str | None,
        boundary: PermissionsBoundary | None,
    ) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        """``(step named in errors, operation, call)``: ``AttachManagedPolicyToPermissionSet``
        for each policy ARN (in order), ``PutInlinePolicyToPermissionSet`` when ``inline``
        is given, then ``PutPermissionsBoundaryToPermissionSet`` when ``boundary`` is.
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_AttachManagedPolicyToPermissionSet.html,
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutInlinePolicyToPermissionSet.html,
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutPermissionsBoundaryToPermissionSet.html
        """
        client = self._client("sso-admin")
        target = {"InstanceArn": self.instance_arn, "PermissionSetArn": arn}
        for policy in policies:
            yield (
                f"sso-admin AttachManagedPolicyToPermissionSet ({policy})",
                "AttachManagedPolicyToPermissionSet",
                lambda p=policy: client.attach_managed_policy_to_permission_set(
                    **target, ManagedPolicyArn=p
                ),
            )
        if inline is not None:
            yield (
                "sso-admin PutInlinePolicyToPermissionSet",
                "PutInlinePolicyToPermissionSet",
                lambda: client.put_inline_policy_to_permission_set(**target, InlinePolicy=inline),
            )
        if boundary is not None:
            yield (
                f"sso-admin PutPermissionsBoundaryToPermissionSet ({boundary.label})",
                "PutPermissionsBoundaryToPermissionSet",
                lambda: client.put_permissions_boundary_to_permission_set(
                    **target, PermissionsBoundary=_boundary_param(boundary, self.partition)
                ),
            )

    def _roll_back(self, instance_arn: str, arn: str, what: str) -> str | None:
        """Delete a half-made custom permission set; None when done, else the problem
        (logged)."""
        try:
            self._delete_permission_set(instance_arn, arn, what)
        except (ClientError, BotoCoreError) as exc:
            if not _gone(exc):
                log.error(
                    "%s: rolling back, DeletePermissionSet %s failed: %s", what, arn, _describe(exc)
                )
                return f"sso-admin DeletePermissionSet: {_describe(exc)}"
        self._forget(arn)
        log.info("%s: rolled back, deleted %s", what, arn)
        return None


def _checked(
    name: str,
    session_duration: str,
    managed_policies: Sequence[str],
    inline_policy: str | None,
) -> tuple[list[str], str | None]:
    """The policy names (each once, in order) and the inline policy (None when blank) of a creation; raises ValueError / TypeError for a malformed argument."""
    if len(name) > MAX_PERMISSION_SET_NAME or not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"permission set name {name!r} must be 1 to {MAX_PERMISSION_SET_NAME} "
            "characters of letters, digits and _+=,.@-"
        )
    if not _DURATION_RE.fullmatch(session_duration) or session_duration.startswith("-"):
        raise ValueError(f"session duration {session_duration!r} is not ISO 8601 (PT1H)")
    if isinstance(managed_policies, str):
        raise TypeError("managed_policies must be a sequence of names, not one string")
    inline = inline_policy if inline_policy and inline_policy.strip() else None
    names = dict.fromkeys(managed_policy_name(p) for p in managed_policies)
    return list(names), inline


def _boundary_param(boundary: PermissionsBoundary, partition: str) -> dict[str, Any]:
    """``PermissionsBoundary`` of PutPermissionsBoundaryToPermissionSet:
    ``{"ManagedPolicyArn": …}`` (in ``partition``) or
    ``{"CustomerManagedPolicyReference": {"Name", "Path"}}``."""
    arn = boundary.managed_policy_arn(partition)
    if arn is not None:
        return {"ManagedPolicyArn": arn}
    return {
        "CustomerManagedPolicyReference": {
            "Name": boundary.customer_managed,
            "Path": boundary.path,
        }
    }
