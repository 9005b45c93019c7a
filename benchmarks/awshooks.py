"""botocore event hooks on the runtime's AWS clients: count calls, note when each
account assignment change landed, and emulate Identity Center's throttling.

Installed on the clients of :class:`workflows.aws.IdentityCenter` (one per service,
made by its ``_client``) with ``client.meta.events.register``, so only the bot's own
calls are seen. ``before-call.*.*`` fires once per API call (botocore's retries inside a
call are not counted again): that counts calls. ``before-send.*.*`` fires once per HTTP
attempt, after the bot's client-side limiter (``before-sign``, :mod:`workflows.aws.ratelimit`)
let it through: that is where the throttle stands, as AWS's would. ``after-call.*.*``
fires with the parsed answer.

The throttle follows the IAM Identity Center quotas page
(https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html): the Identity
Center (``sso-admin``) APIs share a throttle of 20 transactions per second, and
``CreateAccountAssignment`` (here also ``DeleteAccountAssignment``) may have at most 10
asynchronous operations outstanding. An attempt that finds the token bucket empty, or
the outstanding operations at the cap, is answered from the hook with an HTTP 400
``ThrottlingException`` response shaped like AWS's, before it reaches moto; botocore
parses it like a real one, so its ``standard`` retry mode retries it (up to 7 times,
each retry passing the bot's limiter and this throttle again) before jitbot's own
retries see it. Every throttled attempt is counted.

moto finishes assignment changes at once. ``op_latency`` > 0 makes them look
asynchronous like AWS: the create/delete answers ``IN_PROGRESS`` and the status calls
keep answering ``IN_PROGRESS`` until ``op_latency`` seconds have passed. moto does not
implement ``ListAccountAssignment{Creation,Deletion}Status``; with ``op_latency`` > 0
the hook answers it (after the throttle, so it costs quota like any call) from the
operations it made asynchronous.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from botocore.awsrequest import AWSResponse

WRITES = {
    "CreateAccountAssignment": "AccountAssignmentCreationStatus",
    "DeleteAccountAssignment": "AccountAssignmentDeletionStatus",
}
STATUS_CALLS = {
    "DescribeAccountAssignmentCreationStatus": "AccountAssignmentCreationStatus",
    "DescribeAccountAssignmentDeletionStatus": "AccountAssignmentDeletionStatus",
}
#: list call -> (the write whose operations it lists, the answer's key)
LIST_CALLS = {
    "ListAccountAssignmentCreationStatus": (
        "CreateAccountAssignment",
        "AccountAssignmentsCreationStatus",
    ),
    "ListAccountAssignmentDeletionStatus": (
        "DeleteAccountAssignment",
        "AccountAssignmentsDeletionStatus",
    ),
}


class Probe:
    """Counts every call, records assignment changes, throttles when ``throttling``."""

    def __init__(
        self,
        *,
        rate: float = 20.0,
        burst: float = 20.0,
        max_outstanding: int = 10,
        op_latency: float = 0.0,
        throttled_services: tuple[str, ...] = ("sso-admin",),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_outstanding = max_outstanding
        self.op_latency = op_latency
        self.throttled_services = throttled_services
        self.clock = clock
        self.throttling = False
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        #: monotonic times of the attempts let through while throttling was on
        self.admitted: list[float] = []
        #: operation name -> (principal, account, permission set ARN) -> wall time the
        #: write was first let through (sent to moto): when the bot issued it
        self.issued: dict[str, dict[tuple[str, str, str], float]] = {}
        #: (principal, account, permission set ARN) -> wall time the change took effect
        self.created: dict[tuple[str, str, str], float] = {}
        self.deleted: dict[tuple[str, str, str], float] = {}
        self._tokens = burst
        self._refilled = clock()
        self._pending: dict[str, float] = {}  # request id -> monotonic time it completes
        #: write name -> request id -> (monotonic time it completes, wall time issued)
        self._operations: dict[str, dict[str, tuple[float, float]]] = {}

    # ---- wiring ----------------------------------------------------------------

    def install(self, client: Any) -> None:
        """Hook this probe on ``client`` (after the bot's own hooks, so after its limiter)."""
        client.meta.events.register(
            "before-call.*.*", self._before, unique_id=f"bench-b-{id(self)}"
        )
        client.meta.events.register("before-send.*.*", self._send, unique_id=f"bench-s-{id(self)}")
        client.meta.events.register("after-call.*.*", self._after, unique_id=f"bench-a-{id(self)}")

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.throttled.clear()
            self.admitted.clear()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.calls)

    def start_throttling(self) -> None:
        with self._lock:
            self._tokens = self.burst
            self._refilled = self.clock()
            self.admitted.clear()
            self.throttled.clear()
            self.issued.clear()
            self.throttling = True

    # ---- hooks -----------------------------------------------------------------

    def _before(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        with self._lock:
            self.calls[f"{service}:{model.name}"] += 1

    def _send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _, service, name = event_name.split(".", 2)
        key = f"{service}:{name}"
        refuse = None
        with self._lock:
            if self.throttling and service in self.throttled_services:
                now = self.clock()
                self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
                self._refilled = now
                if name in WRITES:
                    self._pending = {k: v for k, v in self._pending.items() if v > now}
                    if len(self._pending) >= self.max_outstanding:
                        refuse = "Too many outstanding asynchronous operations"
                if refuse is None and self._tokens < 1:
                    refuse = "Rate exceeded"
                if refuse is None:
                    self._tokens -= 1
                    self.admitted.append(now)
                else:
                    self.throttled[key] += 1
            if refuse is None and name in WRITES:
                issued = self.issued.setdefault(name, {})
                issued.setdefault(_assignment_key(request.body), time.time())
        if refuse is not None:
            return _throttle_response(request.url, refuse)
        if name in LIST_CALLS and self.op_latency > 0:
            return self._list_response(request, name)
        return None

    def _list_response(self, request: Any, name: str) -> AWSResponse:
        """``ListAccountAssignment{Creation,Deletion}Status`` as AWS answers it, from
        the operations this probe made asynchronous (moto does not implement the call):
        ``Filter.Status`` IN_PROGRESS / SUCCEEDED / FAILED (none fail here), newest
        first, ``MaxResults`` (default and most 100) a page; NextToken is the offset."""
        write, key = LIST_CALLS[name]
        try:
            params = json.loads(request.body or b"{}")
        except (TypeError, ValueError):
            params = {}
        wanted = (params.get("Filter") or {}).get("Status")
        page = min(int(params.get("MaxResults") or 100), 100)
        start = int(params.get("NextToken") or 0)
        now = self.clock()
        with self._lock:
            operations = sorted(
                self._operations.get(write, {}).items(), key=lambda item: -item[1][1]
            )
        rows = []
        for request_id, (until, issued) in operations:
            status = "IN_PROGRESS" if until > now else "SUCCEEDED"
            if wanted in (None, status):
                rows.append({"RequestId": request_id, "Status": status, "CreatedDate": issued})
        answer: dict[str, Any] = {key: rows[start : start + page]}
        if start + page < len(rows):
            answer["NextToken"] = str(start + page)
        return _json_response(request.url, 200, answer)

    def _after(self, model: Any, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if getattr(http_response, "status_code", 500) >= 300:
            return
        name = model.name
        if name in WRITES:
            status = parsed.get(WRITES[name]) or {}
            if status.get("Status") == "FAILED":
                return
            key = (
                str(status.get("PrincipalId")),
                str(status.get("TargetId")),
                str(status.get("PermissionSetArn")),
            )
            done = time.time() + self.op_latency
            with self._lock:
                (self.created if name == "CreateAccountAssignment" else self.deleted)[key] = done
                if self.op_latency > 0 and status.get("RequestId"):
                    until = self.clock() + self.op_latency
                    self._pending[status["RequestId"]] = until
                    operations = self._operations.setdefault(name, {})
                    operations[status["RequestId"]] = (until, time.time())
                    status["Status"] = "IN_PROGRESS"
        elif name in STATUS_CALLS and self.op_latency > 0:
            status = parsed.get(STATUS_CALLS[name]) or {}
            with self._lock:
                until = self._pending.get(str(status.get("RequestId")))
                if until is not None and until > self.clock():
                    status["Status"] = "IN_PROGRESS"


def _assignment_key(body: Any) -> tuple[str, str, str]:
    """(principal, account, permission set ARN) of a Create/DeleteAccountAssignment
    request body (JSON)."""
    try:
        params = json.loads(body or b"{}")
    except (TypeError, ValueError):
        params = {}
    return (
        str(params.get("PrincipalId")),
        str(params.get("TargetId")),
        str(params.get("PermissionSetArn")),
    )


class _Body:
    """The ``raw`` of an :class:`AWSResponse` made up by the hook."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _json_response(url: str, status: int, answer: dict[str, Any]) -> AWSResponse:
    """An Identity Center JSON API answer (``application/x-amz-json-1.1``)."""
    body = json.dumps(answer).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-RequestId": str(uuid.uuid4()),
        "Content-Length": str(len(body)),
    }
    return AWSResponse(url, status, headers, _Body(body))


def _throttle_response(url: str, message: str) -> AWSResponse:
    """HTTP 400 ``ThrottlingException`` as the Identity Center JSON APIs answer it."""
    return _json_response(url, 400, {"__type": "ThrottlingException", "message": message})


def install_on(aws: Any, probe: Probe) -> None:
    """Make the three clients of an :class:`~workflows.aws.IdentityCenter` now and hook
    ``probe`` on them (``_client`` is the adapter's client factory and cache)."""
    for service in ("sso-admin", "identitystore", "organizations"):
        probe.install(aws._client(service))
