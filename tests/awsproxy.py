"""A recording HTTP proxy in front of moto's server, for tests that run the bot as a
separate process: it notes every AWS call (operation from ``X-Amz-Target``, the
``PrincipalId`` of the body, when it arrived) and can hold an operation back, so a
test can kill the bot while a call is under way."""

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


class AwsProxy:
    """Forwards to ``target`` (moto's endpoint URL); :attr:`url` is the proxy's."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._lock = threading.Lock()
        self.calls: list[AwsCall] = []
        self._held: dict[str, threading.Event] = {}
        self._drop = False
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
            self.calls.append(AwsCall(time.time(), operation, principal))
            held = self._held.get(operation)
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
