"""The payload guards both transports share: a Bolt middleware, first in the app, that
refuses a payload the listeners would choke on and drops a redelivery of one already
taken, over HTTP (``/slack/events``) and over the Socket Mode websocket alike.

HTTP answers a refusal 400 with the reason and a redelivery 200 with
``X-Slack-No-Retry: 1``. Socket Mode has no status: only an envelope that is acked is
not sent again (https://docs.slack.dev/apis/events-api/using-socket-mode/), and Bolt's
Socket Mode adapters ack only a 200, so there both are answered 200 (an empty ack) and
dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

log = logging.getLogger("jitbot.guards")

#: How long a taken payload is remembered: Slack's signatures are accepted for 5
#: minutes ("Verifying requests from Slack"), plus a minute of clock skew between
#: replicas; Slack's Events API retries come within minutes too
#: (https://docs.slack.dev/apis/events-api/#retries).
REPLAY_WINDOW = timedelta(minutes=6)

#: ``remember(digest, now, until) -> bool``: True when the digest is new
#: (:meth:`storage.store.SqlStore.remember_delivery`).
Remember = Callable[[str, datetime, datetime], bool]


def malformed_payload(body: object) -> str | None:
    """What is wrong with a parsed payload (``BoltRequest.body``) that Bolt's listeners
    would choke on, else None: not a JSON object, or ``block_actions`` without an action
    (Bolt reads ``actions[0]``)."""
    if not isinstance(body, dict):
        return "payload is not a JSON object"
    if body.get("type") == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
            return "block_actions without an action"
    return None


def payload_digest(request: BoltRequest) -> str:
    """Hex SHA-256 of what Slack delivered: over HTTP the body's bytes as signed (the
    UTF-8 text Bolt keeps in ``raw_body``), in Socket Mode the envelope's payload as
    canonical JSON (sorted keys), which a redelivery repeats exactly."""
    if request.raw_body:
        data = request.raw_body.encode("utf-8")
    else:
        data = json.dumps(request.body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def taken_before(
    request: BoltRequest, remember: Remember, now: datetime, window: timedelta = REPLAY_WINDOW
) -> bool:
    """True when some replica already took this very payload within ``window`` (a
    replayed capture, or Slack's own retry). Options requests (``block_suggestion``)
    change nothing and repeat legitimately (the same person typing the same query
    twice), so they are not remembered. ``now`` is UTC."""
    if request.body.get("type") == "block_suggestion":
        return False
    return not remember(payload_digest(request), now, now + window)


def _socket_mode(request: BoltRequest) -> bool:
    return request.mode == "socket_mode"


class PayloadGuard(Middleware):
    """The guards as a Bolt middleware (a :class:`slack_bolt.middleware.Middleware`, not
    a function: Bolt builds a function middleware's arguments from the payload first,
    ``action`` included, and that is the ``actions[0]`` IndexError this refuses)."""

    def __init__(self, remember: Remember, clock: Callable[[], datetime]) -> None:
        self._remember = remember
        self._clock = clock

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        """A refusal or a drop as :func:`register` says, else the rest of the chain."""
        problem = malformed_payload(req.body)
        if problem is not None:
            log.warning("refused a malformed Slack request: %s", problem)
            if _socket_mode(req):
                return BoltResponse(status=200, body="")
            return BoltResponse(status=400, body=problem, headers={"content-type": "text/plain"})
        if taken_before(req, self._remember, self._clock()):
            retried = _first(req.headers.get("x-slack-retry-num"))
            what = f"Slack's retry {retried}" if retried else "a replay"
            log.warning("dropped %s of a request already taken", what)
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        return next()


def register(app: App, remember: Remember, clock: Callable[[], datetime]) -> None:
    """Put the guards in front of everything else of ``app`` (call before the gate and
    the listeners): a malformed payload is a 400 (HTTP) or an empty ack (Socket Mode),
    never a listener's IndexError; a payload taken before is a 200 with
    ``X-Slack-No-Retry: 1`` (HTTP) or an empty ack, and nothing else happens.
    ``remember`` is :data:`Remember`; ``clock`` gives UTC now."""
    app.use(PayloadGuard(remember, clock))


def _first(values: Any) -> str | None:
    """The first value of a Bolt header (a list of strings), or None."""
    if isinstance(values, (list, tuple)):
        return values[0] if values else None
    return values
