"""Slack's side of Socket Mode, for tests and benchmarks
(https://docs.slack.dev/apis/events-api/using-socket-mode/).

:class:`SlackSocket` is a WebSocket server on 127.0.0.1 (the ``websockets`` package's
threaded server does the protocol) that the fake Slack's ``apps.connections.open``
points at: each call issues a URL with a ticket of its own, good for one connection, as
Slack's are temporary. Every connection gets Slack's ``hello``; :meth:`SlackSocket.request`
sends an envelope on the newest connection Slack has not retired and waits for the
app's ack; :meth:`SlackSocket.refresh` sends ``disconnect`` (``refresh_requested``), after
which Slack sends nothing more on that connection; :meth:`SlackSocket.drop` ends the newest
connection's TCP without a word.

:class:`SocketUser` is a :class:`~sim.people.SlackUser` whose Slack reaches the bot over
this server instead of its request URL: the same payloads, sent as envelopes
(``slash_commands``, ``interactive``, ``events_api``), the ack's payload standing for the
HTTP answer.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request
from websockets.http11 import Response as Handshake
from websockets.sync.server import Server, ServerConnection, serve

from sim.fake_slack import FakeSlack
from sim.people import Response, SlackUser
from sim.signed_sender import FORM

__all__ = ["Ack", "SlackSocket", "SocketUser"]

#: the interaction payload types whose ack may carry an answer (Slack's
#: ``accepts_response_payload``): a modal's submission and an external select's options
_ANSWERED = frozenset({"view_submission", "block_suggestion"})


@dataclass(frozen=True)
class Ack:
    """The app's acknowledgement of one envelope: its ``payload`` (``{}`` without one)
    and ``elapsed``, seconds from :meth:`SlackSocket.request` to the ack's arrival."""

    payload: dict[str, Any]
    elapsed: float


class SlackSocket:
    """Slack's Socket Mode endpoint for ``fake`` (see the module docstring). Use as a
    context manager, or :meth:`start`/:meth:`stop`."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self._lock = threading.Condition()
        self._tickets: set[str] = set()
        self._live: list[ServerConnection] = []  # open, not retired: newest last
        self._acks: dict[str, dict[str, Any]] = {}
        #: connections accepted, in all (a reconnect adds one)
        self.connections = 0
        self._server: Server | None = None

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> SlackSocket:
        """Listen on a free port; ``fake``'s ``apps.connections.open`` now issues URLs
        of this server (it still refuses a wrong app-level token)."""
        self._server = serve(self._serve, "127.0.0.1", 0, process_request=self._check_ticket)
        threading.Thread(target=self._server.serve_forever, name="SlackSocket", daemon=True).start()
        self.fake._methods["apps.connections.open"] = self._open
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> SlackSocket:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open(self, _args: dict[str, Any]) -> dict[str, Any]:
        """``apps.connections.open``: a new URL, its ticket good for one connection."""
        assert self._server is not None, "SlackSocket is not started"
        port = self._server.socket.getsockname()[1]
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{port}/link/?ticket={ticket}&app_id={self.fake.app_id}"}

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Handshake | None:
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self._lock:
            if ticket in self._tickets:
                self._tickets.discard(ticket)
                return None
        self.fake.log("[slack] a Socket Mode connection with an unknown or used ticket")
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")

    def _serve(self, connection: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": len(self._live) + 1,
            "connection_info": {"app_id": self.fake.app_id},
            "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
        }
        connection.send(json.dumps(hello))
        with self._lock:
            self.connections += 1
            self._live.append(connection)
            self._lock.notify_all()
        with contextlib.suppress(ConnectionClosed):
            for text in connection:
                message = json.loads(text)
                with self._lock:
                    self._acks[message.get("envelope_id", "")] = message
                    self._lock.notify_all()
        with self._lock:
            if connection in self._live:
                self._live.remove(connection)
            self._lock.notify_all()

    # ---- what Slack does ---------------------------------------------------------------

    @property
    def connected(self) -> int:
        """How many connections are open and not retired."""
        with self._lock:
            return len(self._live)

    def wait_connections(self, count: int, timeout: float = 10.0) -> None:
        """Wait until :attr:`connections` reaches ``count`` (``TimeoutError``)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.connections >= count, timeout):
                raise TimeoutError(f"{self.connections} Socket Mode connections, not {count}")

    def request(
        self, kind: str, payload: dict[str, Any], *, answered: bool, timeout: float = 10.0
    ) -> Ack:
        """Send an envelope of type ``kind`` (``slash_commands``, ``interactive``,
        ``events_api``) carrying ``payload`` on the newest live connection (waiting for
        one, as Slack holds a payload while the app has none) and wait for its ack.
        ``answered``: the envelope's ``accepts_response_payload``.

        :raises TimeoutError: no connection, or no ack, within ``timeout`` seconds.
        """
        started = time.monotonic()
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": answered,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        with self._lock:
            if not self._lock.wait_for(lambda: self._live, timeout):
                raise TimeoutError("the app has no Socket Mode connection")
            connection = self._live[-1]
        with contextlib.suppress(ConnectionClosed):  # then it is never acked
            connection.send(json.dumps(envelope))
        left = timeout - (time.monotonic() - started)
        with self._lock:
            if not self._lock.wait_for(lambda: envelope_id in self._acks, left):
                raise TimeoutError(f"the app did not ack the {kind} envelope within {timeout} s")
            ack = self._acks.pop(envelope_id)
        return Ack(ack.get("payload") or {}, time.monotonic() - started)

    def refresh(self, reason: str = "refresh_requested") -> None:
        """Send ``disconnect`` on the newest live connection, and retire it: Slack
        sends the app nothing more there (it is the app's to close)."""
        with self._lock:
            connection = self._live.pop()
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        connection.send(json.dumps(message))

    def drop(self) -> None:
        """End the newest live connection's TCP, without a disconnect message or a close
        frame (a network failure, a Slack host gone)."""
        with self._lock:
            connection = self._live.pop()
        with contextlib.suppress(OSError):
            connection.socket.shutdown(socket.SHUT_RDWR)


class SocketUser(SlackUser):
    """A person whose Slack reaches the bot over ``slack_socket``:
    ``SocketUser(fake, user_id, slack_socket)``. Every request a
    :class:`~sim.people.SlackUser` would POST is sent as an envelope instead; the
    :class:`~sim.people.Response` is 200 with the ack's payload as its JSON body
    (empty without one), or :class:`TimeoutError` when no ack comes."""

    def __init__(self, fake: FakeSlack, user_id: str, slack_socket: SlackSocket) -> None:
        super().__init__(fake, user_id, bot_url="socket-mode:", signing_secret="")
        self.slack_socket = slack_socket

    def post_raw(self, body: bytes, content_type: str, **_http: Any) -> Response:
        """Send ``body`` (a slash command's form, an interaction's ``payload=`` form or
        an Events API JSON body) as the envelope Slack sends for it; the signature
        arguments of HTTP have no part in Socket Mode."""
        if content_type != FORM:
            kind, payload, answered = "events_api", json.loads(body), False
        else:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            if "payload" in form:
                payload = json.loads(form["payload"])
                kind, answered = "interactive", payload.get("type") in _ANSWERED
            else:
                kind, payload, answered = "slash_commands", form, True
        if self.on_send is not None:
            self.on_send()
        ack = self.slack_socket.request(kind, payload, answered=answered, timeout=self.timeout)
        text = json.dumps(ack.payload) if ack.payload else ""
        return Response(200, text, {"Content-Type": "application/json"}, ack.elapsed)
