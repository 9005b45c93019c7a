"""The gate's rules (who is one of ours, from a payload and a user object), Enterprise
Grid included, and the directory's cache of user objects against the fake Slack over
HTTP, with time moved by a clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.directory import STALE_FOR, SlackDirectory, SlackMember
from bot.gate import Actor, Gate, Home, actor_of, claims_foreign, refusal
from bot.gate_tell import WHY, Reason, Teller
from sim.fake_slack import FakeSlack

WORKSPACE = Home("T1", None, "Acme")
GRID = Home("T1", "E1", "Acme Org")


def member(**changes: Any) -> SlackMember:
    fields: dict[str, Any] = {
        "slack_id": "U1",
        "team_id": "T1",
        "enterprise_id": None,
        "is_bot": False,
        "deleted": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_stranger": False,
        "is_email_confirmed": True,
    }
    return SlackMember(**{**fields, **changes})


def actor(teams: tuple[str, ...] = ("T1",), enterprises: tuple[str, ...] = ()) -> Actor:
    return Actor("block_actions", "U1", teams, enterprises)


# ---- what a payload says -----------------------------------------------------------


def test_a_slash_command_names_its_user_team_and_org() -> None:
    body = {"command": "/jit", "user_id": "U1", "team_id": "T1", "enterprise_id": "E1"}
    assert actor_of(body) == Actor("command", "U1", ("T1",), ("E1",))


def test_an_interaction_names_the_users_team_the_team_and_the_org() -> None:
    body = {
        "type": "block_suggestion",
        "user": {"id": "U1", "team_id": "E1"},
        "team": {"id": "T2", "enterprise_id": "E1"},
        "enterprise": {"id": "E1", "name": "Acme Org"},
    }
    assert actor_of(body) == Actor("block_suggestion", "U1", ("E1", "T2"), ("E1", "E1"))


def test_an_interaction_without_a_proper_user_names_nobody_in_particular() -> None:
    assert actor_of({"type": "block_actions", "user": "U1"}) == Actor("block_actions", None, (), ())
    assert actor_of({"type": "view_submission", "user": {"id": 7}}).user_id is None  # type: ignore[union-attr]


def test_app_home_opened_names_the_event_user_and_the_envelope_team() -> None:
    body = {
        "type": "event_callback",
        "team_id": "T1",
        "event": {"type": "app_home_opened", "user": "U1"},
    }
    assert actor_of(body) == Actor("event:app_home_opened", "U1", ("T1",), ())


@pytest.mark.parametrize(
    "body",
    [
        {"type": "url_verification", "challenge": "x"},
        {"type": "event_callback", "event": {"type": "tokens_revoked"}},
        {"type": "event_callback", "event": {"type": "user_change", "user": {"id": "U1"}}},
    ],
)
def test_requests_without_a_person_are_passed_on(body: dict[str, Any]) -> None:
    assert actor_of(body) is None


# ---- whose they are ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("home", "claims", "foreign"),
    [
        (WORKSPACE, actor(), False),
        (WORKSPACE, actor(("T2",)), True),
        (WORKSPACE, actor(("T1",), ("E9",)), True),  # an org we aren't in
        (GRID, actor(("E1",)), False),  # user.team_id is the org in an org
        (GRID, actor(("T2",), ("E1",)), False),  # another workspace of our org
        (GRID, actor(("T2",)), True),  # a team that says no org
        (GRID, actor(("T1",), ("E9",)), True),
    ],
)
def test_claims_outside_the_installation_are_foreign(
    home: Home, claims: Actor, foreign: bool
) -> None:
    assert claims_foreign(home, claims) is foreign


@pytest.mark.parametrize(
    ("home", "user", "reason"),
    [
        (WORKSPACE, member(), None),
        (WORKSPACE, member(team_id="T2"), Reason.STRANGER),
        (WORKSPACE, member(is_stranger=True), Reason.STRANGER),
        (GRID, member(team_id="T7", enterprise_id="E1"), None),
        (GRID, member(team_id="E1"), None),
        (GRID, member(team_id="T7", enterprise_id="E9"), Reason.STRANGER),
        (WORKSPACE, member(is_restricted=True), Reason.GUEST),
        (WORKSPACE, member(is_ultra_restricted=True), Reason.GUEST),
        (WORKSPACE, member(is_bot=True, is_restricted=True), Reason.BOT),
        (WORKSPACE, member(deleted=True), Reason.DEACTIVATED),
        (WORKSPACE, member(is_email_confirmed=False), Reason.UNCONFIRMED),
        (WORKSPACE, None, Reason.UNKNOWN),
    ],
)
def test_who_is_refused(home: Home, user: SlackMember | None, reason: Reason | None) -> None:
    claims = actor(("E1",) if home.enterprise_id and user and user.team_id == "E1" else ("T1",))
    assert refusal(home, claims, user, allow_guests=False) is reason


def test_allow_guests_lets_in_guests_and_strangers_but_not_the_rest() -> None:
    def let_in(user: SlackMember, claims: Actor | None = None) -> bool:
        return refusal(WORKSPACE, claims or actor(), user, allow_guests=True) is None

    assert let_in(member(is_restricted=True))
    assert let_in(member(team_id="T2"), actor(("T2",)))
    assert not let_in(member(is_bot=True))
    assert not let_in(member(deleted=True))
    assert not let_in(member(team_id="T2", is_email_confirmed=False))


def test_the_user_object_is_read_as_slack_documents_it() -> None:
    user = {
        "id": "W1",
        "team_id": "T7",
        "enterprise_user": {"enterprise_id": "E1", "teams": ["T7"]},
        "is_restricted": True,
        "is_email_confirmed": True,
    }
    assert SlackMember.of(user) == member(
        slack_id="W1", team_id="T7", enterprise_id="E1", is_restricted=True
    )
    assert SlackMember.of({"id": "U2"}).is_email_confirmed is False  # not said: not confirmed
    assert SlackMember.of({"id": "USLACKBOT"}).is_bot


def test_the_words_escape_the_workspace_name() -> None:
    home = Home("T1", None, "<!channel> & Co")
    gate = Gate(home, None, None, Teller(None), allow_guests=False, later=print)  # type: ignore[arg-type]
    assert gate.text(Reason.GUEST) == (
        ":no_entry: jitbot is only for members of *&lt;!channel&gt; &amp; Co*; guests can't use it."
    )
    assert all("{workspace}" not in WHY[r] or "*{workspace}*" in WHY[r] for r in Reason)


# ---- the directory's cache ------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_user("UALICE", "alice@example.com", "Alice Doe")
        yield server


def lookups(fake: FakeSlack) -> list[str]:
    return [c.args["user"] for c in fake.calls_to("users.info")]


def test_a_member_is_asked_for_again_only_after_max_age(fake: FakeSlack) -> None:
    clock = Clock()
    directory = SlackDirectory(WebClient(base_url=fake.url, token=fake.token), clock=clock)
    assert directory.member("UALICE", max_age=60) == member(slack_id="UALICE", team_id="T0FAKE")
    clock.now += 60
    directory.member("UALICE", max_age=60)
    directory.person("UALICE")  # the same user object serves the email
    assert lookups(fake) == ["UALICE"]
    fake.update_user("UALICE", deleted=True)
    clock.now += 1
    assert directory.member("UALICE", max_age=60).deleted  # type: ignore[union-attr]
    assert lookups(fake) == ["UALICE", "UALICE"]


def test_an_unknown_id_is_remembered_as_unknown(fake: FakeSlack) -> None:
    clock = Clock()
    directory = SlackDirectory(WebClient(base_url=fake.url, token=fake.token), clock=clock)
    assert directory.member("UNOBODY", max_age=60) is None
    assert directory.member("UNOBODY", max_age=60) is None
    assert lookups(fake) == ["UNOBODY"]
    with pytest.raises(SlackApiError):
        directory.person("UNOBODY")


def test_when_slack_fails_a_recent_answer_stands_in_and_none_means_refused(
    fake: FakeSlack,
) -> None:
    clock = Clock()
    client = WebClient(base_url=fake.url, token=fake.token, retry_handlers=[])
    directory = SlackDirectory(client, clock=clock)
    directory.member("UALICE", max_age=60)
    clock.now += STALE_FOR
    fake.fail_next("users.info", status=503)
    assert directory.member("UALICE", max_age=60) is not None
    clock.now += 1
    fake.fail_next("users.info", status=503)
    with pytest.raises(SlackApiError):
        directory.member("UALICE", max_age=60)
    fake.add_user("UBOB", "bob@example.com", "Bob")
    fake.fail_next("users.info", error="ratelimited")
    with pytest.raises(SlackApiError):
        directory.member("UBOB", max_age=60)


def test_a_person_found_by_email_is_known_by_id_without_another_call(fake: FakeSlack) -> None:
    directory = SlackDirectory(WebClient(base_url=fake.url, token=fake.token))
    assert directory.slack_id_for("Alice@Example.com") == "UALICE"
    assert directory.member("UALICE", max_age=60) is not None
    assert directory.person("UALICE").email == "alice@example.com"
    assert lookups(fake) == []
