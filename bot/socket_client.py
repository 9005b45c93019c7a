"""Socket Mode's connection to Slack: slack_sdk's websocket-client based client
(``slack_sdk.socket_mode.websocket_client``, on the ``websocket-client`` package), not
the built-in one, with Bolt's Socket Mode handling.

Why not slack_sdk's built-in client (``slack_sdk.socket_mode.builtin``): after Slack's
``disconnect`` message it opens the new connection, then closes the old one waiting up to
3 s on that connection's receive lock, reading nothing from the new one meanwhile: the
first envelope after each refresh is acked about 3 s late (measured 3.1 s here, 2.6-2.9 s
by issue 17), against Slack's 3 s for an ack and a ``trigger_id``. After a TCP
connection that just ends, it reconnects only once five pings have failed (56 s here).
The aiohttp and websockets clients need Bolt's AsyncApp; jitbot's app is sync.

The websocket-client client as slack_sdk ships it reads the new connection 0.5 s after a
``disconnect``, but 10 s late one time in three or four: the thread handling
``disconnect`` closes the old connection, reading the close answer itself and closing
the socket under that connection's reader, which then waits out its ``select()``
(websocket-client's 10 s without a ``ping_timeout``). Changed here:

- a replaced connection is only sent the close frame; its own reader takes the answer
  and ends, and goes straight on to the new connection (not at its next half-second);
- the reader has a ``ping_timeout`` (:data:`PING_TIMEOUT`): a connection whose pongs stop
  is given up, and no ``select()`` waits longer than that;
- the close of a connection already replaced opens no other one, and the client's
  monitor first looks one ping interval after start (the library's first look, before
  the first connection is open, opened a second one at every start).

Measured (a local server, ``sim.slack_socket``): an envelope sent right after a refresh
``disconnect``, or right after the TCP connection is cut, is acked in 0.02-0.03 s.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk import WebClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websocket_client import SocketModeClient

__all__ = ["PING_INTERVAL", "PING_TIMEOUT", "SocketModeHandler"]

#: seconds between the client's pings to Slack (also how often the client checks that it
#: has a connection at all)
PING_INTERVAL = 5.0
#: seconds a pong may take before the connection counts as dead and a new one is opened;
#: also the longest the reader of a connection closed under it waits before it notices
PING_TIMEOUT = 1.0


class _Client(SocketModeClient):
    """slack_sdk's websocket-client Socket Mode client with the changes of the module
    docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the connection (a ``WebSocketApp``) the reader thread is reading now
        self._reading: Any = None
        # The library starts its monitor in connect(), and the monitor's first look,
        # before the reader has opened the connection, finds none and opens another:
        # two URLs issued and one connection wasted at every start. Start it one
        # interval later instead.
        self.current_app_monitor_started = True
        self._monitor_timer = threading.Timer(self.ping_interval, self._start_monitor)
        self._monitor_timer.daemon = True

    def _start_monitor(self) -> None:
        if not self.closed and self.current_app_monitor.thread is not None:
            self.current_app_monitor.start()

    def connect(self) -> None:
        """Open a new connection (issuing a URL first when the client has none), then
        retire the one it replaces."""
        old, self.current_session = self.current_session, None
        super().connect()  # with no current session, it closes none
        if old is not None:
            _retire(old)
        if not self._monitor_timer.is_alive() and not self.current_app_monitor.is_alive():
            with contextlib.suppress(RuntimeError):  # started once already
                self._monitor_timer.start()

    def close(self) -> None:
        """Close the connection and stop the client's threads."""
        self._monitor_timer.cancel()
        super().close()

    def is_connected(self) -> bool:
        """True while a connection is open, and while the one that has just replaced it
        waits for the reader: the library asks this before it reconnects, and the close
        of a replaced connection is no reason to open yet another one."""
        session = self.current_session
        return session is not None and (session.sock is not None or session is not self._reading)

    def is_open(self) -> bool:
        """Whether a connection to Slack is open now (for ``/healthz``)."""
        session = self.current_session
        return session is not None and session.sock is not None and session.sock.connected

    def _run_current_session(self) -> None:
        # slack_sdk runs this every 0.5 s in a thread of its own. The library's method
        # reads the current connection until it ends; this one also gives it a
        # ping_timeout, and goes straight on to the connection that replaced it
        # (``connect()`` swaps in the new one before it closes the old one) instead of
        # waiting out the 0.5 s first.
        session = self.current_session
        while session is not None and not self.closed:
            self._reading = session
            try:
                session.run_forever(
                    ping_interval=self.ping_interval,
                    ping_timeout=PING_TIMEOUT,
                    http_proxy_host=self.http_proxy_host,
                    http_proxy_port=self.http_proxy_port,
                    http_proxy_auth=self.http_proxy_auth,
                    proxy_type=self.proxy_type,
                )
            except Exception:
                self.logger.exception("Socket Mode: reading the connection failed")
                session.close()  # the client's monitor opens a new one
                return
            if self.current_session is session:
                return  # not replaced (yet): the monitor reconnects
            session = self.current_session


class SocketModeHandler(BaseSocketModeHandler):
    """Bolt's Socket Mode handler on :class:`_Client`:
    ``SocketModeHandler(app, app_token, web_client)``; ``connect()`` returns once the
    first connection is being opened, ``close()`` ends it and the client's threads
    (within about :data:`PING_TIMEOUT` plus a second). ``client.is_connected()`` says
    whether a connection to Slack is open now."""

    app: App
    client: _Client

    def __init__(self, app: App, app_token: str, web_client: WebClient) -> None:
        self.app = app
        self.client = _Client(
            app_token=app_token,
            logger=app.logger,
            web_client=web_client,
            ping_interval=PING_INTERVAL,
        )
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        """Run the envelope through the Bolt app and send its ack (Bolt's own steps)."""
        started = time.time()
        send_response(client, req, run_bolt_app(self.app, req), started)


def _retire(session: Any) -> None:
    """Close a replaced connection (a ``WebSocketApp``) from another thread without
    reading it: send the close frame and let the connection's reader take the answer
    and end (the library's ``close()`` reads the answer here, closes the socket under
    the reader, and the reader then waits out its ``select()``)."""
    session.keep_running = False
    sock = session.sock
    if sock is not None:
        with contextlib.suppress(Exception):  # already gone: its reader has ended too
            sock.send_close()
