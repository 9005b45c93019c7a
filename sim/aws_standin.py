"""An IAM Identity Center stand-in that behaves like AWS: an HTTP endpoint in front of
moto's server (:func:`sim.aws_world.start_moto_server`, with :mod:`sim.moto_fixes`
installed in-process) for the bot's ``AWS_ENDPOINT_URL``.

Every call is forwarded to moto except where AWS behaves otherwise
(:mod:`sim.aws_standin_ops`):

* ``CreateAccountAssignment`` / ``DeleteAccountAssignment`` stay ``IN_PROGRESS`` for
  ``op_seconds`` (the write is answered at once with the stand-in's request id; moto
  makes the change when the time is up, so ``ListAccountAssignments`` shows a creation
  only once it finished), then end ``SUCCEEDED``, or ``FAILED`` with moto's error as
  ``FailureReason``; ``Describe``/``ListAccountAssignment{Creation,Deletion}Status``
  answer for them;
* ``ConflictException`` for a second write on an account and permission set with a
  change in progress, for a change while another writer holds the account
  (:meth:`AwsStandin.busy`), for a duplicate ``CreateAccountAssignment`` ("already
  exists"), and for ``DeletePermissionSet`` of a set still provisioned or changing;
* ``ThrottlingException`` past a token bucket counted over all clients together
  (:meth:`AwsStandin.throttle`), as Identity Center's collective limit is, and
  ``ServiceQuotaExceededException`` past ``max_outstanding`` changes in progress;

and it records every call (operation from ``X-Amz-Target``, ``PrincipalId``, when) and
can hold an operation back (:meth:`AwsStandin.hold`), so a test can kill the bot while
a call is under way. ``ListTagsForResource`` is moto's, as :mod:`sim.moto_fixes` makes it.

IAM Identity Center quotas: https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html

Test and demo code only (the product never imports ``sim``).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sim.aws_standin_ops import AssignmentOps, Operation, Reply, decode

__all__ = ["SSO_ADMIN_TARGET", "AwsCall", "AwsStandin"]

#: X-Amz-Target prefix of the sso-admin (Identity Center) API
SSO_ADMIN_TARGET = "SWBExternalService."


@dataclass(frozen=True)
class AwsCall:
    """One call the stand-in received."""

    at: float  # time.time() when it arrived
    operation: str  # e.g. "DeleteAccountAssignment"
    principal_id: str | None
    throttled: bool = False  # answered ThrottlingException, not forwarded
    refused: str | None = None  # the error code the stand-in answered instead of AWS


class AwsStandin:
    """The stand-in in front of moto at ``target`` (moto's endpoint URL); :attr:`url`
    is its own (127.0.0.1, a free port), served by daemon threads until :meth:`stop`.

    :param op_seconds: seconds an account assignment change stays ``IN_PROGRESS``
        (default 0: made in moto at once, as moto alone does). Settable later as
        :attr:`op_seconds`.
    """

    def __init__(self, target: str, *, op_seconds: float = 0.0) -> None:
        parts = urlsplit(target)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._lock = threading.Lock()
        self.calls: list[AwsCall] = []
        self._held: dict[str, threading.Event] = {}
        self._drop = False
        self._bucket: tuple[float, float, float, float] | None = None  # rate, burst, tokens, at
        self._ops = AssignmentOps(self._moto_json, op_seconds)
        self._headers: dict[str, str] = {}  # of the latest sso-admin call, for our own calls
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                standin._handle(self)

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                standin._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, for ``AWS_ENDPOINT_URL``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def op_seconds(self) -> float:
        """Seconds an assignment change stays ``IN_PROGRESS`` (changes started later)."""
        return self._ops.op_seconds

    @op_seconds.setter
    def op_seconds(self, seconds: float) -> None:
        self._ops.op_seconds = seconds

    def stop(self) -> None:
        """Release held calls, cancel changes not yet made, stop serving."""
        self.release_all()
        self._ops.stop()
        self._server.shutdown()
        self._server.server_close()

    # -- test hooks -------------------------------------------------------------------

    def hold(self, operation: str) -> None:
        """Hold every ``operation`` call (not forwarded, no answer) until released."""
        with self._lock:
            self._held[operation] = threading.Event()

    def release_all(self, *, forward: bool = True) -> None:
        """Let held calls go on: to AWS (``forward``), or dropped unanswered, as if the
        call never reached AWS."""
        with self._lock:
            held, self._held = self._held, {}
            self._drop = not forward
        for event in held.values():
            event.set()

    def busy(self, account_id: str, seconds: float, permission_set_arn: str | None = None) -> None:
        """A concurrent writer (the console, Terraform) holds ``account_id`` (only
        ``permission_set_arn`` in it, if given) for ``seconds`` from now: assignment
        writes and ``ProvisionPermissionSet`` there answer ``ConflictException``
        "... another operation in progress" meanwhile."""
        self._ops.busy(account_id, seconds, permission_set_arn)

    def throttle(self, rate: float, burst: float) -> None:
        """From now on, answer ``sso-admin`` calls that find a token bucket of ``rate``
        calls a second and ``burst`` calls empty with HTTP 400 ``ThrottlingException``
        (not forwarded), counting every client together, as Identity Center's
        collective limit of 20 calls a second would (IAM Identity Center quotas page).
        The benchmark's throttle (``benchmarks.awshooks``) has the same shape."""
        with self._lock:
            self._bucket = (rate, burst, burst, time.monotonic())

    def limit_outstanding(self, count: int | None) -> None:
        """Answer ``ServiceQuotaExceededException`` to assignment writes while ``count``
        changes are ``IN_PROGRESS`` (None: no limit, the default)."""
        self._ops.max_outstanding = count

    # -- what happened ----------------------------------------------------------------

    def throttled(self) -> list[AwsCall]:
        """The calls answered ``ThrottlingException``."""
        with self._lock:
            return [c for c in self.calls if c.throttled]

    def of(self, operation: str) -> list[AwsCall]:
        """The calls of ``operation`` so far, in order."""
        with self._lock:
            return [c for c in self.calls if c.operation == operation]

    def in_progress(self) -> list[Operation]:
        """The assignment changes still ``IN_PROGRESS``."""
        return self._ops.in_progress()

    def wait_for(self, operation: str, count: int = 1, timeout: float = 20.0) -> AwsCall:
        """The ``count``-th call of ``operation``, once it arrived.

        :raises AssertionError: not within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(operation)
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.02)
        raise AssertionError(f"no {operation} call within {timeout} s")

    # -- serving ----------------------------------------------------------------------

    def _take_token(self) -> bool:
        """With the lock held: False when the throttle says no."""
        if self._bucket is None:
            return True
        rate, burst, tokens, at = self._bucket
        now = time.monotonic()
        tokens = min(burst, tokens + (now - at) * rate)
        allowed = tokens >= 1
        self._bucket = (rate, burst, tokens - 1 if allowed else tokens, now)
        return allowed

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        sso = target.startswith(SSO_ADMIN_TARGET)
        params = decode(body) if body[:1] == b"{" else {}
        with self._lock:
            allowed = not sso or self._take_token()
            held = self._held.get(operation)
            index = len(self.calls)
            self.calls.append(
                AwsCall(time.time(), operation, params.get("PrincipalId"), not allowed)
            )
        reply = None if allowed else Reply.error("ThrottlingException", "Rate exceeded")
        if allowed and held is not None:
            held.wait(120)
            if self._drop:
                handler.close_connection = True
                return
        if allowed and sso:
            self._headers = _forwardable(handler.headers)
            reply = self._ops.answer(operation, params)
        if reply is not None and reply.status >= 400:
            with self._lock:
                self.calls[index] = replace(self.calls[index], refused=str(reply.body["__type"]))
        try:
            if reply is not None:
                _send(handler, reply.status, json.dumps(reply.body).encode(), [])
            else:
                self._forward(handler, body)
        except OSError:
            pass  # the bot was killed mid-call

    def _moto(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _moto_json(self, operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """An ``sso-admin`` call to moto, signed as the latest client call was."""
        headers = dict(self._headers)
        headers["X-Amz-Target"] = SSO_ADMIN_TARGET + operation
        headers["Content-Type"] = "application/x-amz-json-1.1"
        status, _, payload = self._moto("POST", "/", json.dumps(params).encode(), headers)
        return status, decode(payload)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = _forwardable(handler.headers)
        status, answer_headers, payload = self._moto(handler.command, handler.path, body, headers)
        kept = [
            (name, value)
            for name, value in answer_headers
            if name.lower() not in ("transfer-encoding", "connection", "content-length")
        ]
        _send(handler, status, payload, kept)


def _forwardable(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}


def _send(
    handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: list[tuple[str, str]]
) -> None:
    handler.send_response(status)
    if not headers:
        handler.send_header("Content-Type", "application/x-amz-json-1.1")
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
