"""Tests for the HTTP fake of Slack's Web API and the simulated Slack client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sim.fake_slack import FakeSlack, block_kit_problems, blocks_to_text, view_problems
from sim.people import SlackClientError, SlackUser

SECRET = "test-signing-secret"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "Request AWS access", **extra: Any) -> dict[str, Any]:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("hello")],
    }
    view.update(extra)
    return view


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_user("UALICE", "alice@example.com", "Alice Doe", tz="Europe/Berlin")
        server.add_user("UOSCAR", "oscar@example.com", "Oscar Ops")
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.url, token=fake.token)


# ----------------------------------------------------------------------------------
# Web API
# ----------------------------------------------------------------------------------


def test_dm_round_trip(fake: FakeSlack, client: WebClient) -> None:
    assert client.auth_test()["user_id"] == fake.bot_user_id
    channel = client.conversations_open(users="UOSCAR")["channel"]["id"]
    assert channel.startswith("D")
    assert client.conversations_open(users="UOSCAR")["channel"]["id"] == channel

    buttons = {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Approve"}, "value": "1"},
            {"type": "button", "text": {"type": "plain_text", "text": "Reject"}, "value": "1"},
        ],
    }
    root = client.chat_postMessage(
        channel=channel, text="fallback", blocks=[section("<@UALICE> wants prod"), buttons]
    )
    assert root["channel"] == channel and root["message"]["text"] == "fallback"
    reply = client.chat_postMessage(channel=channel, thread_ts=root["ts"], text="Noted")
    assert float(reply["ts"]) > float(root["ts"])
    by_user = client.chat_postMessage(channel="UOSCAR", text="to the user id")
    assert by_user["channel"] == channel
    client.chat_update(channel=channel, ts=root["ts"], text="Approved by <@UOSCAR>", blocks=[])

    msg = fake.message(channel, root["ts"])
    assert msg is not None and msg.text.startswith("Approved") and msg.blocks == []
    assert len(msg.updates) == 1 and msg.updates[0]["text"] == "fallback"
    assert [m.ts for m in fake.thread(channel, root["ts"])] == [root["ts"], reply["ts"]]
    assert [m.ts for m in fake.dm_messages("UOSCAR")][:2] == [root["ts"], by_user["ts"]]
    assert fake.calls_to("chat.postMessage")[0].args["blocks"][0]["type"] == "section"
    form = client.api_call(
        "chat.postMessage", data={"channel": channel, "blocks": json.dumps([section("form")])}
    )
    assert fake.message(channel, form["ts"]).blocks[0]["text"]["text"] == "form"

    lines = fake.transcript()
    assert lines[0] == "[DM @oscar] jitbot: @alice wants prod / [Approve] [Reject]"
    assert lines[1] == f"[DM @oscar › thread {root['ts']}] jitbot: Noted"
    assert lines[3] == "[DM @oscar] (updated) Approved by @oscar"
    assert lines[4] == "[DM @oscar] jitbot: form"

    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=channel, thread_ts="1.000100", text="x")
    assert err.value.response["error"] == "thread_not_found"
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="UOSCAR", ts=root["ts"], text="x")
    assert err.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel=channel, ts="1.000200", text="x")
    assert err.value.response["error"] == "message_not_found"


def test_auth_and_unknown_method(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=fake.url, token="xoxb-wrong").auth_test()
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=fake.url, token=fake.token).api_call("chat.meMessage")
    assert err.value.response["error"] == "unknown_method"


def test_required_arguments(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.update", json={"channel": "DOSCAR"})
    assert err.value.response["error"] == "missing_argument"
    assert "ts" in err.value.response["detail"]
    for method, args in [
        ("users.info", {}),
        ("conversations.open", {}),
        ("views.update", {"view_id": "V1"}),
        ("views.update", {"view": modal()}),
    ]:
        with pytest.raises(SlackApiError) as err:
            client.api_call(method, json=args)
        assert err.value.response["error"] == "missing_argument", method
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.postMessage", json={"channel": "UALICE"})
    assert err.value.response["error"] == "no_text"


def test_message_with_51_blocks_is_refused(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="UALICE", text="x", blocks=[section("b")] * 51)
    assert err.value.response["error"] == "invalid_blocks"
    assert "no more than 50" in err.value.response["response_metadata"]["messages"][0]
    client.chat_postMessage(channel="UALICE", text="x", blocks=[section("b")] * 50)


def test_block_kit_problems_name_the_path() -> None:
    long_button = {
        "type": "actions",
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}}],
    }
    problems = block_kit_problems([section("ok"), long_button], surface="message")
    assert problems == [
        "[ERROR] must be at most 75 characters (got 76) "
        "[json-pointer:/blocks/1/elements/0/text/text]"
    ]
    assert block_kit_problems([section("x" * 3001)])
    assert block_kit_problems([{"type": "header", "text": {"type": "plain_text", "text": ""}}])
    assert block_kit_problems([{"type": "bogus"}])
    assert block_kit_problems([section("b")] * 100, surface="modal") == []
    assert block_kit_problems([section("b")] * 101, surface="home")
    options = [
        {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(101)
    ]
    select = {"type": "static_select", "action_id": "s", "options": options}
    assert "no more than 100" in block_kit_problems([{**section("p"), "accessory": select}])[0]
    dup = {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "A"}},
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "B"}},
        ],
    }
    assert "duplicate action_id" in block_kit_problems([dup])[0]
    assert view_problems(modal(private_metadata="x" * 3001))


def test_blocks_to_text() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Access request"}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": "*Account*"}, {"type": "mrkdwn", "text": "prod"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ref 42"}]},
        {"type": "divider"},
    ]
    assert blocks_to_text(blocks) == "Access request\n*Account* | prod\nref 42"


def test_modal_with_long_title_is_refused(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=fake.new_trigger_id("UALICE"), view=modal("x" * 25))
    assert err.value.response["error"] == "invalid_arguments"
    assert "/view/title/text" in err.value.response["response_metadata"]["messages"][0]


def test_trigger_ids_expire_and_are_single_use(
    fake: FakeSlack, client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(fake, "clock", lambda: now[0])
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="123.456.abc", view=modal())
    assert err.value.response["error"] == "invalid_trigger_id"

    stale = fake.new_trigger_id("UALICE")
    now[0] += 3.5
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=stale, view=modal())
    assert err.value.response["error"] == "expired_trigger_id"

    fresh = fake.new_trigger_id("UALICE")
    now[0] += 2.9
    opened = client.views_open(trigger_id=fresh, view=modal())["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    assert fake.latest_view("UALICE")["id"] == opened["id"]
    assert fake.transcript()[-1] == '[modal for @alice] opened "Request AWS access"'
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=fresh, view=modal())
    assert err.value.response["error"] == "exchanged_trigger_id"

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))
    assert updated["view"]["id"] == opened["id"] and updated["view"]["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 3"))
    assert err.value.response["error"] == "hash_conflict"


def test_views_publish_and_users(fake: FakeSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("Your access")]}
    first = client.views_publish(user_id="UALICE", view=home)["view"]
    second = client.views_publish(user_id="UALICE", view=home)["view"]
    assert first["id"] == second["id"] and fake.home("UALICE")["user_id"] == "UALICE"
    assert fake.transcript()[-1] == "[home for @alice] published: Your access"
    form_view = json.dumps({"type": "home", "blocks": [section("Form")]})
    client.api_call("views.publish", data={"user_id": "UALICE", "view": form_view})
    assert fake.home("UALICE")["blocks"][0]["text"]["text"] == "Form"
    with pytest.raises(SlackApiError) as err:
        client.views_publish(user_id="UALICE", view=modal())
    assert err.value.response["error"] == "invalid_arguments"

    user = client.users_lookupByEmail(email="Alice@Example.com")["user"]
    assert user["id"] == "UALICE" and user["profile"]["email"] == "alice@example.com"
    info = client.users_info(user="UALICE")["user"]
    assert info["tz"] == "Europe/Berlin" and info["tz_offset"] in (3600, 7200)
    for call, error in [
        (lambda: client.users_lookupByEmail(email="nobody@example.com"), "users_not_found"),
        (lambda: client.users_info(user="UNOBODY"), "user_not_found"),
    ]:
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response["error"] == error

    eph = client.chat_postEphemeral(channel="UALICE", user="UALICE", text="only you")
    assert fake.ephemerals("UALICE")[0].message_ts == eph["message_ts"]
    assert fake.transcript()[-1] == "[ephemeral to @alice] only you"


def test_failure_injection(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="UALICE", text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] in ("7", ["7"])

    fake.fail_next("chat.postMessage", status=503)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="UALICE", text="hi")
    assert err.value.response.status_code == 503

    fake.fail_next("chat.postMessage", error="fatal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="UALICE", text="hi")
        assert err.value.response["error"] == "fatal_error"
    assert fake.messages == []

    retrying = WebClient(
        base_url=fake.url,
        token=fake.token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail_next("chat.postMessage", retry_after=0)
    assert retrying.chat_postMessage(channel="UALICE", text="hi")["ok"]
    assert [c.response["ok"] for c in fake.calls_to("chat.postMessage")][-2:] == [False, True]


# ----------------------------------------------------------------------------------
# The simulated Slack client against a slack_bolt app
# ----------------------------------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def _request_modal(with_account: bool = False) -> dict[str, Any]:
    env_options = [
        {"text": {"type": "plain_text", "text": name}, "value": name} for name in ("dev", "prod")
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": "env",
            "dispatch_action": True,
            "label": {"type": "plain_text", "text": "Environment"},
            "element": {"type": "static_select", "action_id": "env_select", "options": env_options},
        },
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "reason_input"},
        },
    ]
    if with_account:
        blocks.append(
            {
                "type": "input",
                "block_id": "account",
                "optional": True,
                "label": {"type": "plain_text", "text": "Account"},
                "element": {"type": "external_select", "action_id": "account_select"},
            }
        )
    return {
        "type": "modal",
        "callback_id": "request",
        "title": {"type": "plain_text", "text": "Request AWS access"},
        "submit": {"type": "plain_text", "text": "Request"},
        "private_metadata": "meta-1",
        "blocks": blocks,
    }


@pytest.fixture
def bolt(fake: FakeSlack) -> Iterator[tuple[str, dict[str, list[Any]]]]:
    seen: dict[str, list[Any]] = {}
    # With `client=` given, bolt takes the token from that client.
    app = App(signing_secret=SECRET, client=WebClient(base_url=fake.url, token=fake.token))

    @app.command("/jit")
    def on_command(ack, body, client, respond) -> None:
        ack()
        seen.setdefault("command", []).append(body)
        client.views_open(trigger_id=body["trigger_id"], view=_request_modal())
        respond(text="Opening the request form")

    @app.action("env_select")
    def on_env(ack, body, client) -> None:
        ack()
        seen.setdefault("env", []).append(body)
        view = body["view"]
        client.views_update(view_id=view["id"], hash=view["hash"], view=_request_modal(True))

    @app.options("account_select")
    def on_options(ack, body) -> None:
        seen.setdefault("options", []).append(body)
        text = {"type": "plain_text", "text": f"{body['value']}-123"}
        ack(options=[{"text": text, "value": "123"}])

    @app.view("request")
    def on_submit(ack, body, view, client) -> None:
        seen.setdefault("submit", []).append(body)
        reason = view["state"]["values"]["reason"]["reason_input"]["value"]
        if len(reason) < 5:
            ack(response_action="errors", errors={"reason": "Tell us a bit more"})
            return
        ack()
        env = view["state"]["values"]["env"]["env_select"]["selected_option"]["value"]
        buttons = {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": "req-1",
                }
            ],
        }
        client.chat_postMessage(
            channel=body["user"]["id"], text=f"Request for {env}", blocks=[buttons]
        )

    @app.action("approve")
    def on_approve(ack, body, client) -> None:
        ack()
        seen.setdefault("approve", []).append(body)
        channel, ts = body["channel"]["id"], body["message"]["ts"]
        client.chat_update(channel=channel, ts=ts, text="Approved", blocks=[])
        client.chat_postMessage(channel=channel, thread_ts=ts, text="Granted")

    @app.event("app_home_opened")
    def on_home(event, client) -> None:
        seen.setdefault("home", []).append(event)
        button = {
            "type": "button",
            "action_id": "refresh",
            "text": {"type": "plain_text", "text": "Refresh"},
            "value": "r",
        }
        home = {"type": "home", "blocks": [{**section("Hi"), "accessory": button}]}
        client.views_publish(user_id=event["user"], view=home)

    @app.action("refresh")
    def on_refresh(ack, body) -> None:
        ack()
        seen.setdefault("refresh", []).append(body)

    server = make_server(
        "127.0.0.1",
        0,
        SlackRequestHandler(app),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events", seen
    finally:
        server.shutdown()
        server.server_close()


def test_simulated_user_drives_a_bolt_app(
    fake: FakeSlack, bolt: tuple[str, dict[str, list[Any]]]
) -> None:
    url, seen = bolt
    lines: list[str] = []
    fake.on_event(lines.append)
    alice = SlackUser(fake, "UALICE", bot_url=url, signing_secret=SECRET)

    assert alice.slash("/jit", "prod").status == 200
    view = fake.wait_for(alice.latest_view)
    assert seen["command"][0]["text"] == "prod" and seen["command"][0]["user_id"] == "UALICE"
    assert view["callback_id"] == "request"
    assert lines == fake.transcript()[: len(lines)]

    with pytest.raises(SlackClientError):
        alice.fill(view, {"env_select": "staging"})
    assert alice.select_in_view(view, "env_select", "prod").status == 200
    view = fake.wait_for(lambda: (v := alice.latest_view()) and len(v["blocks"]) == 3 and v)
    assert seen["env"][0]["actions"][0]["selected_option"]["value"] == "prod"
    assert view["state"]["values"]["env"]["env_select"]["selected_option"]["value"] == "prod"

    options = alice.suggest(view, "account_select", "pro")
    assert options["options"][0]["text"]["text"] == "pro-123"

    with pytest.raises(SlackClientError, match="required field 'Reason'"):
        alice.submit(view, {})
    errors = alice.submit(view, {"reason_input": "x"})
    assert errors.json() == {
        "response_action": "errors",
        "errors": {"reason": "Tell us a bit more"},
    }
    assert errors.problems == [] and fake.open_modals("UALICE")

    ok = alice.submit(view, {"reason_input": "deploy hotfix", "account_select": "123"})
    assert ok.status == 200 and ok.problems == [] and fake.open_modals("UALICE") == []
    submitted = seen["submit"][-1]["view"]
    assert submitted["private_metadata"] == "meta-1" and submitted["id"] == view["id"]
    assert submitted["state"]["values"]["env"]["env_select"]["selected_option"]["value"] == "prod"

    msg = fake.wait_for(lambda: fake.dm_messages("UALICE") and fake.dm_messages("UALICE")[0])
    assert msg.text == "Request for prod"
    oscar = SlackUser(fake, "UOSCAR", bot_url=url, signing_secret=SECRET)
    with pytest.raises(SlackClientError):
        oscar.click(msg, "approve")
    assert alice.click(msg, "approve", value="forged").status == 200
    fake.wait_for(lambda: len(fake.thread(msg.channel, msg.ts)) == 2)
    assert seen["approve"][0]["actions"][0]["value"] == "forged"
    assert msg.text == "Approved" and msg.blocks == []

    assert alice.open_home().status == 200
    home = fake.wait_for(lambda: fake.home("UALICE"))
    assert home["blocks"][0]["text"]["text"] == "Hi"
    assert seen["home"][0]["tab"] == "home"
    assert alice.click(home, "refresh").status == 200
    fake.wait_for(lambda: seen.get("refresh"))
    assert seen["refresh"][0]["container"] == {"type": "view", "view_id": home["id"]}
    assert fake.wait_for(lambda: fake.ephemerals("UALICE"))[0].text == "Opening the request form"

    text = "\n".join(fake.transcript())
    assert "[@alice] /jit prod" in text and "clicked [Approve]" in text
    assert f"[DM @alice › thread {msg.ts}] jitbot: Granted" in text


def test_bad_signatures_are_refused(
    fake: FakeSlack, bolt: tuple[str, dict[str, list[Any]]]
) -> None:
    url, seen = bolt
    alice = SlackUser(fake, "UALICE", bot_url=url, signing_secret=SECRET)
    body = b"command=%2Fjit&text=&user_id=UALICE&trigger_id=1.2.3"
    form = "application/x-www-form-urlencoded"
    assert alice.post_raw(body, form, secret="wrong").status == 401
    assert alice.post_raw(body, form, timestamp=int(time.time()) - 600).status == 401
    assert alice.post_raw(body, form, sign=False).status == 401
    assert "command" not in seen
