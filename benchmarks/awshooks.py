"""botocore event hooks on the runtime's AWS clients: count calls, note when each
account assignment change landed, and emulate Identity Center's throttling.

Installed on the clients of :class:`workflows.aws.IdentityCenter` (one per service,
made by its ``_client``) with ``client.meta.events.register``, so only the bot's own
calls are seen. ``before-call.*.*`` fires once per API call (botocore's retries inside a
call are not counted again); ``after-call.*.*`` fires with the parsed answer.

The throttle follows the IAM Identity Center quotas page
(https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html): the Identity
Center (``sso-admin``) APIs share a throttle of 20 transactions per second, and
``CreateAccountAssignment`` (here also ``DeleteAccountAssignment``) may have at most 10
asynchronous operations outstanding. A call that finds the token bucket empty, or the
outstanding operations at the cap, is answered ``ThrottlingException`` from the hook
(a ``ClientError`` shaped like AWS's), before it reaches moto. Raising from
``before-call`` bypasses botocore's own retries (``standard`` mode would retry a real
``ThrottlingException`` up to 7 times): only jitbot's retries are exercised.

moto finishes assignment changes at once. ``op_latency`` > 0 makes them look
asynchronous like AWS: the create/delete answers ``IN_PROGRESS`` and the status calls
keep answering ``IN_PROGRESS`` until ``op_latency`` seconds have passed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

WRITES = {
    "CreateAccountAssignment": "AccountAssignmentCreationStatus",
    "DeleteAccountAssignment": "AccountAssignmentDeletionStatus",
}
STATUS_CALLS = {
    "DescribeAccountAssignmentCreationStatus": "AccountAssignmentCreationStatus",
    "DescribeAccountAssignmentDeletionStatus": "AccountAssignmentDeletionStatus",
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
        #: monotonic times of the calls let through while throttling was on
        self.admitted: list[float] = []
        #: (principal, account, permission set ARN) -> wall time the change took effect
        self.created: dict[tuple[str, str, str], float] = {}
        self.deleted: dict[tuple[str, str, str], float] = {}
        self._tokens = burst
        self._refilled = clock()
        self._pending: dict[str, float] = {}  # request id -> monotonic time it completes
        self._exceptions: dict[str, Any] = {}

    # ---- wiring ----------------------------------------------------------------

    def install(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        self._exceptions[service] = client.exceptions
        client.meta.events.register(
            "before-call.*.*", self._before, unique_id=f"bench-b-{id(self)}"
        )
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
            self.throttling = True

    # ---- hooks -----------------------------------------------------------------

    def _before(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        name = model.name
        key = f"{service}:{name}"
        refuse = None
        with self._lock:
            self.calls[key] += 1
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
        if refuse is not None:
            raise self._throttle(service, name, refuse)

    def _throttle(self, service: str, operation: str, message: str) -> ClientError:
        response = {
            "Error": {"Code": "ThrottlingException", "Message": message},
            "Message": message,
            "ResponseMetadata": {
                "RequestId": str(uuid.uuid4()),
                "HTTPStatusCode": 400,
                "HTTPHeaders": {"x-amzn-errortype": "ThrottlingException"},
                "RetryAttempts": 0,
            },
        }
        exceptions = self._exceptions.get(service)
        if exceptions is not None:
            return exceptions.from_code("ThrottlingException")(response, operation)
        return ClientError(response, operation)  # type: ignore[arg-type]

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
                    self._pending[status["RequestId"]] = self.clock() + self.op_latency
                    status["Status"] = "IN_PROGRESS"
        elif name in STATUS_CALLS and self.op_latency > 0:
            status = parsed.get(STATUS_CALLS[name]) or {}
            with self._lock:
                until = self._pending.get(str(status.get("RequestId")))
                if until is not None and until > self.clock():
                    status["Status"] = "IN_PROGRESS"


def install_on(aws: Any, probe: Probe) -> None:
    """Make the three clients of an :class:`~workflows.aws.IdentityCenter` now and hook
    ``probe`` on them (``_client`` is the adapter's client factory and cache)."""
    for service in ("sso-admin", "identitystore", "organizations"):
        probe.install(aws._client(service))
