"""A recording HTTP proxy in front of moto's server, for tests that run the bot as a
separate process: it notes every AWS call (operation from ``X-Amz-Target``, the
``PrincipalId`` of the body, when it arrived) and can hold an operation back, so a
test can kill the bot while a call is under way. It can also throttle the Identity
Center (``sso-admin``) calls of all its clients together, as AWS's collective limit
does (:meth:`AwsProxy.throttle`), which a botocore hook inside one bot cannot."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class AwsCall:
    at: float  # time.time() when it arrived
    operation: str  # e.g. "DeleteAccountAssignment"
    principal_id: str | None
    throttled: bool = False  # answered ThrottlingException, not forwarded


#: X-Amz-Target prefix of the sso-admin (Identity Center) API
SSO_ADMIN_TARGET = "SWBExternalService."


class AwsProxy:
    """Forwards to ``target`` (moto's endpoint URL); :attr:`url` is the proxy's."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._lock = threading.Lock()
        self.calls: list[AwsCall] = []
        self._held: dict[str, threading.Event] = {}
        self._drop = False
        self._bucket: tuple[float, float, float, float] | None = None  # rate, burst, tokens, at
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                proxy._forward(self)

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                proxy._forward(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self.release_all()
        self._server.shutdown()

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

    def throttle(self, rate: float, burst: float) -> None:
        """From now on, answer ``sso-admin`` calls that find a token bucket of ``rate``
        calls a second and ``burst`` calls empty with HTTP 400 ``ThrottlingException``
        (not forwarded), counting every client of the proxy together, as Identity
        Center's collective limit of 20 calls a second would (IAM Identity Center
        quotas page: https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html).
        The benchmark's throttle (``benchmarks.awshooks``) has the same shape."""
        with self._lock:
            self._bucket = (rate, burst, burst, time.monotonic())

    def throttled(self) -> list[AwsCall]:
        with self._lock:
            return [c for c in self.calls if c.throttled]

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

    def of(self, operation: str) -> list[AwsCall]:
        with self._lock:
            return [c for c in self.calls if c.operation == operation]

    def wait_for(self, operation: str, count: int = 1, timeout: float = 20.0) -> AwsCall:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(operation)
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.02)
        raise AssertionError(f"no {operation} call within {timeout} s")

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        principal = None
        if body[:1] == b"{":
            try:
                principal = json.loads(body).get("PrincipalId")
            except ValueError:
                principal = None
        with self._lock:
            allowed = not target.startswith(SSO_ADMIN_TARGET) or self._take_token()
            self.calls.append(AwsCall(time.time(), operation, principal, not allowed))
            held = self._held.get(operation)
        if not allowed:
            answer = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            handler.send_response(400)
            handler.send_header("Content-Type", "application/x-amz-json-1.1")
            handler.send_header("x-amzn-ErrorType", "ThrottlingException")
            handler.send_header("Content-Length", str(len(answer)))
            handler.end_headers()
            handler.wfile.write(answer.encode())
            return
        if held is not None:
            held.wait(120)
            if self._drop:
                handler.close_connection = True
                return
        connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() != "host"}
            connection.request(handler.command, handler.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            handler.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the bot was killed mid-call
        finally:
            connection.close()
