"""A running jitbot for scenario tests: the real Bolt app served over HTTP by waitress,
Slack's Web API faked by :class:`~sim.fake_slack.FakeSlack`, AWS by moto (the caller's
``mock_aws``), SQLite in a temporary folder, and the demo people as
:class:`~sim.people.SlackUser`\\ s.

Besides what ``SlackUser`` does, it builds by hand the payloads a real Slack client
would never send (forged modal submissions, clicks on a stale copy of a message), and
snapshots what people see and what AWS holds, so a test can say "nothing changed".
"""

from __future__ import annotations

import contextlib
import copy
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot import ids
from bot.http import make_server
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from sim.aws_world import DemoWorld, assignments
from sim.demo_setup import PEOPLE
from sim.fake_slack import Ephemeral, FakeSlack, Message, blocks_to_text
from sim.people import Response, SlackUser
from workflows.assignments import Assignment
from workflows.config import Config
from workflows.domain import AccessRequest, MessageRole
from workflows.states import Status

#: A person in Slack whose email has no Identity Center user.
ZED = ("U07ZED", "zed@example.com", "Zed Zero")
JUSTIFICATION = "Investigating failed deploys in OPS-1234"
FORM = "application/x-www-form-urlencoded"


def text_of(message: Message) -> str:
    """What a person reads in a message: its text and its blocks, flattened."""
    return f"{message.text}\n{blocks_to_text(message.blocks)}"


def view_text(view: dict[str, Any]) -> str:
    return blocks_to_text(view.get("blocks") or [])


def has_block(view: dict[str, Any] | None, block_id: str) -> bool:
    return bool(view) and any(b.get("block_id") == block_id for b in view.get("blocks", []))


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    """The action ids of the buttons in ``blocks``, in order."""
    return [
        element.get("action_id", "")
        for block in blocks
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]
        if isinstance(element, dict) and element.get("type") == "button"
    ]


def action_ids(message: Message) -> list[str]:
    return buttons(message.blocks)


@dataclass
class Bot:
    """One running bot and the workspace around it."""

    fake: FakeSlack
    rt: Runtime
    world: DemoWorld
    url: str
    secret: str
    #: ``(method, error)`` of Web API refusals a test provoked on purpose.
    expected_refusals: list[tuple[str, str]] = field(default_factory=list)

    # ---- people ----------------------------------------------------------------

    def user(self, name: str) -> SlackUser:
        """``alice``, ``oscar``, ``olga``, ``sam``, ``ada``, ``bob`` or ``zed``."""
        user_id = ZED[0] if name == "zed" else PEOPLE[f"{name}@example.com"][0]
        return SlackUser(self.fake, user_id, bot_url=self.url, signing_secret=self.secret)

    @property
    def sandbox(self) -> str:
        return self.world.accounts["Sandbox"]

    @property
    def production(self) -> str:
        return self.world.accounts["Production"]

    # ---- the request modal -------------------------------------------------------

    def open_form(
        self, user: SlackUser, *, title: str = "Request AWS access", text: str = ""
    ) -> dict[str, Any]:
        """Type ``/jit text`` and wait for a new modal titled ``title``."""
        before = user.latest_view()
        before_id = before["id"] if before else None
        response = user.slash("/jit", text)
        assert response.status == 200, response.body

        def opened() -> dict[str, Any] | None:
            view = user.latest_view()
            if view and view["id"] != before_id and view["title"]["text"] == title:
                return view
            return None

        return self.fake.wait_for(opened)

    def next_modal(
        self, user: SlackUser, before: dict[str, Any] | None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait for a modal for ``user`` other than ``before`` (the latest one until now)."""
        before_id = before["id"] if before else None

        def opened() -> dict[str, Any] | None:
            view = user.latest_view()
            return view if view and view["id"] != before_id else None

        return self.fake.wait_for(opened, timeout)

    def choose_account(self, user: SlackUser, view: dict[str, Any], account: str) -> dict[str, Any]:
        """Pick ``account`` (an id) and wait for the permission set input it brings."""
        assert user.select_in_view(view, ids.ACTION_ACCOUNT, account).status == 200

        def updated() -> dict[str, Any] | None:
            current = self.fake.view(view["id"])
            if not has_block(current, ids.BLOCK_PERMISSION_SET):
                return None
            chosen = current["blocks"][0]["element"].get("initial_option") or {}
            return current if chosen.get("value") == account else None

        return self.fake.wait_for(updated)

    def request_access(
        self,
        who: str = "alice",
        *,
        account: str = "Sandbox",
        permission_set: str = "ReadOnlyAccess",
        duration: str = "1h",
        justification: str = JUSTIFICATION,
    ) -> AccessRequest:
        """The whole form, as a person fills it; returns the stored request once every
        thread root was posted."""
        user = self.user(who)
        known = {r.id for r in self.requests(user.user_id)}
        view = self.choose_account(user, self.open_form(user), self.world.accounts[account])
        response = user.submit(
            view,
            {
                ids.ACTION_PERMISSION_SET: permission_set,
                ids.ACTION_DURATION: duration,
                ids.ACTION_JUSTIFICATION: justification,
            },
        )
        assert response.status == 200 and response.body == "", response.body
        assert response.problems == [], response.problems

        def stored() -> AccessRequest | None:
            for request in self.requests(user.user_id):
                if request.id not in known and len(request.messages) == 1 + len(request.approvers):
                    return request
            return None

        return self.fake.wait_for(stored)

    # ---- the store and AWS -------------------------------------------------------

    def requests(self, slack_id: str) -> list[AccessRequest]:
        return self.rt.store.requests_of(slack_id, 100)

    def all_requests(self) -> list[AccessRequest]:
        found = [r for status in Status for r in self.rt.store.with_status(status)]
        return sorted(found, key=lambda r: r.id)

    def get(self, request_id: int) -> AccessRequest:
        request = self.rt.store.get(request_id)
        assert request is not None
        return request

    def wait_status(self, request_id: int, status: Status, timeout: float = 5.0) -> AccessRequest:
        def reached() -> AccessRequest | None:
            request = self.get(request_id)
            return request if request.status == status else None

        return self.fake.wait_for(reached, timeout)

    def assigned(self, request: AccessRequest) -> bool:
        """Whether AWS (moto) holds the request's account assignment now."""
        return self.rt.aws.has_assignment(
            Assignment(request.account_id, request.permission_set_arn, request.principal_id)
        )

    # ---- what people see -----------------------------------------------------------

    def root(self, request: AccessRequest, who: str) -> Message:
        """The root of ``who``'s thread about ``request`` (live)."""
        user_id = self.user(who).user_id
        refs = [r for r in self.get(request.id).messages if r.slack_user_id == user_id]
        assert len(refs) == 1, f"{who} has {len(refs)} roots for request #{request.id}"
        message = self.fake.message(refs[0].channel, refs[0].ts)
        assert message is not None
        return message

    def roots(self, request: AccessRequest, role: MessageRole | None = None) -> list[Message]:
        found = []
        for ref in self.get(request.id).messages:
            if role is None or ref.role == role:
                message = self.fake.message(ref.channel, ref.ts)
                assert message is not None
                found.append(message)
        return found

    def replies(self, root: Message) -> list[str]:
        return [m.text for m in self.fake.thread(root.channel, root.ts)[1:]]

    def wait_reply(self, root: Message, words: str, timeout: float = 5.0) -> str:
        return self.fake.wait_for(
            lambda: next((t for t in self.replies(root) if words in t), None), timeout
        )

    def wait_ephemeral(self, user: SlackUser, count: int, timeout: float = 5.0) -> str:
        """The text of ``user``'s ephemeral number ``count`` (1-based), once shown."""

        def shown() -> list[Ephemeral] | None:
            found = self.fake.ephemerals(user.user_id)
            return found if len(found) >= count else None

        return self.fake.wait_for(shown, timeout)[count - 1].text

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until the bot has finished what it was doing: no new Slack Web API call
        for ``quiet`` seconds (and, once there is one, the outbox is empty). Use before
        asserting that something happened exactly once."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.fake.calls)
            idle = getattr(self.rt, "outbox_idle", lambda: True)()
            if count != seen or not idle:
                seen, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.02)
        raise AssertionError(f"the bot did not settle within {timeout} s")

    def snapshot(self) -> dict[str, Any]:
        """Everything a refused action must leave alone: requests (status, reviews,
        session), AWS assignments, messages and threads, modals, homes."""
        return {
            "requests": [
                (r.id, r.status, r.reviews, r.session, r.approvers) for r in self.all_requests()
            ],
            "audit": len(self.rt.store.audit_events()),
            "aws": assignments(self.world),
            "messages": [
                (m.channel, m.ts, m.thread_ts, m.text, json.dumps(m.blocks), len(m.updates))
                for m in self.fake.messages
            ],
            "views": json.dumps(
                {k: {**v, "state": None} for k, v in self.fake.views.items()}, sort_keys=True
            ),
        }

    # ---- payloads a Slack client would not send --------------------------------------

    def envelope(self, user: SlackUser, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": {
                "id": user.user_id,
                "username": user.name,
                "name": user.name,
                "team_id": self.fake.team_id,
            },
            "api_app_id": self.fake.app_id,
            "token": "fake-verification-token",
            "team": {"id": self.fake.team_id, "domain": "fake-workspace"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def post_interaction(self, user: SlackUser, payload: dict[str, Any]) -> Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return user.post_raw(body, FORM)

    def forge_submission(
        self, user: SlackUser, view: dict[str, Any], state: dict[str, Any]
    ) -> Response:
        """A ``view_submission`` of ``view`` carrying ``state`` as is (options no client
        would offer, a form the person never saw)."""
        sent = copy.deepcopy(view)
        sent.pop("user_id", None)
        sent["state"] = {"values": state}
        payload = {
            **self.envelope(user, "view_submission"),
            "trigger_id": self.fake.new_trigger_id(user.user_id),
            "view": sent,
            "response_urls": [],
        }
        return self.post_interaction(user, payload)

    def click_stale(self, user: SlackUser, message: Message, action_id: str) -> Response:
        """Click ``action_id`` on ``message`` as it looked when first posted (a client
        that has not caught up with ``chat.update`` yet)."""
        assert message.user_id_of_dm == user.user_id, "only the DM's owner sees it"
        blocks = message.updates[0]["blocks"] if message.updates else message.blocks
        element, block_id = next(
            (el, block.get("block_id"))
            for block in blocks
            for el in block.get("elements") or []
            if el.get("action_id") == action_id
        )
        payload = {
            **self.envelope(user, "block_actions"),
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            "trigger_id": self.fake.new_trigger_id(user.user_id),
            "channel": {"id": message.channel, "name": "directmessage"},
            "message": {**self.fake.message_payload(message), "blocks": copy.deepcopy(blocks)},
            "state": {"values": {}},
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": element.get("value"),
                    "text": copy.deepcopy(element.get("text")),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.post_interaction(user, payload)

    # ---- Web API hygiene -----------------------------------------------------------

    def expect_refusal(self, method: str, error: str) -> None:
        """A test provokes this Web API refusal on purpose (once per call)."""
        self.expected_refusals.append((method, error))

    def unexpected_refusals(self) -> list[str]:
        """Web API calls the fake refused (Block Kit checks, bad arguments, expired
        triggers...) that no test announced."""
        expected = list(self.expected_refusals)
        found = []
        for call in self.fake.calls:
            if call.response.get("ok"):
                continue
            key = (call.method, str(call.response.get("error")))
            if key in expected:
                expected.remove(key)
            else:
                found.append(f"{call.method}: {call.response}")
        return found


@contextmanager
def running_bot(
    world: DemoWorld, tmp_path: Path, config: Config, *, outbox_max_backoff: float = 30.0
) -> Iterator[Bot]:
    """Start the fake Slack (the demo people and Zed in it) and the bot on ``config``;
    stop both afterwards. AWS must already be mocked. The scheduler is not started.
    ``outbox_max_backoff`` (seconds) is ``JITBOT_OUTBOX_MAX_BACKOFF``."""
    fake = FakeSlack().start()
    server = None
    rt: Runtime | None = None
    try:
        for email, (user_id, name) in PEOPLE.items():
            fake.add_user(user_id, email, name)
        fake.add_user(ZED[0], ZED[1], ZED[2])
        secret = secrets.token_hex(16)
        settings = Settings(
            slack_bot_token=fake.token,
            slack_signing_secret=secret,
            slack_api_url=fake.url,
            database_url=f"sqlite:///{tmp_path}/j.db",
            jitbot_config=tmp_path / "jitbot.yml",
            jitbot_outbox_max_backoff=outbox_max_backoff,
        )
        rt = build_runtime(settings, config)
        server = make_server(rt, "127.0.0.1", 0)

        def serve() -> None:
            # close() from the test thread may end a select() in progress with EBADF
            with contextlib.suppress(OSError):
                server.run()

        threading.Thread(target=serve, name="jitbot-http", daemon=True).start()
        url = f"http://127.0.0.1:{server.effective_port}/slack/events"
        yield Bot(fake=fake, rt=rt, world=world, url=url, secret=secret)
    finally:
        if server is not None:
            server.close()  # its loop thread notices within a second; it is a daemon
        if rt is not None:
            # Listeners run after the ack in Bolt's thread pool: let the last ones finish
            # while Slack and AWS are still there.
            rt.close()
        fake.stop()
