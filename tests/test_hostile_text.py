"""Nothing a person types becomes live in Slack: a catalogue of hostile strings, put in
every field a person or AWS supplies, is rendered through every message, notice, modal and
App Home; no mention, broadcast or link survives that the renderer did not make itself
(Slack's escaping rule: https://api.slack.com/reference/surfaces/formatting#escaping)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from bot.listeners.common import tell
from bot.render.app_home import home_view
from bot.render.escape import cut, esc
from bot.render.messages import approval_message, notice_text, requester_message
from bot.render.modals import details_modal, reject_modal, request_modal, revoke_modal
from sim.aws_world import DemoWorld
from tests.bot_harness import ZED, running_bot
from tests.conftest import world_config
from tests.test_render import (
    ADA,
    BUTTONS_CONFIG,
    GRANTED,
    OSCAR,
    PORTAL,
    RITA,
    active,
    expired,
    pending,
    rejected,
    revoked,
)
from workflows.actions import offered_actions
from workflows.app_home import AccountRow, HomeData, HomeState
from workflows.domain import (
    AccessRequest,
    CustomPermissionSet,
    GrantedSession,
    MessageRole,
    Notice,
    NoticeKind,
    Person,
)
from workflows.ports import Page
from workflows.states import Status

HOSTILE = [
    "<!channel> urgent",
    "<!here|here> and <!everyone>",
    "ping <@U0ADMIN> and <#C0GENERAL>",
    "<https://evil.example|https://console.aws.amazon.com/approve>",
    "<mailto:x@evil.example|security@example.com>",
    "&lt;!channel&gt; pre-escaped",
    "<!subteam^S0SEC|@security>",
    "<!date^1700000000^{date}|yesterday>",
]

#: Tokens the renderer makes itself: dates, and the portal link from the config.
OWN_TOKENS = re.compile(r"<!date\^\d+\^[^|>]*\|[^<>]*>|<" + re.escape(PORTAL) + r"\|[^<>]*>")


def mrkdwn_texts(payload: Any) -> list[str]:
    """Every string Slack reads as mrkdwn: ``mrkdwn`` text objects, and a message's
    top-level ``text`` (its notification and fallback)."""
    found: list[str] = []
    if isinstance(payload, dict):
        if payload.get("type") == "mrkdwn":
            found.append(payload["text"])
        for value in payload.values():
            found += mrkdwn_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            found += mrkdwn_texts(item)
    return found


def live_tokens(texts: list[str]) -> list[str]:
    """What Slack would turn into a mention, broadcast or link, and was not made by the
    renderer; also a decoded entity (``&lt;`` typed by a person must show as typed)."""
    found = []
    for text in texts:
        rest = OWN_TOKENS.sub("", text)
        found += re.findall(r"<[^>]*>?", rest)
        found += [m for m in re.findall(r"&(?!amp;|lt;|gt;)\w+;", rest)]
    return found


def hostile_person(word: str, slack_id: str) -> Person:
    return Person(slack_id, f"{word}@example.com", f"{word} Name")


def hostile_requests(word: str) -> list[AccessRequest]:
    someone = hostile_person(word, "U_EVIL")
    custom = CustomPermissionSet(
        f"JIT-{word}",
        timedelta(hours=2),
        (word,),
        '{"Version": "2012-10-17", "Statement": [{"Sid": "' + word.replace('"', "") + '"}]}',
        (("high", f"Allows {word} on every resource"),),
    )
    fields = dict(
        requester=someone,
        account_name=word,
        permission_set_name=word,
        justification=f"{word}\nsecond line {word}",
    )
    samples = [
        pending(**fields),
        active(**fields),
        expired(**fields),
        rejected(word, **fields),
        revoked(**fields),
        pending(status=Status.PENDING_OWNER, custom=custom, **fields),
    ]
    # the reviewer's name and the session's end reason come from people too
    ended = revoked(**fields)
    reviewer = replace(ended.reviews[0], reviewer=someone, comment=word)
    session = GrantedSession(GRANTED, GRANTED + timedelta(hours=4), GRANTED, word)
    samples.append(replace(ended, reviews=(reviewer,), session=session))
    return samples


def renderings(request: AccessRequest, word: str) -> list[Any]:
    out: list[Any] = [
        approval_message(request, MessageRole.APPROVER),
        approval_message(request, MessageRole.ADMIN_APPROVER),
        requester_message(request),
        details_modal(request),
        reject_modal(request),
        *([revoke_modal(request, GRANTED)] if request.session is not None else []),
    ]
    for kind in NoticeKind:
        notice = Notice(kind, detail=word, by=word)
        for for_requester in (True, False):
            try:
                text = notice_text(request, notice, for_requester=for_requester, portal_url=PORTAL)
            except AssertionError:  # a notice that needs a session this sample lacks
                continue
            if text is not None:
                out.append({"type": "mrkdwn", "text": text})
    page = Page((request,), 1)
    for viewer in (RITA, OSCAR, ADA):
        data = HomeData(
            viewer,
            HomeState(),
            GRANTED,
            {"active": 0, "pending": 0, "total": 1, "approvals": 1},
            mine=page,
            sessions=page if request.session is not None else Page((), 0),
            approvals=page,
            history=page,
            managed=page if request.session is not None else Page((), 0),
            accounts=Page((AccountRow("111111111111", word, (word, word), 1, 0),), 1),
            actions={request.id: offered_actions(BUTTONS_CONFIG, request, viewer)},
            portal_url=PORTAL,
        )
        out.append(home_view(data))
    return out


@pytest.mark.parametrize("word", HOSTILE)
def test_no_hostile_string_becomes_a_mention_a_broadcast_or_a_link(word: str) -> None:
    for request in hostile_requests(word):
        for payload in renderings(request, word):
            texts = mrkdwn_texts(payload)
            assert texts, payload
            assert live_tokens(texts) == [], (request.status, payload)


@pytest.mark.parametrize("word", HOSTILE)
def test_the_hostile_string_still_shows_as_typed(word: str) -> None:
    message = approval_message(hostile_requests(word)[0])
    assert esc(word) in "\n".join(mrkdwn_texts(message))


def test_the_checker_finds_what_an_unescaped_renderer_would_leave() -> None:
    assert live_tokens(["hi <!channel>", "see <https://evil.example|aws>"]) == [
        "<!channel>",
        "<https://evil.example|aws>",
    ]
    assert live_tokens(["&lt;!channel&gt;", "<!date^1^{date}|x>"]) == []


def test_a_cut_never_splits_an_entity() -> None:
    assert cut(esc("ab<cd"), 5) == "ab…"
    assert cut(esc("a<b"), 10) == "a&lt;b"


# ---------------------------------------------------------------- what the bot tells


#: In the one Slack email: a broadcast, a mention, a disguised link and a pre-escaped
#: entity (the directory lower-cases emails, so the mention reads <@u123>).
HOSTILE_EMAIL = "<!channel><@U123><https://evil.example|ok>&lt;@example.com"


def test_an_explanation_quoting_a_hostile_email_arrives_as_plain_text(
    moto_world: DemoWorld, tmp_path: Path
) -> None:
    """A person whose Slack email matches no Identity Center user is told so, quoting
    the email: in the modal ``/jit`` opens, and in the ephemeral (or DM) that a forged
    submission gets (``tell``, ``chat.postEphemeral``'s mrkdwn ``text``)."""
    shown = esc(HOSTILE_EMAIL.lower())
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as bot:
        bot.fake.add_user(ZED[0], HOSTILE_EMAIL, ZED[2])  # Zed, with that email
        zed = bot.user("zed")

        explanation = bot.open_form(zed, title="Can't request access")
        texts = mrkdwn_texts(explanation)
        assert live_tokens(texts) == []
        assert f"(looked up: {shown})" in "\n".join(texts)

        # a forged submission of the form Zed was never shown: told in the DM it names
        metadata = json.dumps({"channel_id": bot.fake.dm_channel(zed.user_id)})
        catalog, durations = bot.rt.catalog, bot.rt.config.durations
        sandbox = catalog.account(bot.sandbox)
        form = request_modal(catalog, durations, account=sandbox, private_metadata=metadata)
        form.update(id=explanation["id"], hash=explanation["hash"], team_id=bot.fake.team_id)
        typed = {ids.ACTION_PERMISSION_SET: "ReadOnlyAccess", ids.ACTION_DURATION: "1h"}
        typed[ids.ACTION_JUSTIFICATION] = "Investigating failed deploys in OPS-1234"
        assert bot.forge_submission(zed, form, zed.fill(form, typed)).status == 200
        told = bot.wait_ephemeral(zed, 1)
        assert live_tokens([told]) == [], told
        assert f"No AWS IAM Identity Center user matches you (looked up: {shown})" in told
        assert bot.all_requests() == []


def test_tell_escapes_every_hostile_string(moto_world: DemoWorld, tmp_path: Path) -> None:
    """Whatever sentence a listener hands to ``tell`` shows exactly as written."""
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as bot:
        alice = bot.user("alice")
        channel = bot.fake.dm_channel(alice.user_id)
        for count, word in enumerate(HOSTILE, start=1):
            tell(bot.rt.client, alice.user_id, f":warning: {word}", channel)
            told = bot.wait_ephemeral(alice, count)
            assert live_tokens([told]) == [], told
            assert told == f":warning: {esc(word)}"
        # no channel: a DM
        tell(bot.rt.client, alice.user_id, HOSTILE[0])
        dm = bot.fake.wait_for(lambda: bot.fake.dm_messages(alice.user_id))[0].text
        assert dm == esc(HOSTILE[0])
