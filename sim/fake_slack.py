"""A real HTTP fake of Slack's Web API, for end-to-end tests and ``jitbot demo``.

:class:`FakeSlack` runs a small threaded HTTP server on 127.0.0.1 that answers
``POST``/``GET /api/<method>`` the way ``https://slack.com/api/`` does, so a real
``slack_sdk.WebClient(base_url=fake.url)`` (and therefore a slack_bolt app) can talk to it.
It keeps a users directory, DM channels, messages and threads, ephemeral messages, modals
and App Home views, checks required arguments and Block Kit limits, and records every call
and a human-readable transcript. It also serves working ``response_url``s
(``/response/<key>``, issued by :meth:`FakeSlack.register_response_url`) so ``respond()``
from a bolt listener lands as an ephemeral, an in-channel message or an edit of the original.

The pieces, one concern each: ``sim.slack_state`` (the workspace), ``sim.slack_chat`` and
``sim.slack_views_api`` (the methods), ``sim.slack_interactions`` (answers to
interactions), ``sim.slack_usergroups`` (user groups), ``sim.slack_http`` (server and dispatch), ``sim.slack_faults`` (outages and
429s), ``sim.blockkit`` (Block Kit checks), ``sim.transcript``. Standard library only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import TypeVar

from sim.blockkit import block_kit_problems, view_problems
from sim.blockkit_types import Surface
from sim.blocks_text import blocks_to_text
from sim.slack_channels import ChannelMethods
from sim.slack_faults import Failure
from sim.slack_http import Method, WebApiDispatch, start_server
from sim.slack_interactions import InteractionAnswers
from sim.slack_records import Call, Ephemeral, Message, SlackUserRecord
from sim.slack_usergroups import UserGroupMethods
from sim.slack_views_api import ViewMethods

__all__ = [
    "Call",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "SlackUserRecord",
    "Surface",
    "block_kit_problems",
    "blocks_to_text",
    "view_problems",
]

T = TypeVar("T")


class FakeSlack(ChannelMethods, InteractionAnswers, ViewMethods, UserGroupMethods, WebApiDispatch):
    """An in-process HTTP fake of Slack's Web API (see the module docstring).

    Use as a context manager, or call :meth:`start`/:meth:`stop`. Point a
    ``slack_sdk.WebClient(base_url=fake.url, token=fake.token)`` at it.
    """

    def __init__(
        self,
        token: str = "xoxb-fake",
        team_id: str = "T0FAKE",
        *,
        bot_name: str = "jitbot",
        bot_user_id: str = "U0JITBOT",
        bot_id: str = "B0JITBOT",
        app_id: str = "A0JITBOT",
        enterprise_id: str | None = None,
        team_name: str = "Fake Workspace",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            token,
            team_id,
            bot_name=bot_name,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            enterprise_id=enterprise_id,
            team_name=team_name,
            clock=clock,
        )
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _method_table(self) -> dict[str, Method]:
        return {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "apps.connections.open": self._apps_connections_open,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
        }

    #: the app-level token ``apps.connections.open`` accepts (Socket Mode)
    app_token = "xapp-fake"
    #: the websocket URL ``apps.connections.open`` issues (a Socket Mode server sets it)
    socket_url = "ws://127.0.0.1:9/link/"

    def _apps_connections_open(self, args: dict[str, object]) -> dict[str, object]:
        return {"url": self.socket_url}

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Start serving on 127.0.0.1 and a free port (idempotent)."""
        if self._server is None:
            self._server, self._thread = start_server(self)
        return self

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>`` (the server must be started)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """Web API base URL, for ``WebClient(base_url=...)``."""
        return f"{self.base}/api/"

    # ---- failure injection -----------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail.

        With ``error``: HTTP 200 ``{"ok": false, "error": error}``. Otherwise HTTP ``status``:
        429 carries ``Retry-After: retry_after`` and ``error: ratelimited``; 5xx ``fatal_error``.
        """
        self._faults.fail_next(method, Failure(status, error, retry_after), times)

    def go_down(self, *, status: int = 503, retry_after: int = 1) -> None:
        """Slack's API is down: every Web API call answers HTTP ``status`` (429 with
        ``Retry-After: retry_after``) until :meth:`come_back`."""
        self._faults.go_down(Failure(status, None, retry_after))
        self.log(f"[slack] the Web API is down (HTTP {status})")

    def come_back(self) -> None:
        """End an outage started by :meth:`go_down`."""
        self._faults.come_back()
        self.log("[slack] the Web API is back")

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02
    ) -> T:
        """Poll ``predicate`` until it returns something truthy, and return that.

        Raises ``TimeoutError`` (with the transcript's tail) after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                tail = "\n  ".join(self.transcript()[-15:])
                raise TimeoutError(
                    f"condition not met within {timeout}s; transcript tail:\n  {tail}"
                )
            time.sleep(interval)
