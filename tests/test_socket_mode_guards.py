"""The payload guards (:mod:`bot.guards`) in Socket Mode as in HTTP: a ``block_actions``
without an action is acked (Socket Mode) or a 400 (HTTP), never a listener's
IndexError; a redelivered payload is acked and dropped."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from bot import guards
from sim.fake_slack import FakeSlack

CLICK = {
    "type": "block_actions",
    "user": {"id": "U01ALICE"},
    "team": {"id": "T0FAKE"},
    "actions": [{"action_id": "approve_request", "block_id": "b", "value": "1"}],
}


def app_counting_clicks(fake: FakeSlack) -> tuple[App, list[str]]:
    seen: set[str] = set()

    def remember(digest: str, _now: datetime, _until: datetime) -> bool:
        new = digest not in seen
        seen.add(digest)
        return new

    client = WebClient(base_url=fake.url, token=fake.token)  # Bolt's auth.test
    app = App(client=client, request_verification_enabled=False)
    guards.register(app, remember, lambda: datetime(2026, 12, 3, tzinfo=UTC))
    clicks: list[str] = []

    @app.action("approve_request")
    def approve(ack, body) -> None:  # noqa: ANN001 - Bolt's injection
        ack()
        clicks.append(body["actions"][0]["value"])

    return app, clicks


def test_socket_mode_acks_a_block_actions_without_an_action() -> None:
    with FakeSlack() as fake:
        app, clicks = app_counting_clicks(fake)
        answer = app.dispatch(BoltRequest(mode="socket_mode", body={**CLICK, "actions": []}))
    assert answer.status == 200 and clicks == []


def test_socket_mode_drops_a_redelivery() -> None:
    with FakeSlack() as fake:
        app, clicks = app_counting_clicks(fake)
        first = app.dispatch(BoltRequest(mode="socket_mode", body=dict(CLICK)))
        again = app.dispatch(BoltRequest(mode="socket_mode", body=dict(CLICK)))
    assert first.status == again.status == 200
    assert clicks == ["1"], "the redelivered click did nothing"
