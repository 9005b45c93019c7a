"""HTTP mode: Slack's request URL at ``/slack/events``, ``GET /healthz`` (the database
and AWS reachable: 200, else 503 naming which check failed, the detail only in the log;
use it for readiness) and
``GET /metrics`` (Prometheus, see :mod:`bot.metrics`), served by waitress (a production
WSGI server), not Bolt's development server. ``/metrics`` may have a listener of its own
instead (:func:`make_metrics_server`, ``jitbot serve --metrics-port``), in HTTP mode and
in Socket Mode."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier
from waitress.server import create_server

from bot.metrics import METRICS_PATH, metrics_app
from bot.runtime import Runtime
from storage.db import ping

log = logging.getLogger("jitbot.http")

EVENTS_PATH = "/slack/events"

#: Bytes a request body may have. Slack's payloads are far smaller (a modal's whole view
#: state is a few KiB; a message is at most 40,000 characters), so anything larger is
#: refused with 413 before a byte of it is read: an unsigned body must cost no memory.
MAX_BODY_BYTES = 256 * 1024
StartResponse = Callable[..., Any]


#: Seconds an AWS reachability answer is reused: probes every few seconds from several
#: replicas must not eat into Identity Center's 20 calls a second.
AWS_CHECK_TTL = 30.0


class CachedCheck:
    """Runs ``check`` (None when fine, else the problem) at most once per ``ttl``
    seconds and answers from the last run in between."""

    def __init__(self, check: Callable[[], str | None], ttl: float) -> None:
        self._check = check
        self._ttl = ttl
        self._lock = threading.Lock()
        self._at = -ttl
        self._last: str | None = None

    def __call__(self) -> str | None:
        with self._lock:
            if time.monotonic() - self._at >= self._ttl:
                self._last = self._check()
                self._at = time.monotonic()
            return self._last


def _respond(
    start_response: StartResponse,
    status: str,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), *headers],
    )
    return [body]


def _signed(verifier: SignatureVerifier, body: bytes, headers: dict[str, str]) -> bool:
    """Slack's signature over ``body`` is right and at most 5 minutes old (Slack's
    "Verifying requests from Slack"); missing or garbled headers are simply wrong."""
    try:
        return verifier.is_valid_request(body, headers)
    except (ValueError, TypeError):
        return False


def bolt_request(body: bytes, environ: dict[str, Any]) -> BoltRequest | str:
    """The request as Bolt's WSGI adapter would build it (its ``WsgiHttpRequest``
    headers, the body parsed once, by Bolt), or what is wrong with it: not UTF-8, a
    ``payload`` that is not JSON, or a body that is not a JSON object. What Bolt parses
    but its listeners would choke on is refused by :mod:`bot.guards`, in both modes."""
    try:
        text = body.decode("utf-8")  # slack_bolt.request.internals.ENCODING
    except UnicodeDecodeError:
        return "body is not UTF-8"
    try:
        request = BoltRequest(
            body=text,
            query=environ.get("QUERY_STRING", ""),
            headers=WsgiHttpRequest(environ).get_headers(),
        )
    except ValueError:  # json.JSONDecodeError
        return "payload is not JSON"
    except (AttributeError, TypeError):  # Bolt reads fields of a body that is no object
        return "payload is not a JSON object"
    return request


WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _content_length(environ: dict[str, Any]) -> int | None:
    """The request's ``Content-Length`` in bytes (0 when absent), None when it is not a
    non-negative integer."""
    raw = environ.get("CONTENT_LENGTH") or "0"
    try:
        length = int(raw)
    except ValueError:
        return None
    return length if length >= 0 else None


def _events_handler(rt: Runtime) -> WsgiApp:
    """``POST /slack/events``: the checks :func:`make_wsgi_app` describes, then Bolt."""
    verifier = SignatureVerifier(rt.settings.slack_signing_secret or "")

    def events(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = _content_length(environ)
        if length is None:
            return _respond(start_response, "400 Bad Request", b"bad Content-Length")
        if length > MAX_BODY_BYTES:
            log.warning("refused a %d-byte request body (limit %d)", length, MAX_BODY_BYTES)
            return _respond(start_response, "413 Content Too Large", b"body too large")
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
            "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
        }
        if rt.settings.slack_signing_secret and not _signed(verifier, body, headers):
            return _respond(start_response, "401 Unauthorized")
        request = bolt_request(body, environ)
        if isinstance(request, str):
            log.warning("refused a malformed Slack request: %s", request)
            return _respond(start_response, "400 Bad Request", request.encode())
        answer = rt.app.dispatch(request)
        response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        start_response(response.status, response.get_headers())
        return response.get_body()

    return events


def _health_check(
    rt: Runtime, connected: Callable[[], bool] | None = None
) -> Callable[[], tuple[str, dict[str, Any]]]:
    """``GET /healthz``'s answer: the status line and the JSON body (``status``,
    ``database``, ``aws``: ``"ok"`` or ``"failed"``, ``socket_mode``: ``"connected"`` or
    ``"disconnected"`` when ``connected`` is given (Socket Mode: is the websocket to
    Slack open), and ``outbox_backlog``); AWS is asked
    at most every :data:`AWS_CHECK_TTL` seconds. The endpoint answers anyone who reaches
    the port, so what failed goes to the log, never into the answer: driver and AWS
    errors name hosts, role ARNs and account ids."""
    aws_check = CachedCheck(rt.aws.ping, ttl=AWS_CHECK_TTL)

    def health() -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"status": "ok", "database": "ok", "aws": "ok"}
        try:
            ping(rt.store.engine)
        except Exception as exc:  # any database failure makes the replica unhealthy
            log.warning("health check: the database does not answer: %s", exc)
            body.update(status="unhealthy", database="failed")
        problem = aws_check()
        if problem is not None:
            log.warning("health check: AWS does not answer: %s", problem)
            body.update(status="unhealthy", aws="failed")
        if connected is not None:
            up = _connected(connected)
            body["socket_mode"] = "connected" if up else "disconnected"
            if not up:
                body["status"] = "unhealthy"
        backlog, _oldest = rt.store.outbox_backlog() if body["database"] == "ok" else (0, None)
        body["outbox_backlog"] = backlog
        status = "200 OK" if body["status"] == "ok" else "503 Service Unavailable"
        return status, body

    return health


def _connected(connected: Callable[[], bool]) -> bool:
    try:
        return bool(connected())
    except Exception:  # a client between sessions may raise: not connected
        return False


def make_wsgi_app(
    rt: Runtime,
    *,
    metrics: bool = True,
    events: bool = True,
    connected: Callable[[], bool] | None = None,
) -> WsgiApp:
    """The WSGI app: commands, interactivity, options and events all POST to
    ``/slack/events``; ``GET /healthz`` answers 200 when the database answers;
    ``GET /metrics`` unless ``metrics`` is False (served on a port of its own, then:
    here it is a 404 like any unknown path).

    Before Bolt sees a request it is checked here: a body over :data:`MAX_BODY_BYTES`
    is a 413 before it is read, a bad or old signature is a 401
    (checked first, so an unauthenticated body is never parsed), and a body Bolt could
    not parse is a 400. The body is parsed once (:func:`bolt_request`), into the
    ``BoltRequest`` that Bolt then dispatches; Bolt's first middleware
    (:mod:`bot.guards`, shared with Socket Mode) answers a payload its listeners would
    choke on 400, and one any replica already took within
    :data:`bot.guards.REPLAY_WINDOW` (a replayed capture, or Slack's own retry,
    ``X-Slack-Retry-Num``) 200 with ``X-Slack-No-Retry: 1``, and drops it (the database
    remembers the digests, :mod:`storage.deliveries`; Slack's retries:
    https://api.slack.com/apis/events-api#retries).

    Socket Mode serves this app with ``events=False`` (no ``/slack/events``: Slack comes
    over the websocket) and ``connected`` (the websocket's state, in ``/healthz``)."""
    handle_events = _events_handler(rt) if events else None
    health = _health_check(rt, connected)
    # rt.metrics is read at each scrape (a test may swap it)
    scrape = metrics_app(lambda: rt.metrics.render()) if metrics else None

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH and method == "POST" and handle_events is not None:
            return handle_events(environ, start_response)
        if path == METRICS_PATH and scrape is not None:
            return scrape(environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            status, body = health()
            payload = json.dumps(body).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
            start_response(status, headers)
            return [payload]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app


def make_server(
    rt: Runtime,
    host: str,
    port: int,
    threads: int = 32,
    *,
    metrics: bool = True,
    events: bool = True,
    connected: Callable[[], bool] | None = None,
) -> Any:
    """A waitress server bound to ``host:port`` (port 0 picks a free one; see
    ``server.effective_port``), with ``/metrics`` unless ``metrics`` is False, and
    ``events`` / ``connected`` as :func:`make_wsgi_app`. Call ``run()`` to serve,
    ``close()`` to stop."""
    return create_server(
        make_wsgi_app(rt, metrics=metrics, events=events, connected=connected),
        host=host,
        port=port,
        threads=threads,
        ident="jitbot",
        # waitress's own cap (its default is 1 GiB), for bodies sent without a length
        max_request_body_size=MAX_BODY_BYTES,
    )


def make_metrics_server(rt: Runtime, host: str, port: int) -> Any:
    """A waitress server on ``host:port`` that answers ``GET /metrics`` only (404
    otherwise), for ``jitbot serve --metrics-port``: scrapes stay off the port Slack
    reaches, and Socket Mode, which has no HTTP port, can be scraped too. Two threads: a
    scrape is a few database reads. ``run()`` and ``close()`` as :func:`make_server`."""
    return create_server(
        metrics_app(lambda: rt.metrics.render()),
        host=host,
        port=port,
        threads=2,
        ident="jitbot-metrics",
        max_request_body_size=0,  # a scrape has no body
    )
