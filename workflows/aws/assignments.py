"""Account assignments: give and take away a permission set in an account (a write,
retried, then its status waited for), and whether one is in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import (
    Assignment,
    AssignmentFailed,
    AssignmentTimeout,
    AwsError,
)
from workflows.aws.base import Plumbing
from workflows.aws.errors import (
    _already_exists,
    _describe,
    _error_code,
    _error_message,
    _wrap,
)
from workflows.aws.turns import OutstandingHold

log = logging.getLogger("jitbot.aws")


class Assignments(Plumbing):
    """Account assignments: :meth:`assign`, :meth:`unassign`, :meth:`has_assignment`,
    each change holding an outstanding slot until its status is final."""

    def has_assignment(self, assignment: Assignment) -> bool:
        """Whether the user currently has this permission set in this account.

        ``ListAccountAssignments(InstanceArn, AccountId, PermissionSetArn)``, paginated,
        looking for the assignment's ``PrincipalType`` (``USER`` unless it says
        otherwise) and ``PrincipalId``.

        :raises AwsError: the call failed.
        """
        try:
            for item in self._paginate(
                "sso-admin",
                "list_account_assignments",
                "AccountAssignments",
                InstanceArn=self.instance_arn,
                AccountId=assignment.account_id,
                PermissionSetArn=assignment.permission_set_arn,
            ):
                if (
                    item.get("PrincipalType") == assignment.principal_type
                    and item.get("PrincipalId") == assignment.principal_id
                ):
                    return True
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("sso-admin ListAccountAssignments", exc) from exc
        return False

    def assign(self, assignment: Assignment) -> None:
        """Give the user the permission set in the account, and wait until it is live.

        ``CreateAccountAssignment`` (``TargetType=AWS_ACCOUNT``, ``PrincipalType=USER``),
        then ``DescribeAccountAssignmentCreationStatus``, polled as :meth:`_wait` says.
        Changes of this adapter to one account wait for each other
        (:mod:`workflows.aws.turns`). ``ThrottlingException`` is retried with backoff
        ``write_attempts`` times; ``ConflictException`` (someone else's change to this
        account in progress) and ``ServiceQuotaExceededException`` (the instance's
        outstanding asynchronous calls all taken) for ``conflict_retry_seconds``.
        Idempotent: a conflict saying the assignment already exists counts as success
        once :meth:`has_assignment` confirms it.

        :raises AssignmentFailed: the status ended ``FAILED`` (``.reason``).
        :raises AssignmentTimeout: still ``IN_PROGRESS`` after ``poll_timeout`` seconds;
            ``.request_id`` is the creation's request id, which AWS may still finish
            (follow it with :meth:`assignment_creation_status`).
        :raises AwsError: any other failure (AWS still busy after the retries: the
            message says so).
        """
        self._change(assignment, create=True)

    def unassign(self, assignment: Assignment) -> None:
        """Take the permission set away from the user in the account, and wait.

        ``DeleteAccountAssignment`` then ``DescribeAccountAssignmentDeletionStatus``,
        polled like :meth:`assign`, with the same retries. An assignment that is already
        gone (``ResourceNotFoundException``, or a ``FAILED`` deletion while
        :meth:`has_assignment` is False) counts as done. A ``GROUP`` assignment (found
        by :meth:`account_assignments`) is removed the same way.

        :raises AssignmentFailed: the deletion ended ``FAILED`` and the assignment is
            still there.
        :raises AssignmentTimeout: still ``IN_PROGRESS`` after ``poll_timeout`` seconds.
        :raises AwsError: any other failure.
        """
        self._change(assignment, create=False)

    def _change(self, assignment: Assignment, *, create: bool) -> None:
        """:meth:`_change_now` in the account's turn (:mod:`workflows.aws.turns`: this
        adapter's changes to one account wait for each other, from the write until
        the final status), each write attempt holding one of the ``max_outstanding``
        slots until its status is final (or polling gave up), so this adapter never
        has more asynchronous operations outstanding than Identity Center allows."""

        def counts(delta: int) -> None:
            with self._in_flight_lock:
                self._in_flight += delta
                self._kind_in_flight[create] += delta

        with self._turns.turn(assignment.account_id):
            hold = OutstandingHold(self._outstanding, counts)
            try:
                self._change_now(assignment, create=create, hold=hold)
            finally:
                hold.release()

    def _change_now(self, assignment: Assignment, *, create: bool, hold: OutstandingHold) -> None:
        """The write of an assignment change (:meth:`_start_change`, each attempt in
        ``hold``), then its status polled (:meth:`_wait`) and judged (:meth:`_judge`)."""
        verb = "assign" if create else "unassign"
        client = self._client("sso-admin")
        call = client.create_account_assignment if create else client.delete_account_assignment
        status_key = (
            "AccountAssignmentCreationStatus" if create else "AccountAssignmentDeletionStatus"
        )
        params = {
            "InstanceArn": self.instance_arn,
            "TargetId": assignment.account_id,
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": assignment.permission_set_arn,
            "PrincipalType": assignment.principal_type,
            "PrincipalId": assignment.principal_id,
        }
        response = self._start_change(
            assignment, lambda: hold.attempt(lambda: call(**params)), create=create
        )
        if response is None:
            return
        status = response[status_key]
        request_id = status.get("RequestId")
        log.info(
            "%s %s: request %s started (%s)", verb, assignment, request_id, status.get("Status")
        )
        status = self._wait(status, create=create, release=hold.release)
        self._judge(assignment, status, create=create, request_id=request_id)

    def _start_change(
        self, assignment: Assignment, call: Callable[[], Any], *, create: bool
    ) -> Any:
        """``Create``/``DeleteAccountAssignment`` through :meth:`_write` (retried,
        conflicts and ``ServiceQuotaExceededException`` for ``conflict_retry_seconds``):
        its answer, or None when there is nothing to do (the assignment is already in
        place, or already gone). Raises :class:`AwsError` otherwise."""
        verb = "assign" if create else "unassign"
        operation = "CreateAccountAssignment" if create else "DeleteAccountAssignment"
        in_place: list[bool] = []

        def retry_conflict(exc: ClientError) -> bool:
            if create and _already_exists(exc) and self.has_assignment(assignment):
                in_place.append(True)
                return False
            return True

        started = self._clock()
        try:
            return self._write(
                operation,
                call,
                what=f"{verb} {assignment}",
                retry_conflict=retry_conflict,
                retry_quota=True,
            )
        except ClientError as exc:
            if in_place:
                log.info("%s %s: already in place (%s)", verb, assignment, _error_message(exc))
                return None
            if not create and _error_code(exc) == "ResourceNotFoundException":
                log.info("%s %s: already gone (%s)", verb, assignment, _describe(exc))
                return None
            log.warning("%s %s: %s failed: %s", verb, assignment, operation, _describe(exc))
            raise _gave_up(operation, exc, assignment, self._clock() - started) from exc
        except BotoCoreError as exc:
            log.warning("%s %s: %s failed: %s", verb, assignment, operation, exc)
            raise _wrap(f"sso-admin {operation}", exc) from exc

    def _judge(
        self,
        assignment: Assignment,
        status: dict[str, Any],
        *,
        create: bool,
        request_id: str | None,
    ) -> None:
        """Return when the final ``status`` means done, else raise
        :class:`AssignmentFailed` / :class:`AssignmentTimeout`."""
        verb = "assign" if create else "unassign"
        state = status.get("Status")
        if state == "SUCCEEDED":
            log.info("%s %s: request %s SUCCEEDED", verb, assignment, request_id)
            return
        if state == "FAILED":
            reason = status.get("FailureReason") or "no reason given"
            if not create and not self.has_assignment(assignment):
                log.info(
                    "%s %s: request %s FAILED (%s) but the assignment is gone",
                    verb,
                    assignment,
                    request_id,
                    reason,
                )
                return
            log.warning("%s %s: request %s FAILED: %s", verb, assignment, request_id, reason)
            raise AssignmentFailed(
                f"IAM Identity Center could not {verb} {assignment}: {reason}",
                reason=reason,
                request_id=request_id,
            )
        log.warning(
            "%s %s: request %s still %s after %.0f s",
            verb,
            assignment,
            request_id,
            state,
            self.poll_timeout,
        )
        raise AssignmentTimeout(
            f"IAM Identity Center did not finish the {verb} of {assignment} within "
            f"{self.poll_timeout:g} s (request {request_id} is {state})",
            request_id=request_id,
        )


#: Error codes that mean AWS was busy, not that the write is wrong.
_BUSY = {
    "ConflictException": "another change to a permission set in account {account} was "
    "still in progress",
    "ServiceQuotaExceededException": "Identity Center's outstanding assignment operations "
    "were all taken",
}


def _gave_up(operation: str, exc: ClientError, assignment: Assignment, waited: float) -> AwsError:
    """:func:`_wrap` of the last answer, saying how long AWS was busy when it was."""
    error = _wrap(f"sso-admin {operation}", exc)
    why = _BUSY.get(_error_code(exc))
    if why is None:
        return error
    return AwsError(
        f"{error} ({why.format(account=assignment.account_id)} after {waited:.0f} s of "
        "retries; try again in a few minutes)",
        code=error.code,
    )
