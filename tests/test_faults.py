"""Tests that cause the faults: forged and malformed payloads, many approvers deciding at
the same moment, Slack's retries and double clicks, and overlapping grants.

The real Bolt app is served over HTTP (waitress) and receives signed requests built by
hand where no Slack client would send them; Slack's Web API is the fake, AWS is moto.
Every forgery must be refused with nothing changed (requests, audit, AWS, messages,
modals, homes), and the person behind it, when there is one, told why. Every race must
end in exactly one decision, one grant and one set of messages, the others told who
decided.

Messages may arrive after the HTTP answer (listeners run after the ack, and Slack
messages may go through an outbox): outcomes are awaited, and ``bot.settle()`` comes
before any "exactly once".
"""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws
from slack_sdk.signature import SignatureVerifier

from bot import ids
from sim.aws_world import DemoWorld, seed_demo_world
from sim.demo_setup import PEOPLE
from sim.fake_slack import Message
from sim.people import Response, SlackUser
from tests.bot_harness import FORM, Bot, action_ids, running_bot
from tests.conftest import REGION, world_config
from workflows.domain import AccessRequest, MessageRole
from workflows.states import Status

NAMES = ("alice", "oscar", "olga", "sam", "ada", "bob")
NO_REQUEST = ":warning: That button doesn't name a request; nothing changed."
NO_FORM_REQUEST = ":warning: That form doesn't name a request; nothing changed."
DECISIONS = ("approved", "rejected")


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running
    assert running.unexpected_refusals() == []


# ----------------------------------------------------------------------------------
# Hand-made requests
# ----------------------------------------------------------------------------------


def send(
    bot: Bot,
    body: bytes,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    signed_body: bytes | None = None,
    signature: bool = True,
    request_timestamp: bool = True,
    headers: dict[str, str] | None = None,
    content_type: str = FORM,
) -> Response:
    """POST ``body`` to the bot like Slack does, or not quite: ``secret``, ``timestamp``
    and ``signed_body`` change what the signature is made of; ``signature`` and
    ``request_timestamp`` leave those headers out."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    all_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0"}
    if request_timestamp:
        all_headers["X-Slack-Request-Timestamp"] = ts
    if signature:
        verifier = SignatureVerifier(bot.secret if secret is None else secret)
        signed = body if signed_body is None else signed_body
        all_headers["X-Slack-Signature"] = verifier.generate_signature(timestamp=ts, body=signed)
    all_headers.update(headers or {})
    request = urllib.request.Request(bot.url, data=body, headers=all_headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310
            status, text = answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode("utf-8", "replace")
    return Response(status, text, {}, time.monotonic() - started)


def form_body(payload: Any) -> bytes:
    return urlencode(
        {"payload": payload if isinstance(payload, str) else json.dumps(payload)}
    ).encode()


def click_payload(
    bot: Bot,
    user: SlackUser,
    action_id: str,
    value: str,
    *,
    message: Message | None = None,
    home: bool = False,
) -> dict[str, Any]:
    """A ``block_actions`` for a button: on ``message`` (as it looks now) if given, in
    the person's App Home if ``home``, else in their DM with the bot (a copied button)."""
    payload: dict[str, Any] = {
        **bot.envelope(user, "block_actions"),
        "trigger_id": bot.fake.new_trigger_id(user.user_id),
        "state": {"values": {}},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "forged",
                "value": value,
                "text": {"type": "plain_text", "text": "Click"},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if home:
        view = bot.fake.home(user.user_id)
        assert view is not None, "open the App Home first"
        view.pop("user_id", None)
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
        return payload
    channel = message.channel if message else bot.fake.dm_channel(user.user_id)
    ts = message.ts if message else "1.000000"
    payload["container"] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    payload["channel"] = {"id": channel, "name": "directmessage"}
    payload["response_url"] = bot.fake.register_response_url(user.user_id, channel, ts)
    if message is not None:
        payload["message"] = bot.fake.message_payload(message)
    return payload


def submission_payload(
    bot: Bot, user: SlackUser, view: dict[str, Any], state: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    """A ``view_submission`` of ``view`` with ``state``; ``changes`` overwrite view keys
    (a tampered ``private_metadata``)."""
    sent = copy.deepcopy(view)
    sent.pop("user_id", None)
    sent.update(changes)
    sent["state"] = {"values": state}
    return {
        **bot.envelope(user, "view_submission"),
        "trigger_id": bot.fake.new_trigger_id(user.user_id),
        "view": sent,
        "response_urls": [],
    }


def reason_state(text: str | None) -> dict[str, Any]:
    return {
        ids.BLOCK_REJECT_REASON: {
            ids.ACTION_REJECT_REASON: {"type": "plain_text_input", "value": text}
        }
    }


# ----------------------------------------------------------------------------------
# What people were told, and what AWS holds
# ----------------------------------------------------------------------------------


def root_keys(bot: Bot) -> set[tuple[str, str]]:
    return {(ref.channel, ref.ts) for r in bot.all_requests() for ref in r.messages}


def told(bot: Bot, user_id: str, roots: set[tuple[str, str]] | None = None) -> list[str]:
    """What jitbot told ``user_id`` outside a request's threads: ephemerals, and DMs that
    are no thread root (a refusal after a modal closed goes to the DM)."""
    roots = root_keys(bot) if roots is None else roots
    notes = [m.text for m in bot.fake.dm_messages(user_id) if (m.channel, m.ts) not in roots]
    return [e.text for e in bot.fake.ephemerals(user_id)] + notes


def told_everyone(bot: Bot) -> dict[str, list[str]]:
    roots = root_keys(bot)
    return {name: told(bot, bot.user(name).user_id, roots) for name in NAMES}


def raw_assignments(bot: Bot) -> list[tuple[str, str, str]]:
    """Every account assignment moto holds, duplicates included (``assignments()`` of
    the demo world is a set)."""
    world = bot.world
    sso = boto3.client("sso-admin", region_name=world.region)
    email_of = {user_id: email for email, user_id in world.users.items()}
    rows = []
    for account_name, account_id in world.accounts.items():
        for ps_name, ps_arn in world.permission_sets.items():
            pages = sso.get_paginator("list_account_assignments").paginate(
                InstanceArn=world.instance_arn, AccountId=account_id, PermissionSetArn=ps_arn
            )
            for page in pages:
                for item in page["AccountAssignments"]:
                    principal = email_of.get(item["PrincipalId"], item["PrincipalId"])
                    rows.append((account_name, ps_name, principal))
    return sorted(rows)


def decision_events(bot: Bot, request_id: int) -> list[dict[str, Any]]:
    return [e for e in bot.rt.store.audit_events(request_id) if e["action"] in DECISIONS]


def thread_replies(bot: Bot, request: AccessRequest) -> dict[str, list[str]]:
    """Each thread's replies, by the name of the person whose DM it is in."""
    by_id = {user_id: email.split("@")[0] for email, (user_id, _) in PEOPLE.items()}
    return {
        by_id[ref.slack_user_id]: [m.text for m in bot.fake.thread(ref.channel, ref.ts)[1:]]
        for ref in bot.get(request.id).messages
    }


def approve(bot: Bot, request: AccessRequest, who: str = "oscar") -> AccessRequest:
    assert bot.user(who).click(bot.root(request, who), ids.ACTION_APPROVE).status == 200
    return bot.wait_status(request.id, Status.ACTIVE)


def open_home(bot: Bot, user: SlackUser) -> dict[str, Any]:
    published = len(bot.fake.calls_to("views.publish"))
    assert user.open_home().status == 200
    bot.fake.wait_for(lambda: len(bot.fake.calls_to("views.publish")) > published)
    bot.settle()
    home = bot.fake.home(user.user_id)
    assert home is not None
    return home


def click_home_button(bot: Bot, who: str, action_id: str, request: AccessRequest) -> Response:
    user = bot.user(who)
    home = open_home(bot, user)
    block_id = next(
        block["block_id"]
        for block in home["blocks"]
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]
        if element.get("action_id") == action_id and element.get("value") == str(request.id)
    )
    return user.click(home, action_id, block_id=block_id)


def open_reject_modal(bot: Bot, user: SlackUser, request: AccessRequest) -> dict[str, Any]:
    """Reject on the person's own message if they have one, else on a copied button."""
    before = user.latest_view()
    refs = [r for r in bot.get(request.id).messages if r.slack_user_id == user.user_id]
    if refs:
        user.click(bot.root(request, user.name), ids.ACTION_REJECT)
    else:
        user.forge_click(ids.ACTION_REJECT, str(request.id))
    modal = bot.next_modal(user, before)
    assert modal["callback_id"] == ids.CALLBACK_REJECT
    return modal


# ----------------------------------------------------------------------------------
# 1. The catalogue of forged and malformed payloads
# ----------------------------------------------------------------------------------


@dataclass
class World:
    """One bot and the requests the forgeries aim at, shared by the catalogue (each case
    must change nothing, which each case checks)."""

    bot: Bot
    pending: AccessRequest  # Alice on Sandbox, to Oscar and Olga
    production: AccessRequest  # Alice on Production, to Olga
    olgas: AccessRequest  # Olga on Production, to Ada and Sam
    active: AccessRequest  # Bob on Sandbox, approved by Olga
    active_production: AccessRequest  # Alice on Production, approved by Olga
    request_form: dict[str, Any]  # Alice's request modal, Sandbox chosen
    reject_form: dict[str, Any]  # Oscar's reject modal for ``pending``
    revoke_form: dict[str, Any]  # Oscar's revoke modal for ``active``
    #: The snapshot the last case ended with: the next one starts from it (listing
    #: moto's assignments is most of a snapshot's time).
    last: dict[str, Any] | None = None


@pytest.fixture(scope="class")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        }.items():
            mp.setenv(name, value)
        with mock_aws():
            demo = seed_demo_world(region=REGION)
            tmp = tmp_path_factory.mktemp("faults")
            with running_bot(demo, tmp, world_config(demo)) as bot:
                pending = bot.request_access("alice")
                production = bot.request_access("alice", account="Production")
                olgas = bot.request_access("olga", account="Production")
                active = approve(bot, bot.request_access("bob", duration="4h"), "olga")
                active_production = approve(
                    bot, bot.request_access("alice", account="Production", duration="4h"), "olga"
                )
                alice, oscar = bot.user("alice"), bot.user("oscar")
                request_form = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
                reject_form = open_reject_modal(bot, oscar, pending)
                before = oscar.latest_view()
                assert click_home_button(bot, "oscar", ids.ACTION_REVOKE, active).status == 200
                revoke_form = bot.next_modal(oscar, before)
                assert revoke_form["callback_id"] == ids.CALLBACK_REVOKE
                for name in ("alice", "bob"):
                    open_home(bot, bot.user(name))
                bot.settle()
                yield World(
                    bot,
                    pending,
                    production,
                    olgas,
                    active,
                    active_production,
                    request_form,
                    reject_form,
                    revoke_form,
                )
            assert bot.unexpected_refusals() == []


@dataclass(frozen=True)
class Case:
    """One forgery (or a few of a kind): ``send`` posts it; every answer must be
    ``status``; ``who`` (if anyone) is then told ``words(world)`` (one sentence per
    request sent), and nobody anything else."""

    name: str
    send: Callable[[World], Response | list[Response]]
    status: int = 200
    who: str | None = None
    words: Callable[[World], str | list[str]] | None = None


def button(
    who: str,
    action_id: str,
    value: Callable[[World], str],
    *,
    home: bool = False,
    on: Callable[[World], AccessRequest] | None = None,
) -> Callable[[World], Response]:
    """``who`` clicks ``action_id`` carrying ``value``: in their App Home, on their own
    message about ``on`` (its value changed), or on a copy in their DM."""

    def go(w: World) -> Response:
        user = w.bot.user(who)
        message = w.bot.root(on(w), who) if on else None
        payload = click_payload(w.bot, user, action_id, value(w), message=message, home=home)
        return w.bot.post_interaction(user, payload)

    return go


def oscars_approve(w: World) -> bytes:
    """Oscar's Approve on his message about ``pending``: a click that would decide."""
    oscar = w.bot.user("oscar")
    message = w.bot.root(w.pending, "oscar")
    return form_body(
        click_payload(w.bot, oscar, ids.ACTION_APPROVE, str(w.pending.id), message=message)
    )


def reject_submission(who: str, metadata: Callable[[World], str], reason: str = "no"):
    def go(w: World) -> Response:
        payload = submission_payload(
            w.bot,
            w.bot.user(who),
            w.reject_form,
            reason_state(reason),
            private_metadata=metadata(w),
        )
        return w.bot.post_interaction(w.bot.user(who), payload)

    return go


def revoke_submission(metadata: Callable[[World], str]):
    def go(w: World) -> Response:
        state = {
            ids.BLOCK_REVOKE_REASON: {
                ids.ACTION_REVOKE_REASON: {"type": "plain_text_input", "value": "tampered"}
            }
        }
        oscar = w.bot.user("oscar")
        payload = submission_payload(
            w.bot, oscar, w.revoke_form, state, private_metadata=metadata(w)
        )
        return w.bot.post_interaction(oscar, payload)

    return go


def request_submission(justification: str):
    def go(w: World) -> Response:
        alice = w.bot.user("alice")
        state = alice.fill(
            w.request_form,
            {
                ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
                ids.ACTION_DURATION: "1h",
                ids.ACTION_JUSTIFICATION: "ok",
            },
        )
        state[ids.BLOCK_JUSTIFICATION][ids.ACTION_JUSTIFICATION]["value"] = justification
        return w.bot.forge_submission(alice, w.request_form, state)

    return go


def raw(body: Callable[[World], bytes], **how: Any) -> Callable[[World], Response]:
    return lambda w: send(w.bot, body(w), **how)


def envelope_with(**fields: Any) -> Callable[[World], bytes]:
    def body(w: World) -> bytes:
        oscar = w.bot.user("oscar")
        payload = {**w.bot.envelope(oscar, "block_actions"), "trigger_id": "1.2.forged"}
        payload.update(fields)
        return form_body(payload)

    return body


def unseen(request_id: int | str) -> str:
    """The refusal for an id that names no request the person may see: the same words
    whether it exists or not, so a forged id tells an outsider nothing."""
    return f":warning: There is no request #{request_id} that you can see."


def someone_elses(request: str) -> Callable[[World], str]:
    return lambda w: unseen(getattr(w, request).id)


def already_approved_by_olga(w: World) -> str:
    return ":warning: This request was already approved by Olga Owner (olga@example.com)."


UNKNOWN, NON_NUMERIC, HUGE = "999999999999", "1e3", "9" * 40


def negative(w: World) -> str:
    """The negation of a real id: ``abs()`` or ``lstrip('-')`` would find it."""
    return f"-{w.pending.id}"


def id_cases() -> list[Case]:
    """Every button that names a request, carrying ids that name none: one unknown but
    well-formed, one not a number, one negative, one too long to be an id."""
    cases = []
    for action, who, home in [
        # (action, who clicks, in their App Home)
        (ids.ACTION_APPROVE, "oscar", False),
        (ids.ACTION_REJECT, "oscar", False),
        (ids.ACTION_REVOKE, "oscar", True),
        (ids.ACTION_RELEASE, "alice", True),
        (ids.ACTION_CANCEL, "alice", True),
    ]:

        def clicks(w: World, action: str = action, who: str = who, home: bool = home) -> list:
            values = [UNKNOWN, NON_NUMERIC, negative(w), HUGE]
            return [button(who, action, lambda w, v=v: v, home=home)(w) for v in values]

        cases.append(
            Case(
                f"{action}: unknown, non-numeric, negative and huge ids",
                clicks,
                who=who,
                words=lambda w: [unseen(UNKNOWN), NO_REQUEST, NO_REQUEST, NO_REQUEST],
            )
        )
    return cases


CASES: list[Any] = [
    # -- signatures: a click that would decide, were it signed right ---------------
    Case(
        "signed with the wrong secret",
        raw(oscars_approve, secret="not-the-signing-secret"),
        status=401,
    ),
    Case(
        "signed 5 minutes and 1 second ago",
        lambda w: send(w.bot, oscars_approve(w), timestamp=int(time.time()) - 301),
        status=401,
    ),
    Case(
        "signature headers missing (neither, or no timestamp, or no signature)",
        lambda w: [
            send(w.bot, oscars_approve(w), signature=False, request_timestamp=False),
            send(w.bot, oscars_approve(w), request_timestamp=False),
            send(w.bot, oscars_approve(w), signature=False),
        ],
        status=401,
    ),
    Case(
        "body changed after signing (a View details click made an Approve)",
        lambda w: send(
            w.bot,
            oscars_approve(w),
            signed_body=form_body(
                click_payload(
                    w.bot,
                    w.bot.user("oscar"),
                    ids.ACTION_DETAILS,
                    str(w.pending.id),
                    message=w.bot.root(w.pending, "oscar"),
                )
            ),
        ),
        status=401,
    ),
    # -- ids that name no request -------------------------------------------------
    *id_cases(),
    # -- someone else's request ---------------------------------------------------
    Case(
        "an owner of Sandbox approves a Production request",
        button("oscar", ids.ACTION_APPROVE, lambda w: str(w.production.id)),
        who="oscar",
        words=someone_elses("production"),
    ),
    Case(
        "an owner of Sandbox rejects a Production request (no modal)",
        button("oscar", ids.ACTION_REJECT, lambda w: str(w.production.id)),
        who="oscar",
        words=someone_elses("production"),
    ),
    Case(
        "an owner of Sandbox revokes a Production session from his App Home",
        button("oscar", ids.ACTION_REVOKE, lambda w: str(w.active_production.id), home=True),
        who="oscar",
        words=someone_elses("active_production"),
    ),
    Case(
        "Alice releases Bob's session",
        button("alice", ids.ACTION_RELEASE, lambda w: str(w.active.id), home=True),
        who="alice",
        words=someone_elses("active"),
    ),
    Case(
        "Bob cancels Alice's request",
        button("bob", ids.ACTION_CANCEL, lambda w: str(w.pending.id), home=True),
        who="bob",
        words=someone_elses("pending"),
    ),
    # -- a request the person may see, an action that is not theirs: told why -------
    Case(
        "Bob revokes his own session from his App Home",
        button("bob", ids.ACTION_REVOKE, lambda w: str(w.active.id), home=True),
        who="bob",
        words=lambda w: (
            ":warning: You can't revoke this session: only an owner of "
            f"{w.active.account_label} or an admin can revoke this session."
        ),
    ),
    Case(
        "an owner of Sandbox releases Bob's Sandbox session",
        button("oscar", ids.ACTION_RELEASE, lambda w: str(w.active.id), home=True),
        who="oscar",
        words=lambda w: ":warning: You can't release this session: only the requester can do that.",
    ),
    Case(
        "an owner of Sandbox cancels Alice's Sandbox request",
        button("oscar", ids.ACTION_CANCEL, lambda w: str(w.pending.id), home=True),
        who="oscar",
        words=lambda w: ":warning: You can't cancel this request: only the requester can do that.",
    ),
    Case(
        "an owner approving her own Production request with a hand-made click",
        button("olga", ids.ACTION_APPROVE, lambda w: str(w.olgas.id)),
        who="olga",
        words=lambda w: (
            ":warning: You can't approve this request: you can't approve your own request."
        ),
    ),
    # -- a real button, its value changed ---------------------------------------------
    Case(
        "Approve on Oscar's Sandbox message, value changed to a Production request",
        button("oscar", ids.ACTION_APPROVE, lambda w: str(w.production.id), on=lambda w: w.pending),
        who="oscar",
        words=someone_elses("production"),
    ),
    Case(
        "Reject on Oscar's Sandbox message, value changed to a Production request",
        button("oscar", ids.ACTION_REJECT, lambda w: str(w.production.id), on=lambda w: w.pending),
        who="oscar",
        words=someone_elses("production"),
    ),
    Case(
        "Approve on Oscar's message, value changed to a request already approved",
        button("oscar", ids.ACTION_APPROVE, lambda w: str(w.active.id), on=lambda w: w.pending),
        who="oscar",
        words=already_approved_by_olga,
    ),
    # -- a modal's private_metadata tampered -------------------------------------------
    Case(
        "reject modal pointed at a Production request",
        reject_submission("oscar", lambda w: json.dumps({"request_id": w.production.id})),
        who="oscar",
        words=someone_elses("production"),
    ),
    Case(
        "reject modal pointed at a request already approved",
        reject_submission("oscar", lambda w: json.dumps({"request_id": w.active.id})),
        who="oscar",
        words=already_approved_by_olga,
    ),
    Case(
        "reject modal pointed at an unknown request",
        reject_submission("oscar", lambda w: json.dumps({"request_id": int(UNKNOWN)})),
        who="oscar",
        words=lambda w: unseen(UNKNOWN),
    ),
    Case(
        "reject modal with its metadata not JSON",
        reject_submission("oscar", lambda w: '{"request_id": '),
        who="oscar",
        words=lambda w: NO_FORM_REQUEST,
    ),
    Case(
        "reject modal with its request id a list",
        reject_submission("oscar", lambda w: json.dumps({"request_id": [w.pending.id]})),
        who="oscar",
        words=lambda w: NO_FORM_REQUEST,
    ),
    Case(
        "reject modal submitted by someone it was not opened for (Bob)",
        reject_submission("bob", lambda w: json.dumps({"request_id": w.pending.id})),
        who="bob",
        words=someone_elses("pending"),
    ),
    Case(
        "revoke modal pointed at a Production session",
        revoke_submission(lambda w: json.dumps({"request_id": w.active_production.id})),
        who="oscar",
        words=someone_elses("active_production"),
    ),
    # -- oversize fields -------------------------------------------------------------
    Case(
        "a 100 kB justification",
        request_submission("x" * 100_000),
        who=None,  # refused inline, checked below
    ),
    Case(
        # over bot.http.MAX_BODY_BYTES: refused before it is read, signed or not
        "a 1 MB body (a button value of a million digits)",
        button("oscar", ids.ACTION_APPROVE, lambda w: "7" * 1_000_000),
        status=413,
    ),
    Case(
        "a 200 kB body (a button value of 200,000 digits)",
        button("oscar", ids.ACTION_APPROVE, lambda w: "7" * 200_000),
        who="oscar",
        words=lambda w: NO_REQUEST,
    ),
    # -- malformed ----------------------------------------------------------------------
    Case(
        "malformed JSON in payload, signed",
        raw(lambda w: b"payload=%7B%22type%22%3A%22block_actions%22"),
        status=400,
    ),
    Case(
        "malformed JSON in payload, unsigned",
        raw(lambda w: b"payload=%7B%22type%22%3A%22block_actions%22", signature=False),
        status=401,
    ),
    Case(
        "a JSON array as payload, unsigned",
        raw(lambda w: form_body([1, 2, 3]), signature=False),
        status=401,
    ),
    Case("block_actions without actions", raw(envelope_with()), status=400),
    Case(
        "block_actions with an empty actions list",
        raw(envelope_with(actions=[])),
        status=400,
    ),
    Case(
        "an unknown action_id (a button of an older release)",
        raw(
            envelope_with(
                actions=[
                    {
                        "type": "button",
                        "action_id": "approve_request_v0",
                        "block_id": "b",
                        "value": "1",
                    }
                ]
            )
        ),
    ),
]


def _param(case: Any) -> Any:
    return case if not isinstance(case, Case) else pytest.param(case, id=case.name)


class TestForgedAndMalformedPayloads:
    @pytest.mark.parametrize("case", [_param(c) for c in CASES])
    def test_is_refused_and_nothing_changes(self, world: World, case: Case) -> None:
        bot = world.bot  # settled: by the fixture, then by each case
        before, calls = world.last or bot.snapshot(), len(bot.fake.calls)
        world.last = None
        heard = told_everyone(bot)

        sent = case.send(world)
        responses = sent if isinstance(sent, list) else [sent]
        said = case.words(world) if case.words else []
        words = said if isinstance(said, list) else [said]

        for response in responses:
            assert response.status == case.status, response.body[:300]
            assert response.elapsed < 3, f"acked after {response.elapsed:.1f} s"
        expected = {name: list(texts) for name, texts in heard.items()}
        if case.who is not None:
            expected[case.who].extend(words)
            bot.fake.wait_for(
                lambda: (
                    len(told(bot, bot.user(case.who).user_id)) >= len(heard[case.who]) + len(words)
                )
            )
        bot.settle(quiet=0.2)  # a refusal is one message: 0.2 s of quiet is plenty
        if case.status == 401:
            assert len(bot.fake.calls) == calls, "a request with a bad signature was run"
        assert {n: sorted(t) for n, t in told_everyone(bot).items()} == {
            n: sorted(t) for n, t in expected.items()
        }
        after = bot.snapshot()
        world.last = copy.deepcopy(after)
        # The refusal itself may be a DM (after a modal closed): the only new message
        # allowed. Nothing else may differ.
        new = [m for m in after["messages"] if m not in before["messages"]]
        assert all(m[2] is None and m[3] in words for m in new), new
        assert len(new) <= len(words)
        after["messages"] = [m for m in after["messages"] if m not in new]
        assert after == before
        if case.name == "a 100 kB justification":
            assert responses[0].json() == {
                "response_action": "errors",
                "errors": {
                    ids.BLOCK_JUSTIFICATION: "Justification must be at most 2000 characters."
                },
            }

    def test_the_refused_click_is_a_working_one_when_signed_right(self, world: World) -> None:
        """The control for the signature cases: the very click they send, signed right
        (even 4 minutes late), decides. Runs last: it approves ``pending``."""
        bot = world.bot
        response = send(bot, oscars_approve(world), timestamp=int(time.time()) - 240)
        assert response.status == 200
        bot.wait_status(world.pending.id, Status.ACTIVE)
        bot.wait_reply(bot.root(world.pending, "alice"), "Access granted")


# ----------------------------------------------------------------------------------
# 2. Fifty decisions at the same moment
# ----------------------------------------------------------------------------------

DECIDERS = ("oscar", "olga", "ada", "sam")  # Sandbox's owners, the admin, the SSO admin


def decision_body(
    bot: Bot, request: AccessRequest, who: str, approve: bool, modal: dict[str, Any], n: int
) -> bytes:
    """Approve on the person's own message (a copied button for the admins, who were not
    sent this request), or their reject modal submitted with a reason."""
    user = bot.user(who)
    if not approve:
        return form_body(submission_payload(bot, user, modal, reason_state(f"No ({n})")))
    refs = [r for r in bot.get(request.id).messages if r.slack_user_id == user.user_id]
    message = bot.root(request, who) if refs else None
    return form_body(click_payload(bot, user, ids.ACTION_APPROVE, str(request.id), message=message))


def fire_together(bot: Bot, posts: list[tuple[SlackUser, bytes]], headers=None) -> list[Response]:
    """POST every body from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(posts))
    responses: list[Response | None] = [None] * len(posts)

    def go(i: int) -> None:
        user, body = posts[i]
        barrier.wait()
        responses[i] = user.post_raw(body, FORM, headers=headers)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(r is not None for r in responses)
    return responses  # type: ignore[return-value]


def test_fifty_approvers_clicking_at_once_make_one_decision(bot: Bot) -> None:
    """Oscar, Olga (the owners), Ada (admin) and Sam (SSO admin) send 50 decisions at
    the same moment, half Approve clicks, half reject modals submitted: one wins; every
    thread hears of it once; the 49 others are each told who decided."""
    request = bot.request_access()
    modals = {who: open_reject_modal(bot, bot.user(who), request) for who in DECIDERS}
    bot.settle()
    before = told_everyone(bot)
    posts = []
    for n in range(50):
        who = DECIDERS[n % 4]
        approve_it = (n // 4) % 2 == 0
        body = decision_body(bot, request, who, approve_it, modals[who], n)
        posts.append((bot.user(who), body))

    started = time.monotonic()
    responses = fire_together(bot, posts)
    acked = time.monotonic() - started

    assert [r.status for r in responses] == [200] * 50
    slowest = max(r.elapsed for r in responses)
    assert slowest < 3, f"the slowest of 50 acks took {slowest:.1f} s (all within {acked:.1f} s)"
    decided = bot.fake.wait_for(
        lambda: (r := bot.get(request.id)).status in (Status.ACTIVE, Status.REJECTED) and r,
        timeout=15,
    )
    bot.fake.wait_for(
        lambda: sum(len(told(bot, bot.user(w).user_id)) - len(before[w]) for w in DECIDERS) >= 49,
        timeout=20,
    )
    bot.settle()

    decided = bot.get(request.id)
    assert len(decided.reviews) == 1
    review = decided.reviews[0]
    verb = review.decision.value
    events = decision_events(bot, request.id)
    assert [(e["action"], e["actor"]) for e in events] == [(verb, review.reviewer.slack_id)]
    who_decided = f"{review.reviewer.name} ({review.reviewer.email})"
    by = review.reviewer.name
    if verb == "approved":
        assert decided.status == Status.ACTIVE
        assert raw_assignments(bot) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
        assert [e["action"] for e in bot.rt.store.audit_events(request.id)] == [
            "requested",
            "approved",
            "granted",
        ]
    else:
        assert decided.status == Status.REJECTED
        assert raw_assignments(bot) == []
    replies = thread_replies(bot, request)
    assert set(replies) == {"alice", "oscar", "olga"}
    for name, texts in replies.items():
        if verb == "approved":
            assert len(texts) == 2, (name, texts)
            assert texts[0].startswith(f":white_check_mark: Approved by {by}")
            assert texts[1].startswith(":large_green_circle: Access granted")
        else:
            assert texts == [f":x: Rejected by {by}: “{review.comment}”"], (name, texts)
    for root in bot.roots(request, MessageRole.APPROVER):
        assert action_ids(root) == [ids.ACTION_DETAILS]  # no Approve / Reject left

    # the 49 others: each told once, who decided
    refusal = f":warning: This request was already {verb} by {who_decided}."
    own = f":warning: You already {verb} this request."  # the winner's other clicks
    new = {w: told(bot, bot.user(w).user_id)[len(before[w]) :] for w in NAMES}
    assert sum(len(texts) for texts in new.values()) == 49, new
    clicks = {w: sum(1 for user, _ in posts if user.name == w) for w in DECIDERS}
    for w in DECIDERS:
        won = w == review.reviewer.email.split("@")[0]
        mine = clicks[w] - (1 if won else 0)
        assert new[w] == [own if won else refusal] * mine, (w, new[w])
    assert new["alice"] == [] and new["bob"] == []


# ----------------------------------------------------------------------------------
# 3. Slack's retries and double clicks
# ----------------------------------------------------------------------------------

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def assert_approved_once(bot: Bot, request: AccessRequest, by: str) -> None:
    """One decision by ``by``, one grant, one assignment, and each thread told of each
    once."""
    decided = bot.get(request.id)
    assert [(r.decision.value, r.reviewer.name) for r in decided.reviews] == [("approved", by)]
    assert [e["action"] for e in bot.rt.store.audit_events(request.id)] == [
        "requested",
        "approved",
        "granted",
    ]
    assert raw_assignments(bot) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
    replies = thread_replies(bot, request)
    assert set(replies) == {"alice", "oscar", "olga"}
    for name, texts in replies.items():
        assert len(texts) == 2, (name, texts)
        assert texts[0].startswith(f":white_check_mark: Approved by {by}")
        assert texts[1].startswith(":large_green_circle: Access granted")


def test_a_retried_delivery_of_an_approve_decides_once(bot: Bot) -> None:
    """Slack re-delivers the very same click (same body, ``X-Slack-Retry-Num: 1``):
    one decision, one grant, one set of thread messages."""
    request = bot.request_access()
    oscar = bot.user("oscar")
    body = form_body(
        click_payload(
            bot, oscar, ids.ACTION_APPROVE, str(request.id), message=bot.root(request, "oscar")
        )
    )

    first = oscar.post_raw(body, FORM)
    retry = oscar.post_raw(body, FORM, headers=RETRY)

    assert (first.status, retry.status) == (200, 200)
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    bot.settle()
    assert_approved_once(bot, request, "Oscar Owner")
    assert told(bot, bot.user("olga").user_id) == []
    # whatever Oscar is told about the retry, it is never that someone else decided
    assert set(told(bot, oscar.user_id)) <= {":warning: You already approved this request."}


def test_a_retried_delivery_tells_the_clicker_nothing_more(bot: Bot) -> None:
    request = bot.request_access()
    oscar = bot.user("oscar")
    body = form_body(
        click_payload(
            bot, oscar, ids.ACTION_APPROVE, str(request.id), message=bot.root(request, "oscar")
        )
    )
    assert oscar.post_raw(body, FORM).status == 200
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    bot.settle()

    assert oscar.post_raw(body, FORM, headers=RETRY).status == 200

    bot.settle()
    assert told(bot, oscar.user_id) == []
    assert_approved_once(bot, request, "Oscar Owner")


def test_a_double_click_on_approve_decides_once(bot: Bot) -> None:
    """Oscar clicks Approve twice, 0 ms apart (two clicks: two trigger ids)."""
    request = bot.request_access()
    oscar = bot.user("oscar")
    root = bot.root(request, "oscar")
    bodies = [
        form_body(click_payload(bot, oscar, ids.ACTION_APPROVE, str(request.id), message=root))
        for _ in range(2)
    ]
    assert bodies[0] != bodies[1]

    responses = fire_together(bot, [(oscar, body) for body in bodies])

    assert [r.status for r in responses] == [200, 200]
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    bot.settle()
    assert_approved_once(bot, request, "Oscar Owner")
    assert told(bot, oscar.user_id) in (
        [],
        [":warning: You already approved this request."],
    )
    assert told(bot, bot.user("olga").user_id) == []


# ----------------------------------------------------------------------------------
# 4. Overlapping grants of the same permission set
# ----------------------------------------------------------------------------------
# tests/test_services.py checks the rule on the service (a fake AWS); here the grants are
# made by clicks over HTTP, AWS is moto, and people read the threads.

ALICES_READONLY = [("Sandbox", "ReadOnlyAccess", "alice@example.com")]


def two_overlapping_grants(bot: Bot) -> tuple[AccessRequest, AccessRequest]:
    """Alice's 1 hour grant, then a 4 hour one of the same set on the same account."""
    first = approve(bot, bot.request_access(duration="1h"), "oscar")
    second = approve(bot, bot.request_access(duration="4h"), "olga")
    bot.wait_reply(bot.root(second, "alice"), "Access granted")
    bot.settle()
    assert first.session and second.session
    assert first.session.expires_at < second.session.expires_at
    assert raw_assignments(bot) == ALICES_READONLY  # one assignment, held by both
    return first, second


def test_overlapping_grants_keep_the_assignment_until_the_last_one_ends(bot: Bot) -> None:
    first, second = two_overlapping_grants(bot)
    assert first.session and second.session
    second_replies = thread_replies(bot, second)

    bot.rt.services.sweep(first.session.expires_at)
    bot.settle()

    assert bot.get(first.id).status == Status.EXPIRED
    assert bot.get(second.id).status == Status.ACTIVE
    assert raw_assignments(bot) == ALICES_READONLY, "the second grant still holds it"
    for name, texts in thread_replies(bot, first).items():
        assert texts[-1].startswith(":black_circle: Access expired"), name
    assert thread_replies(bot, second) == second_replies  # nothing said there

    bot.rt.services.sweep(second.session.expires_at)
    bot.settle()

    assert bot.get(second.id).status == Status.EXPIRED
    assert raw_assignments(bot) == []
    for name, texts in thread_replies(bot, second).items():
        assert texts[-1].startswith(":black_circle: Access expired"), name
    assert told(bot, bot.user("ada").user_id) == []  # no alert


def test_releasing_the_longer_grant_leaves_access_to_the_shorter_one(bot: Bot) -> None:
    """Alice releases the 4 hour grant from her App Home while the 1 hour one runs:
    the assignment stays until the sweep ends the 1 hour one."""
    first, second = two_overlapping_grants(bot)
    assert first.session

    assert click_home_button(bot, "alice", ids.ACTION_RELEASE, second).status == 200

    bot.wait_reply(bot.root(second, "alice"), "released early")
    bot.settle()
    assert bot.get(second.id).status == Status.REVOKED
    assert bot.get(first.id).status == Status.ACTIVE
    assert raw_assignments(bot) == ALICES_READONLY

    bot.rt.services.sweep(first.session.expires_at)
    bot.settle()

    assert bot.get(first.id).status == Status.EXPIRED
    assert raw_assignments(bot) == []


def test_overlapping_grants_ending_in_the_same_sweep_both_end(bot: Bot) -> None:
    """The sweep runs late (the bot was down): both sessions are due at once, their
    removals run in parallel; both end, the assignment goes, no admin is alerted."""
    first, second = two_overlapping_grants(bot)
    assert second.session

    bot.rt.services.sweep(second.session.expires_at + timedelta(hours=1))
    bot.settle()

    assert bot.get(first.id).status == Status.EXPIRED
    assert bot.get(second.id).status == Status.EXPIRED
    assert raw_assignments(bot) == []
    assert told(bot, bot.user("ada").user_id) == []
    for request in (first, second):
        for name, texts in thread_replies(bot, request).items():
            assert sum("Access expired" in t for t in texts) == 1, (name, texts)


def test_the_first_grant_ending_does_not_claim_the_access_was_removed(bot: Bot) -> None:
    first, second = two_overlapping_grants(bot)
    assert first.session

    bot.rt.services.sweep(first.session.expires_at)
    bot.settle()

    assert raw_assignments(bot) == ALICES_READONLY  # she still has it...
    for name, texts in thread_replies(bot, first).items():
        assert "Access expired" in texts[-1], name
        assert "has been removed" not in texts[-1], (name, texts[-1])  # ...so don't say so


# ----------------------------------------------------------------------------------
# Oversize fields that would decide: each in a bot of its own
# ----------------------------------------------------------------------------------


def test_a_10kb_reject_reason_is_refused_inline(bot: Bot) -> None:
    request = bot.request_access()
    oscar = bot.user("oscar")
    modal = open_reject_modal(bot, oscar, request)
    bot.settle()
    before = bot.snapshot()

    response = bot.forge_submission(oscar, modal, reason_state("no " * 3_400))  # 10.2 kB

    assert response.status == 200 and response.elapsed < 3
    assert response.json().get("response_action") == "errors", response.body[:200]
    assert set(response.json()["errors"]) == {ids.BLOCK_REJECT_REASON}
    bot.settle()
    assert bot.snapshot() == before
    assert bot.get(request.id).status == Status.PENDING
