"""The transport of a simulated person's Slack client: requests to the bot's request URL
signed like Slack's servers sign them (v0: ``X-Slack-Request-Timestamp`` and
``X-Slack-Signature``, https://docs.slack.dev/authentication/verifying-requests-from-slack),
and the bot's answer as a :class:`Response`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

from sim.fake_slack import FakeSlack

__all__ = ["FORM", "SLACK_TIMEOUT_SECONDS", "VERIFICATION_TOKEN", "Response", "SignedSender"]

VERIFICATION_TOKEN = "fake-verification-token"
SLACK_TIMEOUT_SECONDS = 3.0
FORM = "application/x-www-form-urlencoded"


@dataclass
class Response:
    """The bot's HTTP answer to one request."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    #: For view submissions: what Slack would have shown instead of applying the answer.
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed as JSON (``{}`` for an empty body)."""
        return json.loads(self.body) if self.body.strip() else {}


class SignedSender:
    """A person in the fake workspace whose Slack client POSTs signed payloads to the bot
    at ``bot_url`` (the base of :class:`~sim.people.SlackUser`)."""

    def __init__(
        self,
        fake: FakeSlack,
        user_id: str,
        *,
        bot_url: str,
        signing_secret: str,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        record = fake.users.get(user_id)
        if record is None:
            raise ValueError(f"{user_id} is not in the fake's directory; call fake.add_user first")
        self.fake = fake
        self.user_id = user_id
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        #: the team and org Slack's payloads name for this person: by default their own
        #: (``team_id``/``enterprise_id`` of their record, else the fake's workspace)
        self.team_id = team_id or record.team_id or fake.team_id
        self.enterprise_id = enterprise_id or (
            record.enterprise_id if record.team_id else record.enterprise_id or fake.enterprise_id
        )
        self.timeout = timeout
        #: called with no arguments right before each request's bytes are sent, after
        #: its payload is built and signed (a benchmark starts its clock here: building
        #: the payload is Slack's work, not the bot's)
        self.on_send: Callable[[], None] | None = None

    @property
    def name(self) -> str:
        """The person's handle, e.g. ``alice``."""
        return self.fake.user_name(self.user_id)

    # ---- transport -----------------------------------------------------------------

    def post_raw(
        self,
        body: bytes,
        content_type: str,
        *,
        sign: bool = True,
        secret: str | None = None,
        timestamp: int | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """POST ``body`` to the bot, signed like Slack (unless ``sign=False``).

        ``secret`` and ``timestamp`` override the signing secret and request time, so tests
        can send bad or stale signatures. HTTP errors are returned, not raised.
        """
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": ts,
        }
        if sign:
            verifier = SignatureVerifier(secret if secret is not None else self.signing_secret)
            signature = verifier.generate_signature(timestamp=ts, body=body)
            all_headers["X-Slack-Signature"] = signature or ""
        all_headers.update(headers or {})
        url = urlsplit(self.bot_url)
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = kind(url.hostname or "", url.port, timeout=self.timeout)
        if self.on_send is not None:
            self.on_send()
        started = time.monotonic()
        try:
            # the app may answer before the body is all sent (413 for a body over its
            # limit) and close: its answer is still there to read
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.request("POST", path, body=body, headers=all_headers)
            answer = connection.getresponse()
            status, text = answer.status, answer.read().decode("utf-8", "replace")
            answer_headers = dict(answer.headers.items())
        finally:
            connection.close()
        elapsed = time.monotonic() - started
        if elapsed > SLACK_TIMEOUT_SECONDS:
            self.fake.log(
                f"[slack] the app took {elapsed:.1f}s to answer @{self.name} "
                "(Slack gives up after 3 s and shows an error)"
            )
        return Response(status, text, answer_headers, elapsed)

    def _interaction(self, payload: dict[str, Any]) -> Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post_raw(body, FORM)

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "username": self.name,
            "name": self.name,
            "team_id": self.team_id,
        }

    def _envelope(self, kind: str) -> dict[str, Any]:
        team: dict[str, Any] = {"id": self.team_id, "domain": "fake-workspace"}
        enterprise = None
        if self.enterprise_id:
            team["enterprise_id"] = self.enterprise_id
            enterprise = {"id": self.enterprise_id, "name": "Fake Org"}
        return {
            "type": kind,
            "user": self._user(),
            "api_app_id": self.fake.app_id,
            "token": VERIFICATION_TOKEN,
            "team": team,
            "enterprise": enterprise,
            "is_enterprise_install": False,
        }
