"""Who may use the bot (issue 16, point 2), driven from outside over HTTP: the real Bolt
app served by waitress, the fake Slack Web API, moto. A user of another team, a guest, a
bot, a deactivated account, an unconfirmed email and an id Slack doesn't know are each
refused at ``/jit``, at the account options and at Approve, with the reason in words;
nothing is requested, approved or shown. Members are unaffected, and the check costs
one ``users.info`` a person a minute."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from sim.aws_world import DemoWorld, assignments
from sim.people import SlackUser
from tests.bot_harness import Bot, running_bot, view_text
from tests.conftest import world_config
from workflows.states import Status

OTHER_TEAM = "T0OTHER"


@dataclass(frozen=True)
class Hostile:
    """Someone the gate refuses: how they are in Slack, and the words they are told."""

    name: str
    flags: dict[str, Any]
    words: str
    #: whether the bot can write to them (not a bot, deactivated or unknown)
    reachable: bool = True
    #: the team their Slack payloads name (None: their own)
    claims_team: str | None = None


HOSTILE = [
    Hostile("outsider", {"team_id": OTHER_TEAM}, "people from other organizations"),
    # Slack Connect: the payload names the host team; only users.info tells
    Hostile("connect", {"team_id": OTHER_TEAM}, "other organizations", claims_team="T0FAKE"),
    Hostile("guest", {"is_restricted": True}, "guests can't use it"),
    Hostile("single", {"is_ultra_restricted": True}, "guests can't use it"),
    Hostile("robot", {"is_bot": True}, "bots and apps can't use it", reachable=False),
    Hostile("gone", {"deleted": True}, "deactivated", reachable=False),
    Hostile("unconfirmed", {"is_email_confirmed": False}, "confirmed email address"),
    Hostile("unknown", {}, "doesn't know this Slack account", reachable=False),
]


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running
    assert running.unexpected_refusals() == []


def person(bot: Bot, who: Hostile) -> SlackUser:
    """``who`` in the fake workspace, as a Slack client that signs like Slack."""
    user_id = f"U0{who.name.upper()}"
    bot.fake.add_user(user_id, f"{who.name}@example.com", who.name.title(), **who.flags)
    user = SlackUser(
        bot.fake, user_id, bot_url=bot.url, signing_secret=bot.secret, team_id=who.claims_team
    )
    bot.fake.dm_channel(user_id)
    if who.name == "unknown":
        bot.fake.remove_user(user_id)  # users.info: user_not_found
    return user


def protected(bot: Bot) -> dict[str, Any]:
    """What a refusal must leave alone: requests, audit, AWS, messages, modals."""
    snapshot = bot.snapshot()
    return {k: snapshot[k] for k in ("requests", "audit", "aws", "messages")}


def seen_by(bot: Bot, user: SlackUser) -> str:
    """Everything shown to ``user``: ephemerals, DMs, their modals and App Home."""
    texts = [e.text for e in bot.fake.ephemerals(user.user_id)]
    texts += [m.text for m in bot.fake.messages if m.user_id_of_dm == user.user_id]
    views = [v for v in bot.fake.views.values() if v.get("user_id") == user.user_id]
    texts += [view_text(v) for v in views]
    return "\n".join(texts)


@pytest.mark.parametrize("who", HOSTILE, ids=lambda h: h.name)
def test_refused_at_jit_at_the_account_options_and_at_approve(bot: Bot, who: Hostile) -> None:
    request = bot.request_access()  # Alice's, pending with Oscar and Olga
    alice = bot.user("alice")
    alice_form = bot.open_form(alice)
    bot.settle()
    before = protected(bot)
    user = person(bot, who)
    if who.name == "unknown":
        bot.expect_refusal("users.info", "user_not_found")

    # /jit: the answer says why, and no form opens
    answer = user.slash("/jit", "Sandbox")
    assert answer.status == 200
    told = bot.fake.ephemerals(user.user_id)
    assert len(told) == 1 and who.words in told[0].text
    assert user.latest_view() is None

    # the account options: none, not even a hint of an account
    options = user.forge_suggestion(alice_form, ids.ACTION_ACCOUNT, "San")
    assert options == {"options": []}
    assert "Sandbox" in json.dumps(alice.suggest(alice_form, ids.ACTION_ACCOUNT, "San"))

    # Approve on Alice's request, by its id
    click = user.forge_click(ids.ACTION_APPROVE, str(request.id))
    assert click.status == 200 and click.body == ""
    bot.settle()
    assert bot.get(request.id).status == Status.PENDING
    assert protected(bot) == before
    shown = seen_by(bot, user)
    assert "Sandbox" not in shown and f"#{request.id}" not in shown
    assert shown.count(who.words) == (2 if who.reachable else 1)


def test_a_member_is_unaffected_and_costs_one_users_info(bot: Bot) -> None:
    request = bot.request_access()  # /jit, the account select, the options, submit
    oscar = bot.user("oscar")
    assert oscar.click(bot.root(request, "oscar"), ids.ACTION_APPROVE).status == 200
    active = bot.wait_status(request.id, Status.ACTIVE)
    assert bot.assigned(active)
    bot.settle()
    looked_up = [c.args["user"] for c in bot.fake.calls_to("users.info")]
    # each person once for all their steps within the minute: Alice at /jit, Oscar and
    # Olga before their approval DMs (the gate is asked before a request is shown), so
    # Oscar's click needs none
    assert looked_up == [bot.user("alice").user_id, oscar.user_id, bot.user("olga").user_id]


def test_an_owner_who_became_a_guest_cannot_approve_and_is_told_why(bot: Bot) -> None:
    request = bot.request_access()
    oscar = bot.user("oscar")
    bot.fake.update_user(oscar.user_id, is_restricted=True)
    bot.rt.directory.forget(oscar.user_id)  # as if the minute had passed
    before = protected(bot)

    assert oscar.click(bot.root(request, "oscar"), ids.ACTION_APPROVE).status == 200
    told = bot.wait_ephemeral(oscar, 1)
    assert "jitbot is only for members of *Fake Workspace*; guests can't use it." in told
    bot.settle()
    assert bot.get(request.id).status == Status.PENDING
    assert protected(bot) == before

    # Olga, a member, approves as ever
    bot.user("olga").click(bot.root(request, "olga"), ids.ACTION_APPROVE)
    assert bot.assigned(bot.wait_status(request.id, Status.ACTIVE))


def test_a_guest_submitting_a_form_or_using_the_home_sees_only_why(bot: Bot) -> None:
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    assert alice.open_home().status == 200
    member_home = bot.fake.wait_for(lambda: bot.fake.home(alice.user_id))
    bot.settle()
    bot.fake.update_user(alice.user_id, is_ultra_restricted=True)
    bot.rt.directory.forget(alice.user_id)
    before = protected(bot)

    sent = alice.submit(
        view,
        {
            ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
            ids.ACTION_DURATION: "1h",
            ids.ACTION_JUSTIFICATION: "Investigating failed deploys in OPS-1234",
        },
    )
    assert sent.status == 200 and sent.problems == []
    modal = bot.fake.view(view["id"])
    assert modal is not None and "guests can't use it" in view_text(modal)

    # a click in the home she still has open, then opening it again
    assert alice.click(member_home, ids.ACTION_HOME_REQUEST).status == 200

    def refused_home() -> dict[str, Any] | None:
        home = bot.fake.home(alice.user_id)
        return home if home and "guests can't use it" in view_text(home) else None

    home = bot.fake.wait_for(refused_home)
    assert "Request Access" not in view_text(home) and len(home["blocks"]) == 1
    assert alice.open_home().status == 200
    bot.settle()
    assert view_text(bot.fake.home(alice.user_id) or {}) == view_text(home)
    assert protected(bot) == before
    assert bot.all_requests() == [] and len(bot.fake.calls_to("views.open")) == 1


@pytest.mark.parametrize(
    "user",
    [{"id": "<!channel>", "team_id": "T0FAKE"}, {"id": "U" + "9" * 5000}, "U01ALICE", None],
    ids=["mrkdwn", "huge", "a-string", "none"],
)
def test_a_payload_whose_user_is_no_slack_id_is_refused_without_asking_slack(
    bot: Bot, user: Any
) -> None:
    sender = bot.user("alice")
    payload = {
        "type": "block_suggestion",
        "user": user,
        "team": {"id": "T0FAKE"},
        "action_id": ids.ACTION_ACCOUNT,
        "block_id": ids.BLOCK_ACCOUNT,
        "value": "San",
    }
    answer = bot.post_interaction(sender, payload)
    assert answer.status == 200 and answer.json() == {"options": []}
    click = {
        **payload,
        "type": "block_actions",
        "actions": [{"action_id": ids.ACTION_APPROVE, "type": "button", "value": "1"}],
    }
    assert bot.post_interaction(sender, click).status == 200
    bot.settle()
    assert bot.fake.calls_to("users.info") == []
    assert bot.fake.messages == [] and bot.fake.ephemerals(sender.user_id) == []


def test_a_foreign_org_in_the_payload_is_refused_without_asking_slack(bot: Bot) -> None:
    user = person(bot, Hostile("member", {}, ""))
    user.enterprise_id = "E0ELSEWHERE"  # team.enterprise_id and enterprise.id
    assert user.forge_click(ids.ACTION_APPROVE, "1").status == 200
    assert "other organizations" in bot.wait_ephemeral(user, 1)
    assert bot.fake.calls_to("users.info") == []


def test_requests_that_name_no_person_still_work(bot: Bot) -> None:
    user = bot.user("alice")
    challenge = {"type": "url_verification", "challenge": "c-123", "token": "t"}
    answer = user.post_raw(json.dumps(challenge).encode(), "application/json")
    assert answer.status == 200 and "c-123" in answer.body
    event = {
        "type": "event_callback",
        "team_id": "T0FAKE",
        "event": {"type": "tokens_revoked", "tokens": {"bot": ["U0JITBOT"]}},
    }
    assert user.post_raw(json.dumps(event).encode(), "application/json").status == 200
    assert bot.fake.calls_to("users.info") == []


@pytest.fixture
def guests_bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    config = world_config(moto_world, "allow_guests: true\n")
    with running_bot(moto_world, tmp_path, config) as running:
        yield running
    assert running.unexpected_refusals() == []


def test_with_allow_guests_a_guest_and_a_connect_user_may_request(guests_bot: Bot) -> None:
    bot = guests_bot
    bot.fake.update_user(bot.user("bob").user_id, is_restricted=True)
    request = bot.request_access("bob")
    assert request.status == Status.PENDING
    # Alice as a Slack Connect user of another organization, with an Identity Center user
    bot.fake.update_user(bot.user("alice").user_id, team_id=OTHER_TEAM)
    alice = SlackUser(
        bot.fake, bot.user("alice").user_id, bot_url=bot.url, signing_secret=bot.secret
    )
    assert alice.team_id == OTHER_TEAM
    assert bot.open_form(alice)["title"]["text"] == "Request AWS access"
    assert assignments(bot.world) == []


def test_with_allow_guests_bots_and_deactivated_accounts_are_still_refused(
    guests_bot: Bot,
) -> None:
    for who in (HOSTILE[4], HOSTILE[5]):
        user = person(guests_bot, who)
        user.slash("/jit")
        assert who.words in guests_bot.fake.ephemerals(user.user_id)[0].text
        assert user.latest_view() is None


def test_refusal_words_name_the_workspace(bot: Bot) -> None:
    user = person(bot, HOSTILE[2])
    user.slash("/jit")
    text = bot.fake.ephemerals(user.user_id)[0].text
    assert text == ":no_entry: jitbot is only for members of *Fake Workspace*; guests can't use it."
