"""Waiting for an assignment change to finish: the poll schedule, early polls made
only from spare quota, and batched status lists (:mod:`workflows.aws.operations`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import (
    AwsError,
    OperationStatus,
)
from workflows.aws.base import Plumbing
from workflows.aws.errors import (
    _LIST_UNAVAILABLE,
    _describe,
    _error_code,
    _not_implemented,
    _wrap,
)
from workflows.aws.operations import ListUnavailable, OperationBoard

log = logging.getLogger("jitbot.aws")


#: How an assignment change is polled (see :meth:`IdentityCenter._wait`): seconds to
#: wait before each of the first polls, and whether it is an early one (made only from
#: spare quota); after them, a poll every :data:`POLL_INTERVAL_MAX` seconds.
POLL_SCHEDULE: tuple[tuple[float, bool], ...] = (
    (0.0, True),
    (0.25, True),
    (0.25, True),
    (0.5, False),
)
POLL_INTERVAL_MAX = 1.0


class Polling(Plumbing):
    """Waits for an assignment change's final status (:meth:`_wait`), alone or batched."""

    def _board(self, create: bool) -> OperationBoard:
        """The :class:`~workflows.aws.operations.OperationBoard` for creations or
        deletions, calling ``ListAccountAssignment{Creation,Deletion}Status`` (running
        operations) and ``Describe...Status`` (each final status) on this adapter."""
        kind = "Creation" if create else "Deletion"
        method = f"list_account_assignment_{kind.lower()}_status"
        key = f"AccountAssignments{kind}Status"
        operation = f"sso-admin ListAccountAssignment{kind}Status"

        def running() -> set[str]:
            params = {"InstanceArn": self.instance_arn, "Filter": {"Status": "IN_PROGRESS"}}
            try:
                return {s["RequestId"] for s in self._paginate("sso-admin", method, key, **params)}
            except (ClientError, BotoCoreError, NotImplementedError) as exc:
                if _not_implemented(exc) or _error_code(exc) in _LIST_UNAVAILABLE:
                    raise ListUnavailable(f"{operation}: {_describe(exc)}") from exc
                raise _wrap(operation, exc) from exc

        return OperationBoard(
            kind=kind.lower(),
            list_running=running,
            describe=lambda request_id: self._describe_status(request_id, create=create),
            spare=self._spare_for_lists,
        )

    def _describe_status(self, request_id: str, *, create: bool) -> dict[str, Any]:
        """``DescribeAccountAssignment{Creation,Deletion}Status`` of one request: its
        status dict (``RequestId``, ``Status``, ``FailureReason``...).

        :raises AwsError: the call failed.
        """
        kind = "Creation" if create else "Deletion"
        client = self._client("sso-admin")
        call = getattr(client, f"describe_account_assignment_{kind.lower()}_status")
        try:
            answer = call(
                InstanceArn=self.instance_arn, **{f"AccountAssignment{kind}RequestId": request_id}
            )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(
                f"sso-admin DescribeAccountAssignment{kind}Status ({request_id})", exc
            ) from exc
        return dict(answer[f"AccountAssignment{kind}Status"])

    def assignment_creation_status(self, request_id: str) -> OperationStatus:
        """Where an earlier ``CreateAccountAssignment`` is now: one
        ``DescribeAccountAssignmentCreationStatus`` call (API reference:
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribeAccountAssignmentCreationStatus.html).
        For a grant whose :meth:`assign` raised :class:`AssignmentTimeout`
        (``.request_id``), followed by the sweep until it is final.

        :raises AwsError: the call failed (``ResourceNotFoundException``: AWS does not
            know the request id).
        """
        status = self._describe_status(request_id, create=True)
        return OperationStatus(
            request_id=str(status.get("RequestId") or request_id),
            state=str(status.get("Status") or "IN_PROGRESS"),
            reason=status.get("FailureReason"),
        )

    def _spare_for_lists(self) -> bool:
        """Whether a batched status list may be made now: the client-side limiter, if
        any, holds at least half its burst (writes waiting for a slot find a token)."""
        limiter = self.limiter
        return limiter is None or limiter.available() >= limiter.burst / 2

    def _wait(
        self,
        status: dict[str, Any],
        *,
        create: bool,
        release: Callable[[], None] = lambda: None,
    ) -> dict[str, Any]:
        """Poll the request until it leaves IN_PROGRESS or ``poll_timeout`` seconds have
        passed since the write was answered; returns the last status (still IN_PROGRESS
        on timeout; a status already final is returned without a call).

        The schedule (``poll_interval`` None, :data:`POLL_SCHEDULE`): the first poll
        right away, then 0.25, 0.5 and 1 s after the write, then every
        :data:`POLL_INTERVAL_MAX` (1 s). Each poll is an API call against Identity
        Center's collective 20 calls/s (jitbot paces itself at 15 by default), and up to
        15 operations are outstanding at once (IAM Identity Center quotas page): with
        operations of about a second, a write and a poll each soon fill the rate, so in
        a mass expiry any extra poll delays a revocation. The polls before the first second are therefore *early*
        polls, made only while at most half the outstanding slots are taken and the
        client-side limiter holds at least half its burst (quota nobody is using: a
        lone grant then returns as soon as AWS is done), skipped while either is busy.
        Polls are never more than 1 s apart, so a finished operation gives its
        outstanding slot back within a second. With ``poll_interval`` set, every poll
        waits that long instead (no early polls).
        """
        request_id = status.get("RequestId")
        started = self._clock()
        together = self._wait_together(status, create=create, release=release)
        if together is not None:
            return together
        schedule = self._poll_schedule()
        while status.get("Status") not in ("SUCCEEDED", "FAILED"):
            if not request_id:
                kind = "Creation" if create else "Deletion"
                raise AwsError(
                    f"sso-admin DescribeAccountAssignment{kind}Status: AWS returned no request id"
                )
            remaining = self.poll_timeout - (self._clock() - started)
            if remaining <= 0:
                return status
            delay, early = next(schedule)
            if delay > 0:
                self._sleep(min(delay, remaining))
            if early and not self._spare_quota():
                continue
            status = self._describe_status(request_id, create=create)
        return status

    def _wait_together(
        self, status: dict[str, Any], *, create: bool, release: Callable[[], None]
    ) -> dict[str, Any] | None:
        """The final status from the batched board (:mod:`workflows.aws.operations`)
        while two or more changes of this kind are outstanding; None: poll alone."""
        request_id = status.get("RequestId")
        boards = self._boards
        if (
            boards is not None
            and request_id
            and status.get("Status") not in ("SUCCEEDED", "FAILED")
            and self._kind_in_flight[create] >= 2
            and boards[create].available
        ):
            return boards[create].wait(request_id, release, self.poll_timeout)
        return None

    def _poll_schedule(self) -> Iterator[tuple[float, bool]]:
        """``(seconds to wait before the next poll, is it an early poll)``, endless."""
        if self.poll_interval is not None:
            while True:
                yield self.poll_interval, False
        yield from POLL_SCHEDULE
        while True:
            yield POLL_INTERVAL_MAX, False

    def _spare_quota(self) -> bool:
        """Whether an early status poll may be made now: at most half the outstanding
        slots are taken (a mass expiry keeps them all busy, and there every early poll
        would take a token a write or a needed poll waits for) and the client-side
        limiter, if any, is at least half full (nobody else is using the quota)."""
        if self._in_flight > self._max_outstanding // 2:
            return False
        limiter = self.limiter
        return limiter is None or limiter.available() >= limiter.burst / 2
