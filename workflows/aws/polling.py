"""Waiting for an account assignment change: polling its status alone
(``DescribeAccountAssignment{Creation,Deletion}Status``) or, while several are
outstanding, together with the others (:mod:`workflows.aws.operations`).

https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribeAccountAssignmentCreationStatus.html
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from workflows.assignments import AwsError
from workflows.aws.clients import Clients
from workflows.aws.errors import (
    AWS_ERRORS,
    LIST_UNAVAILABLE,
    describe,
    error_code,
    not_implemented,
    wrap,
)
from workflows.aws.operations import ListUnavailable, OperationBoard
from workflows.aws.quota import Quota

#: Seconds to wait before each of the first polls, and whether it is an early one (made
#: only from spare quota); after them, a poll every :data:`POLL_INTERVAL_MAX` seconds.
POLL_SCHEDULE: tuple[tuple[float, bool], ...] = (
    (0.0, True),
    (0.25, True),
    (0.25, True),
    (0.5, False),
)
POLL_INTERVAL_MAX = 1.0
_FINAL = ("SUCCEEDED", "FAILED")


def _kind(create: bool) -> str:
    return "Creation" if create else "Deletion"


class Poller:
    """Polls assignment changes until their status is final.

    :param poll_interval: fixed seconds before each poll; None: :data:`POLL_SCHEDULE`.
    :param poll_timeout: seconds after the write's answer when waiting stops.
    :param batch_polls: use an :class:`OperationBoard` per kind while two or more
        changes of that kind are outstanding.
    """

    def __init__(
        self,
        clients: Clients,
        quota: Quota,
        *,
        poll_interval: float | None,
        poll_timeout: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        batch_polls: bool,
    ) -> None:
        self._clients = clients
        self._quota = quota
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self._sleep = sleep
        self._clock = clock
        #: creations (True) and deletions (False) waited on together; None: alone
        self.boards: dict[bool, OperationBoard] | None = (
            {create: self._board(create) for create in (True, False)} if batch_polls else None
        )

    def _describe(self, create: bool, request_id: str) -> dict[str, Any]:
        """One ``DescribeAccountAssignment{Kind}Status``. Raises botocore's errors."""
        kind = _kind(create)
        call = getattr(
            self._clients.client("sso-admin"), f"describe_account_assignment_{kind.lower()}_status"
        )
        answer = call(
            InstanceArn=self._clients.instance_arn,
            **{f"AccountAssignment{kind}RequestId": request_id},
        )
        return answer[f"AccountAssignment{kind}Status"]

    def _board(self, create: bool) -> OperationBoard:
        """The board of creations or deletions, calling
        ``ListAccountAssignment{Creation,Deletion}Status``."""
        kind = _kind(create)
        method = f"list_account_assignment_{kind.lower()}_status"
        key = f"AccountAssignments{kind}Status"
        operation = f"sso-admin ListAccountAssignment{kind}Status"

        def listed(status: str, every_page: bool) -> set[str] | None:
            params = {"InstanceArn": self._clients.instance_arn, "Filter": {"Status": status}}
            try:
                if every_page:
                    return {
                        s["RequestId"]
                        for s in self._clients.paginate("sso-admin", method, key, **params)
                    }
                page = getattr(self._clients.client("sso-admin"), method)(MaxResults=100, **params)
            except (*AWS_ERRORS, NotImplementedError) as exc:
                if not_implemented(exc) or error_code(exc) in LIST_UNAVAILABLE:
                    raise ListUnavailable(f"{operation}: {describe(exc)}") from exc
                raise wrap(operation, exc) from exc
            return None if page.get("NextToken") else {s["RequestId"] for s in page.get(key, [])}

        def describe_one(request_id: str) -> dict[str, Any]:
            try:
                return self._describe(create, request_id)
            except AWS_ERRORS as exc:
                raise wrap(f"sso-admin DescribeAccountAssignment{kind}Status", exc) from exc

        def running() -> set[str]:
            ids = listed("IN_PROGRESS", True)
            assert ids is not None
            return ids

        return OperationBoard(
            kind=kind.lower(),
            list_running=running,
            list_failed=lambda: listed("FAILED", False),
            describe=describe_one,
            spare=self._quota.spare_calls,
        )

    def wait(
        self, status: dict[str, Any], *, create: bool, release: Callable[[], None]
    ) -> dict[str, Any]:
        """Poll the request until it leaves IN_PROGRESS or ``poll_timeout`` seconds have
        passed since the write was answered; returns the last status (still IN_PROGRESS
        on timeout; a status already final is returned without a call).

        The schedule (``poll_interval`` None): the first poll right away, then 0.25, 0.5
        and 1 s after the write, then every second. Each poll is a call against the
        collective 20 calls/s, and up to 10 operations are outstanding at once: in a mass
        expiry any extra poll delays a revocation. The polls before the first second are
        therefore *early* polls, made only while :meth:`Quota.spare` (quota nobody uses:
        a lone grant returns as soon as AWS is done). Polls are never more than 1 s
        apart, so a finished operation gives its slot back within a second.

        :raises AwsError: a poll failed, or AWS returned no request id.
        """
        request_id = status.get("RequestId")
        started = self._clock()
        boards = self.boards
        if (
            boards is not None
            and request_id
            and status.get("Status") not in _FINAL
            and self._quota.kind_in_flight[create] >= 2
            and boards[create].available
        ):
            together = boards[create].wait(request_id, release, self.poll_timeout)
            if together is not None:
                return together
        operation = f"DescribeAccountAssignment{_kind(create)}Status"
        schedule = self._schedule()
        while status.get("Status") not in _FINAL:
            if not request_id:
                raise AwsError(f"sso-admin {operation}: AWS returned no request id")
            remaining = self.poll_timeout - (self._clock() - started)
            if remaining <= 0:
                return status
            delay, early = next(schedule)
            if delay > 0:
                self._sleep(min(delay, remaining))
            if early and not self._quota.spare():
                continue
            try:
                status = self._describe(create, request_id)
            except AWS_ERRORS as exc:
                raise wrap(f"sso-admin {operation} ({request_id})", exc) from exc
        return status

    def _schedule(self) -> Iterator[tuple[float, bool]]:
        """``(seconds to wait before the next poll, is it an early poll)``, endless."""
        if self.poll_interval is not None:
            while True:
                yield self.poll_interval, False
        yield from POLL_SCHEDULE
        while True:
            yield POLL_INTERVAL_MAX, False
