"""The fake Slack's HTTP side: a threaded server on 127.0.0.1 answering
``GET``/``POST /api/<method>`` like ``https://slack.com/api/`` (form or JSON bodies, a
bearer token, required arguments, JSON-encoded ``blocks``/``view`` arguments), and
``/response/<key>`` for ``response_url`` posts; every answer is recorded as a call.

Required arguments per method are in ``sim/slack_required_args.json``, taken from
https://docs.slack.dev/reference/methods.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from sim.slack_faults import Faults
from sim.slack_records import Call, SlackError, present
from sim.slack_state import SlackState

if TYPE_CHECKING:
    from sim.fake_slack import FakeSlack

__all__ = ["Method", "WebApiDispatch", "start_server"]

#: one Web API method: the call's arguments -> the answer's fields (or SlackError)
Method = Callable[[dict[str, Any]], dict[str, Any]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # the listen backlog: socketserver's default of 5 drops connections under a burst
    # (the client's TCP then retries after a second), which Slack's servers never do
    request_queue_size = 128
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake = self.server.fake
        if parts.path.startswith("/api/"):
            status, headers, payload = fake._dispatch(
                parts.path[len("/api/") :], parts.query, raw, dict(self.headers.items())
            )
        elif parts.path.startswith("/response/"):
            status, headers, payload = fake._response_url(parts.path[len("/response/") :], raw)
        else:
            status, headers, payload = 404, {}, {"ok": False, "error": "not_found"}
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


_JSON_ARGS = ("blocks", "view", "attachments", "metadata")
_EXTRA_REQUIRED: dict[str, list[tuple[str, ...]]] = {
    # Each tuple: at least one of these arguments must be present.
    "users.info": [("user",)],
    "conversations.open": [("users", "channel")],
    "conversations.info": [("channel",)],
    "views.update": [("view",), ("view_id", "external_id")],
}


def start_server(fake: FakeSlack) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``fake`` on 127.0.0.1 at a free port, from a daemon thread."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="FakeSlack", daemon=True
    )
    thread.start()
    return server, thread


def _load_required_args() -> dict[str, list[str]]:
    text = resources.files("sim").joinpath("slack_required_args.json").read_text("utf-8")
    return {k: list(v) for k, v in json.loads(text).items()}


def _read_body(args: dict[str, Any], raw: bytes, content_type: str) -> None:
    """Add a request body's arguments (JSON object or form) to ``args``.

    :raises ValueError: (or ``UnicodeDecodeError``) the body does not parse.
    :raises SlackError: ``invalid_json``, a JSON body that is not an object.
    """
    if not raw:
        return
    if "json" in content_type:
        body = json.loads(raw.decode("utf-8"))
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    else:
        args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


class WebApiDispatch(SlackState):
    """Routes one Web API request to its method, after faults, auth and argument checks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._faults = Faults()
        self._required = _load_required_args()
        self._methods: dict[str, Method] = self._method_table()

    def _method_table(self) -> dict[str, Method]:
        """Web API method name -> its implementation (the fake's subclass fills it)."""
        return {}

    @property
    def calls(self) -> list[Call]:
        """Every Web API call answered, in order."""
        with self._lock:
            return list(self._calls)

    def last_call_at(self) -> float | None:
        """``time.time()`` when the latest Web API call was answered (None: no call yet)."""
        with self._lock:
            return self._calls[-1].at if self._calls else None

    def calls_to(self, method: str) -> list[Call]:
        """The calls made to one method."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def _dispatch(
        self, method: str, query: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        lower = {k.lower(): v for k, v in headers.items()}
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        try:
            _read_body(args, raw, lower.get("content-type", ""))
        except (ValueError, UnicodeDecodeError):
            response: dict[str, Any] = {"ok": False, "error": "invalid_json"}
            return self._finish(method, args, response, 200, {})
        except SlackError as exc:
            return self._finish(method, args, exc.payload(), 200, {})
        auth = lower.get("authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else args.get("token")
        args.pop("token", None)
        failure = self._faults.take(method)
        if failure is not None:
            status, extra_headers, response = failure.answer()
            self.log(f"[slack] {method} failed (injected): HTTP {status} {response['error']}")
            return self._finish(method, args, response, status, extra_headers)
        return self._finish(method, args, self._answer(method, token, args), 200, {})

    def _answer(self, method: str, token: str | None, args: dict[str, Any]) -> dict[str, Any]:
        try:
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method", f"the fake does not implement {method}")
            expected = self.app_token if method == "apps.connections.open" else self.token
            if token != expected:
                wrong_kind = token in (self.token, self.app_token)
                raise SlackError("not_allowed_token_type" if wrong_kind else "invalid_auth")
            self._check_required(method, args)
            _decode_json_args(args)
            with self._lock:
                return {"ok": True, **handler(args)}
        except SlackError as exc:
            detail = exc.detail or "; ".join(exc.messages or [])
            self.log(f"[slack] {method} refused: {exc.error}" + (f" ({detail})" if detail else ""))
            return exc.payload()

    def _check_required(self, method: str, args: dict[str, Any]) -> None:
        for name in self._required.get(method, []):
            if not present(args.get(name)):
                raise SlackError("missing_argument", f"{method} requires `{name}`")
        for group in _EXTRA_REQUIRED.get(method, []):
            if not any(present(args.get(name)) for name in group):
                names = " or ".join(f"`{n}`" for n in group)
                raise SlackError("missing_argument", f"{method} requires {names}")
        if method == "chat.postMessage" and not any(
            present(args.get(n)) for n in ("text", "blocks", "attachments")
        ):
            raise SlackError(
                "no_text", "chat.postMessage requires `text`, `blocks` or `attachments`"
            )


def _decode_json_args(args: dict[str, Any]) -> None:
    for name in _JSON_ARGS:
        value = args.get(name)
        if isinstance(value, str):
            try:
                args[name] = json.loads(value) if value else None
            except ValueError as exc:
                error = "invalid_arguments" if name == "view" else f"invalid_{name}_format"
                if name == "blocks":
                    error = "invalid_blocks_format"
                raise SlackError(error, f"`{name}` is not valid JSON") from exc
