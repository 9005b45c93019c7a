"""Scenario tests of the Slack surface: the real Bolt app, served over HTTP by waitress,
receives signed payloads from simulated people (:class:`~sim.people.SlackUser`)
and talks to a fake Slack Web API; AWS is moto (in-process ``mock_aws``), the store
SQLite. Each test asserts what people see in Slack and what AWS holds.

Listener work runs after the ack in the runtime's listener pool, so effects are awaited with
``fake.wait_for``. Time is moved by calling ``rt.services.sweep(now)``; the scheduler is
never started. After every test, no Web API call may have been refused (Block Kit
checks, expired triggers, bad arguments) unless the test said it expected it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot import ids
from bot.render.modals import reject_modal, request_modal
from sim.aws_world import DemoWorld, assignments
from sim.people import SlackClientError
from tests.bot_harness import (
    FORM,
    JUSTIFICATION,
    Bot,
    action_ids,
    buttons,
    has_block,
    running_bot,
    text_of,
    view_text,
)
from tests.conftest import world_config
from workflows.assignments import AwsError
from workflows.config import parse_config
from workflows.domain import MessageRole
from workflows.states import Status


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running
    assert running.unexpected_refusals() == []


def input_labels(view: dict[str, Any]) -> list[str]:
    return [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]


def select_options(view: dict[str, Any], block_id: str) -> list[tuple[str, str]]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return [(o["value"], o["text"]["text"]) for o in block["element"]["options"]]


def valid_values(permission_set: str = "ReadOnlyAccess") -> dict[str, str]:
    return {
        ids.ACTION_PERMISSION_SET: permission_set,
        ids.ACTION_DURATION: "1h",
        ids.ACTION_JUSTIFICATION: JUSTIFICATION,
    }


def nothing_requested(bot: Bot) -> None:
    assert bot.all_requests() == []
    assert bot.fake.messages == []
    assert bot.fake.calls_to("chat.postMessage") == []
    assert assignments(bot.world) == []


# ----------------------------------------------------------------------------------
# /jit and the request modal
# ----------------------------------------------------------------------------------


def test_jit_opens_the_form_and_the_account_decides_the_permission_sets(bot: Bot) -> None:
    alice = bot.user("alice")
    response = alice.slash("/jit")
    assert response.status == 200 and response.body == ""  # acked at once, empty
    view = bot.fake.wait_for(alice.latest_view)

    assert view["title"]["text"] == "Request AWS access"
    assert view["submit"]["text"] == "Submit request"
    assert view["callback_id"] == ids.CALLBACK_REQUEST
    assert input_labels(view) == ["AWS account", "Duration", "Justification"]
    assert not has_block(view, ids.BLOCK_PERMISSION_SET)
    assert "Choose an account to see the permission sets" in view_text(view)
    assert select_options(view, ids.BLOCK_DURATION) == [
        ("1m", "1 minute"),
        ("1h", "1 hour"),
        ("4h", "4 hours"),
        ("1d", "1 day"),
    ]
    # the DM it was typed in travels with the form, for errors after submission
    assert json.loads(view["private_metadata"]) == {
        "channel_id": bot.fake.dm_channel(alice.user_id)
    }

    def labels(query: str) -> list[str]:
        return [
            o["text"]["text"] for o in alice.suggest(view, ids.ACTION_ACCOUNT, query)["options"]
        ]

    sandbox, production = f"Sandbox ({bot.sandbox})", f"Production ({bot.production})"
    assert labels("") == [sandbox, production]
    assert labels("PROD") == [production]
    assert labels("sand") == [sandbox]
    assert labels(bot.sandbox[:6]) == [sandbox]
    assert labels("staging") == []
    options = alice.suggest(view, ids.ACTION_ACCOUNT, "")["options"]
    assert [o["value"] for o in options] == [bot.sandbox, bot.production]

    view = bot.choose_account(alice, view, bot.production)
    assert input_labels(view) == ["AWS account", "Permission set", "Duration", "Justification"]
    assert select_options(view, ids.BLOCK_PERMISSION_SET) == [("ReadOnlyAccess", "ReadOnlyAccess")]
    assert view["blocks"][0]["element"]["initial_option"]["text"]["text"] == production

    view = bot.choose_account(alice, view, bot.sandbox)
    assert [v for v, _ in select_options(view, ids.BLOCK_PERMISSION_SET)] == [
        "ReadOnlyAccess",
        "AdministratorAccess",
    ]
    assert json.loads(view["private_metadata"])["channel_id"].startswith("D")
    nothing_requested(bot)


def test_a_nine_character_justification_is_refused_inline(bot: Bot) -> None:
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    values = {**valid_values(), ids.ACTION_JUSTIFICATION: "debugging"}

    response = alice.submit(view, values)

    assert response.status == 200 and response.problems == []
    assert response.json() == {
        "response_action": "errors",
        "errors": {
            ids.BLOCK_JUSTIFICATION: "Justification must be at least 10 characters (you wrote 9)."
        },
    }
    assert [v["id"] for v in bot.fake.open_modals(alice.user_id)] == [view["id"]]
    nothing_requested(bot)

    # blanks around it don't count either
    values[ids.ACTION_JUSTIFICATION] = "   debugging   \n"
    assert ids.BLOCK_JUSTIFICATION in alice.submit(view, values).json()["errors"]
    nothing_requested(bot)

    # the same modal, corrected, goes through
    values[ids.ACTION_JUSTIFICATION] = JUSTIFICATION
    assert alice.submit(view, values).body == ""
    bot.fake.wait_for(lambda: bot.requests(alice.user_id))
    assert bot.fake.open_modals(alice.user_id) == []


def test_forged_account_permission_set_or_duration_is_refused_inline(bot: Bot) -> None:
    """Payloads no Slack client would send (it only offers what the bot listed): each is
    refused under the field it forged, and nothing is stored or sent."""
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.production)
    not_allowed = f"Choose a permission set allowed on Production ({bot.production})."
    cases = [
        (
            ids.BLOCK_ACCOUNT,
            ids.ACTION_ACCOUNT,
            "999999999999",
            "Choose an AWS account from the list.",
        ),
        # an account of the organization that jitbot does not offer
        (
            ids.BLOCK_ACCOUNT,
            ids.ACTION_ACCOUNT,
            "123456789012",
            "Choose an AWS account from the list.",
        ),
        (ids.BLOCK_ACCOUNT, ids.ACTION_ACCOUNT, "", "Choose an AWS account from the list."),
        # allowed on Sandbox, not on Production
        (ids.BLOCK_PERMISSION_SET, ids.ACTION_PERMISSION_SET, "AdministratorAccess", not_allowed),
        (ids.BLOCK_PERMISSION_SET, ids.ACTION_PERMISSION_SET, "DoesNotExist", not_allowed),
        (ids.BLOCK_PERMISSION_SET, ids.ACTION_PERMISSION_SET, "", not_allowed),
        (ids.BLOCK_DURATION, ids.ACTION_DURATION, "52w", "Choose a duration from the list."),
    ]
    for block_id, action_id, forged, error in cases:
        state = alice.fill(view, valid_values())
        state[block_id][action_id]["selected_option"] = {
            "text": {"type": "plain_text", "text": forged or "?"},
            "value": forged,
        }

        response = bot.forge_submission(alice, view, state)

        assert response.status == 200
        assert response.json() == {"response_action": "errors", "errors": {block_id: error}}, forged
    nothing_requested(bot)


def test_a_set_chosen_for_another_account_does_not_survive_switching_accounts(bot: Bot) -> None:
    """Alice picks AdministratorAccess on Sandbox, then switches to Production: the
    selection Slack keeps in the form is not allowed there and is refused inline."""
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    first = alice.submit(
        view, {**valid_values("AdministratorAccess"), ids.ACTION_JUSTIFICATION: "too short"}
    )
    assert set(first.json()["errors"]) == {ids.BLOCK_JUSTIFICATION}

    view = bot.choose_account(alice, bot.fake.view(view["id"]), bot.production)
    response = alice.submit(view, {ids.ACTION_JUSTIFICATION: JUSTIFICATION})

    assert response.json()["errors"] == {
        ids.BLOCK_PERMISSION_SET: f"Choose a permission set allowed on Production ({bot.production})."
    }
    nothing_requested(bot)


def test_jit_with_an_account_name_preselects_it(bot: Bot) -> None:
    alice = bot.user("alice")

    view = bot.open_form(alice, text="production")

    assert has_block(view, ids.BLOCK_PERMISSION_SET)
    chosen = view["blocks"][0]["element"]["initial_option"]
    assert chosen["value"] == bot.production
    assert chosen["text"]["text"] == f"Production ({bot.production})"
    response = alice.submit(view, valid_values())
    assert response.body == ""
    request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
    assert request.account_id == bot.production
    assert request.approvers == ("U03OLGA",)

    # an ambiguous or unknown query preselects nothing
    for query in ("o", "staging"):
        assert not has_block(bot.open_form(alice, text=query), ids.BLOCK_PERMISSION_SET)


def test_a_requester_without_an_identity_center_user_is_told_why(bot: Bot) -> None:
    zed = bot.user("zed")

    explanation = bot.open_form(zed, title="Can't request access")

    text = view_text(explanation)
    assert "No AWS IAM Identity Center user matches you (looked up: zed@example.com)" in text
    assert "Ask your AWS administrator" in text
    assert "submit" not in explanation  # nothing to submit

    # Forged submissions of the form Zed was never shown are refused after the ack: in
    # the DM the form names, else in a DM.
    sandbox = bot.rt.catalog.account(bot.sandbox)
    channel = bot.fake.dm_channel(zed.user_id)
    for metadata in (json.dumps({"channel_id": channel}), ""):
        form = request_modal(
            bot.rt.catalog, bot.rt.config.durations, account=sandbox, private_metadata=metadata
        )
        form.update(id=explanation["id"], hash=explanation["hash"], team_id=bot.fake.team_id)
        state = zed.fill(form, valid_values())  # the account is the form's initial option

        response = bot.forge_submission(zed, form, state)
        assert response.status == 200 and response.body == ""

        if metadata:
            told = bot.wait_ephemeral(zed, 1)
            assert bot.fake.ephemerals(zed.user_id)[0].channel == channel
        else:
            told = bot.fake.wait_for(lambda: bot.fake.dm_messages(zed.user_id))[0].text
        assert "No AWS IAM Identity Center user matches you (looked up: zed@example.com)" in told
        assert "Ask your AWS administrator to create an Identity Center user" in told

    assert len(bot.fake.ephemerals(zed.user_id)) == 1
    assert [m.user_id_of_dm for m in bot.fake.messages] == [zed.user_id]
    assert bot.all_requests() == []
    assert assignments(bot.world) == []


def test_an_aws_failure_at_submission_is_explained_to_the_requester(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Identity Center throttled or unreachable when the form is submitted: the person is
    told so, rather than Slack showing a generic error after 3 s."""
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)

    def throttled(email: str) -> str | None:
        raise AwsError("identitystore GetUserId: ThrottlingException: Rate exceeded")

    monkeypatch.setattr(bot.rt.aws, "find_user_id", throttled)

    response = alice.submit(view, valid_values())

    # acked in time (the modal closes), then told in the DM the form came from
    assert response.status == 200 and response.problems == [], response
    told = bot.wait_ephemeral(alice, 1)
    assert told.startswith(":warning: ") and "AWS" in told and "no request was made" in told
    assert bot.fake.ephemerals(alice.user_id)[0].channel == bot.fake.dm_channel(alice.user_id)
    nothing_requested(bot)


def test_no_account_with_a_valid_permission_set_means_no_accounts_available(
    moto_world: DemoWorld, tmp_path: Path
) -> None:
    config = parse_config(
        f"""
admins: [ada@example.com]
accounts:
  - id: "{moto_world.accounts["Sandbox"]}"
    owners: [oscar@example.com]
    permission_sets: [DoesNotExist]
  - id: "{moto_world.accounts["Production"]}"
    owners: [olga@example.com]
    permission_sets: [AlsoMissing]
"""
    )
    with running_bot(moto_world, tmp_path, config) as bot:
        assert bot.rt.catalog.accounts == ()
        assert len(bot.rt.catalog.problems) == 2
        alice = bot.user("alice")

        view = bot.open_form(alice, title="No accounts available")

        assert "submit" not in view
        assert "There is no AWS account you can request access to yet" in view_text(view)
        assert "Ask your jitbot administrator" in view_text(view)
        nothing_requested(bot)
    assert bot.unexpected_refusals() == []


def _occupy_every_listener_worker(bot: Bot) -> threading.Event:
    """Hold every worker of the bot's listener pool until the returned event is set, as
    grants waiting on Identity Center's rate limit would."""
    pool = bot.rt.listeners
    release = threading.Event()
    started = threading.Barrier(pool._max_workers + 1)

    def hold() -> None:
        started.wait()
        release.wait(30)

    for _ in range(pool._max_workers):
        pool.submit(hold)
    started.wait(10)
    return release


def test_answers_and_modals_do_not_wait_for_a_free_listener_worker(bot: Bot) -> None:
    """With every worker of the listener pool held (grants waiting on Identity Center's
    rate limit, say), a form's inline errors are answered and ``/jit`` opens its modal
    at once (modal work has a pool of its own); a submission is answered and waits."""
    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    release = _occupy_every_listener_worker(bot)
    try:
        # the inline errors are worked out and answered in the request's own thread
        response = alice.submit(view, {**valid_values(), ids.ACTION_JUSTIFICATION: "too short"})
        assert response.status == 200
        assert response.json()["response_action"] == "errors"
        assert set(response.json()["errors"]) == {ids.BLOCK_JUSTIFICATION}
        # /jit opens the form now, within its trigger_id's 3 seconds
        form = bot.open_form(alice)
        view = bot.choose_account(alice, form, bot.sandbox)
        # a valid submission is answered (the modal closes); the request waits
        response = alice.submit(view, valid_values())
        assert response.status == 200 and response.body == ""
        time.sleep(0.3)
        assert bot.all_requests() == []
    finally:
        release.set()
    bot.fake.wait_for(lambda: bot.all_requests())
    bot.settle()
    assert [r.requester.email for r in bot.all_requests()] == ["alice@example.com"]


def test_a_missing_identity_center_user_is_told_once_a_listener_worker_is_free(
    bot: Bot,
) -> None:
    """The form opens while the listener pool is held; the identity check, which may
    call AWS, runs there and turns the form into the explanation once a worker is free."""
    zed = bot.user("zed")
    release = _occupy_every_listener_worker(bot)
    try:
        form = bot.open_form(zed)  # the request form, not yet the explanation
        assert "submit" in form
        time.sleep(0.3)
        assert zed.latest_view()["title"]["text"] == "Request AWS access"
    finally:
        release.set()
    explanation = bot.fake.wait_for(
        lambda: (v := zed.latest_view()) and v["title"]["text"] == "Can't request access" and v
    )
    assert "No AWS IAM Identity Center user matches you" in view_text(explanation)
    bot.settle()
    nothing_requested(bot)


def test_a_listener_that_fails_after_its_ack_tells_the_person(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = bot.request_access()
    oscar = bot.user("oscar")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(bot.rt.services, "decide", broken)
    response = oscar.click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    assert response.status == 200
    told = bot.fake.wait_for(
        lambda: [m for m in bot.fake.dm_messages(oscar.user_id) if "went wrong" in m.text]
    )
    assert told[0].text.startswith(":warning: Something went wrong on jitbot's side")
    assert bot.get(request.id).status == Status.PENDING
    assert assignments(bot.world) == []


def test_a_listener_that_fails_before_its_ack_is_answered_and_tells_the_person(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows import validation

    alice = bot.user("alice")
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(validation, "validate_form", broken)
    response = alice.submit(view, valid_values())
    assert response.status == 200 and response.body == ""  # no timeout shown in Slack
    told = bot.fake.wait_for(
        lambda: [m for m in bot.fake.dm_messages(alice.user_id) if "went wrong" in m.text]
    )
    assert told[0].text.startswith(":warning: Something went wrong on jitbot's side")
    assert bot.all_requests() == []


# ----------------------------------------------------------------------------------
# The request's messages
# ----------------------------------------------------------------------------------


def test_owners_get_the_request_with_its_buttons_and_the_requester_dm_is_the_root(
    bot: Bot,
) -> None:
    request = bot.request_access(duration="4h")

    assert request.status == Status.PENDING
    assert request.approvers == ("U02OSCAR", "U03OLGA")
    for owner in ("oscar", "olga"):
        root = bot.root(request, owner)
        assert bot.fake.dm_messages(bot.user(owner).user_id) == [root]
        assert action_ids(root) == [ids.ACTION_APPROVE, ids.ACTION_REJECT, ids.ACTION_DETAILS]
        values = {e["value"] for b in root.blocks for e in b.get("elements", []) if e.get("value")}
        assert values == {str(request.id)}
        shown = text_of(root)
        for words in (
            f"request #{request.id}",
            "Alice Archer (alice@example.com)",
            f"Sandbox ({bot.sandbox})",
            "ReadOnlyAccess",
            "4 hours",
            JUSTIFICATION,
            "Pending",
        ):
            assert words in shown, (words, shown)
        assert bot.replies(root) == []

    mine = bot.root(request, "alice")
    assert bot.fake.dm_messages(bot.user("alice").user_id) == [mine]
    assert [r.role for r in bot.get(request.id).messages][0] == MessageRole.REQUESTER
    assert action_ids(mine) == [ids.ACTION_DETAILS, ids.ACTION_NUDGE]
    assert f"Your request #{request.id}" in mine.text
    assert f"ReadOnlyAccess on Sandbox ({bot.sandbox}) for 4 hours" in mine.text
    for outsider in ("bob", "sam", "ada"):
        assert bot.fake.dm_messages(bot.user(outsider).user_id) == []
    assert len(bot.fake.messages) == 3


def test_an_account_without_another_owner_goes_to_the_admins(bot: Bot) -> None:
    """Olga alone owns Production: her own request goes to Ada (admin) and Sam (SSO
    admin), and her thread says so."""
    request = bot.request_access("olga", account="Production")

    assert request.approvers == ("U05ADA", "U04SAM")
    for admin in ("ada", "sam"):
        assert action_ids(bot.root(request, admin))[:2] == [ids.ACTION_APPROVE, ids.ACTION_REJECT]
    note = bot.wait_reply(bot.root(request, "olga"), "went to the jitbot admins")
    assert f"Production ({bot.production}) has no account owner who can approve this" in note
    assert bot.fake.dm_messages(bot.user("oscar").user_id) == []


def test_a_justification_of_many_short_lines_still_reaches_the_owners(bot: Bot) -> None:
    """2000 characters are allowed; quoted line by line they would overflow a section
    (3000), so the approval message must cut them rather than fail to post."""
    justification = "\n".join(["ok"] * 666)  # 1997 characters, 666 lines
    request = bot.request_access(justification=justification)

    root = bot.root(request, "oscar")
    assert ids.ACTION_APPROVE in action_ids(root)
    quoted = next(
        b["text"]["text"]
        for b in root.blocks
        if "*Justification*" in b.get("text", {}).get("text", "")
    )
    assert quoted.startswith("*Justification*\n> ok\n> ok")
    assert quoted.endswith("…") and len(quoted) <= 3000
    oscar = bot.user("oscar")
    oscar.click(root, ids.ACTION_DETAILS)
    assert "> ok" in view_text(bot.next_modal(oscar, None))
    assert bot.get(request.id).justification == justification  # stored whole


def test_an_owner_who_is_not_in_slack_grants_no_role_and_the_admins_are_told(
    moto_world: DemoWorld, tmp_path: Path
) -> None:
    """Sandbox's only owner has left the workspace: the admins are told at start-up
    that the entry binds nobody, and a request goes to them instead of waiting for a
    click that will never come."""
    config = parse_config(
        f"""
admins: [ada@example.com]
accounts:
  - id: "{moto_world.accounts["Sandbox"]}"
    name: Sandbox
    owners: [ghost@example.com]
    permission_sets: [ReadOnlyAccess]
"""
    )
    with running_bot(moto_world, tmp_path, config) as bot:
        bot.expect_refusal("users.lookupByEmail", "users_not_found")  # ghost
        alice = bot.user("alice")
        view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
        assert alice.submit(view, valid_values()).body == ""

        request = bot.fake.wait_for(
            lambda: next((r for r in bot.requests(alice.user_id) if r.messages), None)
        )
        bot.wait_reply(bot.root(request, "alice"), "went to the jitbot admins")
        alert = bot.fake.dm_messages(bot.user("ada").user_id)[0]
        assert alert.text.startswith(":rotating_light: The config names ghost@example.com")
        assert "grants no role" in alert.text
        assert bot.get(request.id).status == Status.PENDING
        assert request.approvers == ("U05ADA",)
    assert bot.unexpected_refusals() == []


# ----------------------------------------------------------------------------------
# Approve, and refusals
# ----------------------------------------------------------------------------------


def test_an_outsiders_forged_clicks_are_refused_and_nothing_changes(bot: Bot) -> None:
    """Bob owns nothing: Approve, Reject (no modal for him) and View details are refused
    with an ephemeral in his DM with the bot, in the words an id that names no request
    gets: nothing in the answer says the request exists or which account it is on."""
    request = bot.request_access()
    bob = bot.user("bob")
    unknown = request.id + 1000
    before = bot.snapshot()

    count = 0
    for action in (ids.ACTION_APPROVE, ids.ACTION_REJECT, ids.ACTION_DETAILS):
        answers = []
        for request_id in (request.id, unknown):
            assert bob.forge_click(action, str(request_id)).status == 200
            count += 1
            answers.append(bot.wait_ephemeral(bob, count))
        real, made_up = answers
        assert real == f":warning: There is no request #{request.id} that you can see.", action
        assert made_up == real.replace(f"#{request.id} ", f"#{unknown} "), action
        assert "Sandbox" not in real and bot.sandbox not in real

    shown = bot.fake.ephemerals(bob.user_id)
    assert {e.channel for e in shown} == {bot.fake.dm_channel(bob.user_id)}
    assert bot.fake.latest_view(bob.user_id) is None  # no reject modal, no details
    assert bot.snapshot() == before
    assert bot.get(request.id).status == Status.PENDING
    assert not bot.assigned(request)

    # Nor can he submit a reject modal he was never given (its metadata names the
    # request; authority is checked again on submission). He is told in a DM.
    reject_view = reject_modal(request)
    reject_view.update(id="V0FORGED", team_id=bot.fake.team_id)
    response = bot.forge_submission(
        bob,
        reject_view,
        {
            ids.BLOCK_REJECT_REASON: {
                ids.ACTION_REJECT_REASON: {"type": "plain_text_input", "value": "no"}
            }
        },
    )
    assert response.status == 200 and response.body == ""
    told = bot.fake.wait_for(lambda: bot.fake.dm_messages(bob.user_id))
    assert told[0].text == f":warning: There is no request #{request.id} that you can see."
    after = bot.snapshot()
    assert (after["requests"], after["aws"]) == (before["requests"], before["aws"])


def test_a_requester_cannot_approve_their_own_request(bot: Bot) -> None:
    """Not Alice, and not even Olga, an owner of Sandbox, whose own request for it went
    to Oscar alone."""
    for requester in ("alice", "olga"):
        request = bot.request_access(requester)
        me = bot.user(requester)
        with pytest.raises(SlackClientError, match="cannot see"):
            me.click(bot.root(request, "oscar"), ids.ACTION_APPROVE)  # not in their Slack
        before = bot.snapshot()

        me.forge_click(ids.ACTION_APPROVE, str(request.id))  # a copy of the button

        told = bot.wait_ephemeral(me, 1)
        assert told == (
            ":warning: You can't approve this request: you can't approve your own request."
        )
        assert bot.snapshot() == before
        assert not bot.assigned(request)
    assert request.approvers == ("U02OSCAR",)  # Olga's went to Oscar alone


def test_forged_request_ids_are_refused_and_nothing_changes(bot: Bot) -> None:
    request = bot.request_access()
    oscar = bot.user("oscar")  # an owner: only the id is wrong
    no_request = "That button doesn't name a request; nothing changed."
    cases = [
        (ids.ACTION_APPROVE, "abc", no_request),
        (ids.ACTION_APPROVE, "", no_request),
        (ids.ACTION_APPROVE, f"{request.id} OR 1=1", no_request),
        (ids.ACTION_APPROVE, "-1", no_request),
        (ids.ACTION_APPROVE, "9" * 13, no_request),
        # str.isdigit() but not int(): must be refused, not crash the listener
        (ids.ACTION_APPROVE, "\u00b2", no_request),
        (ids.ACTION_REJECT, "\u00b2", no_request),
        (ids.ACTION_APPROVE, "999", "There is no request #999 that you can see."),
        (ids.ACTION_REJECT, "abc", no_request),
        (ids.ACTION_REJECT, "999", "There is no request #999 that you can see."),
        (ids.ACTION_DETAILS, "abc", "You can't see that request."),
        (ids.ACTION_DETAILS, "999", "There is no request #999 that you can see."),
    ]
    before = bot.snapshot()

    for count, (action, value, told) in enumerate(cases, start=1):
        response = oscar.forge_click(action, value)
        assert response.status == 200 and response.elapsed < 3, (action, value, response)
        assert bot.wait_ephemeral(oscar, count) == f":warning: {told}", (action, value)

    assert bot.snapshot() == before
    assert bot.get(request.id).status == Status.PENDING
    assert bot.fake.latest_view(oscar.user_id) is None


def test_an_owners_approval_grants_access_and_updates_every_thread(bot: Bot) -> None:
    request = bot.request_access()
    oscar_root = bot.root(request, "oscar")

    started = time.monotonic()
    response = bot.user("oscar").click(oscar_root, ids.ACTION_APPROVE)
    assert response.status == 200 and time.monotonic() - started < 3  # acked in time

    alice_root = bot.root(request, "alice")
    granted = bot.wait_reply(alice_root, "Access granted")
    active = bot.get(request.id)
    assert active.status == Status.ACTIVE
    assert bot.assigned(active)
    assert assignments(bot.world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
    assert active.session is not None
    assert active.session.expires_at - active.session.granted_at == timedelta(hours=1)
    until = int(active.session.expires_at.timestamp())
    assert granted.startswith(
        f":large_green_circle: Access granted: ReadOnlyAccess on Sandbox ({bot.sandbox}) "
        f"until <!date^{until}^"
    )
    assert bot.replies(alice_root) == [
        ":white_check_mark: Approved by Oscar Owner. Granting access…",
        granted,
    ]

    for root in bot.roots(request, MessageRole.APPROVER):
        assert action_ids(root) == [ids.ACTION_DETAILS]  # no Approve / Reject left
        shown = text_of(root)
        assert "Approved by Oscar Owner" in shown and "Active" in shown
        assert f"Access until <!date^{until}^" in shown
        replies = bot.replies(root)
        assert replies[0] == ":white_check_mark: Approved by Oscar Owner."
        assert replies[1].startswith(":large_green_circle: Access granted until <!date^")
        assert len(replies) == 2
    assert "Approved by Oscar Owner" in text_of(alice_root)
    assert [e["action"] for e in bot.rt.store.audit_events(request.id)] == [
        "requested",
        "approved",
        "granted",
    ]


def test_a_second_owner_on_a_stale_message_is_told_who_decided(bot: Bot) -> None:
    request = bot.request_access()
    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_reply(bot.root(request, "olga"), "Access granted")
    olga, olga_root = bot.user("olga"), bot.root(request, "olga")
    with pytest.raises(SlackClientError, match="approve_request"):
        olga.click(olga_root, ids.ACTION_APPROVE)  # her Slack shows no button any more
    before = bot.snapshot()

    response = bot.click_stale(olga, olga_root, ids.ACTION_APPROVE)

    assert response.status == 200
    told = bot.wait_ephemeral(olga, 1)
    assert told == (
        ":warning: This request was already approved by Oscar Owner (oscar@example.com)."
    )
    assert bot.snapshot() == before
    assert assignments(bot.world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
    for root in bot.roots(request):
        assert len(bot.replies(root)) == 2  # approved, granted: once each


def test_two_owners_approving_at_once_make_one_decision(bot: Bot) -> None:
    request = bot.request_access()
    clickers = [(bot.user(o), bot.root(request, o)) for o in ("oscar", "olga")]
    barrier = threading.Barrier(2)

    def click(pair: Any) -> None:
        barrier.wait()
        pair[0].click(pair[1], ids.ACTION_APPROVE)

    threads = [threading.Thread(target=click, args=(pair,)) for pair in clickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    alice_root = bot.root(request, "alice")
    bot.wait_reply(alice_root, "Access granted")
    refused = bot.fake.wait_for(
        lambda: [e for u, _ in clickers for e in bot.fake.ephemerals(u.user_id)]
    )
    decided = bot.get(request.id)
    assert len(decided.reviews) == 1
    winner = decided.reviews[0].reviewer
    assert refused[0].text == (
        f":warning: This request was already approved by {winner.name} ({winner.email})."
    )
    assert refused[0].user != winner.slack_id
    assert assignments(bot.world) == [("Sandbox", "ReadOnlyAccess", "alice@example.com")]
    bot.settle()  # every thread's replies, not only Alice's, are delivered
    for root in bot.roots(request):
        assert len(bot.replies(root)) == 2


# ----------------------------------------------------------------------------------
# Reject
# ----------------------------------------------------------------------------------


def test_reject_opens_a_modal_and_the_reason_reaches_the_requester(bot: Bot) -> None:
    request = bot.request_access()
    olga = bot.user("olga")

    olga.click(bot.root(request, "olga"), ids.ACTION_REJECT)
    modal = bot.next_modal(olga, None)

    assert modal["callback_id"] == ids.CALLBACK_REJECT
    assert modal["title"]["text"] == "Reject request"
    assert (
        f"Reject *Alice Archer*'s request for *ReadOnlyAccess* on *Sandbox ({bot.sandbox})*?"
        in view_text(modal)
    )
    assert input_labels(modal) == ["Reason"]
    assert bot.get(request.id).status == Status.PENDING  # opening decides nothing

    response = olga.submit(modal, {ids.ACTION_REJECT_REASON: "Use the staging account first"})
    assert response.body == "" and bot.fake.open_modals(olga.user_id) == []

    alice_root = bot.root(request, "alice")
    reply = bot.wait_reply(alice_root, "Rejected")
    assert reply == ":x: Rejected by Olga Owner: “Use the staging account first”"
    bot.settle()  # the approvers' threads and re-renders too, not only Alice's
    assert bot.get(request.id).status == Status.REJECTED
    assert not bot.assigned(request)
    assert assignments(bot.world) == []
    for root in bot.roots(request, MessageRole.APPROVER):
        assert action_ids(root) == [ids.ACTION_DETAILS]
        assert "Rejected by Olga Owner" in text_of(root)
        assert bot.replies(root) == [reply]
    assert "Rejected by Olga Owner" in text_of(alice_root)
    assert bot.get(request.id).reviews[0].comment == "Use the staging account first"

    # the reason is optional
    second = bot.request_access()
    oscar = bot.user("oscar")
    oscar.click(bot.root(second, "oscar"), ids.ACTION_REJECT)
    assert oscar.submit(bot.next_modal(oscar, None)).body == ""
    assert bot.wait_reply(bot.root(second, "alice"), "Rejected") == ":x: Rejected by Oscar Owner."
    assert bot.get(second.id).reviews[0].comment is None


def test_a_reject_modal_submitted_after_an_approval_changes_nothing(bot: Bot) -> None:
    request = bot.request_access()
    olga = bot.user("olga")
    olga.click(bot.root(request, "olga"), ids.ACTION_REJECT)
    modal = bot.next_modal(olga, None)
    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    before = bot.snapshot()

    olga.submit(modal, {ids.ACTION_REJECT_REASON: "Too late"})

    told = bot.fake.wait_for(lambda: bot.fake.dm_messages(olga.user_id)[1:])
    assert told[0].text == (
        ":warning: This request was already approved by Oscar Owner (oscar@example.com)."
    )
    after = bot.snapshot()
    assert after["requests"] == before["requests"] and after["aws"] == before["aws"]
    assert bot.get(request.id).status == Status.ACTIVE


# ----------------------------------------------------------------------------------
# View details
# ----------------------------------------------------------------------------------


def test_view_details_for_the_requester_the_owners_and_the_admins(bot: Bot) -> None:
    request = bot.request_access()
    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_reply(bot.root(request, "alice"), "Access granted")

    for who in ("alice", "olga"):
        user = bot.user(who)
        before = user.latest_view()
        user.click(bot.root(request, who), ids.ACTION_DETAILS)
        modal = bot.next_modal(user, before)
        assert modal["title"]["text"] == "Request details"
        shown = view_text(modal)
        for words in (
            f"Request #{request.id}",
            "Alice Archer (alice@example.com)",
            f"Sandbox ({bot.sandbox})",
            JUSTIFICATION,
            "Reviewed by* Oscar Owner (oscar@example.com) — approved",
            "*Granted*",
            "*Ends*",
        ):
            assert words in shown, (who, words)

    sam = bot.user("sam")  # an SSO admin, not sent this request, may still look
    sam.forge_click(ids.ACTION_DETAILS, str(request.id))
    assert f"Request #{request.id}" in view_text(bot.next_modal(sam, None))
    assert bot.fake.ephemerals(sam.user_id) == []


# ----------------------------------------------------------------------------------
# Expiry
# ----------------------------------------------------------------------------------


def test_the_sweep_at_the_end_of_the_session_removes_access_and_tells_every_thread(
    bot: Bot,
) -> None:
    request = bot.request_access()
    bot.user("oscar").click(bot.root(request, "oscar"), ids.ACTION_APPROVE)
    bot.wait_reply(bot.root(request, "alice"), "Access granted")
    active = bot.get(request.id)
    assert active.session is not None
    ends = active.session.expires_at

    bot.rt.services.sweep(ends - timedelta(seconds=1))
    assert bot.get(request.id).status == Status.ACTIVE and bot.assigned(active)

    bot.rt.services.sweep(ends)
    bot.settle()

    expired = bot.get(request.id)
    assert expired.status == Status.EXPIRED
    assert not bot.assigned(expired)
    assert assignments(bot.world) == []
    roots = bot.roots(request)
    assert len(roots) == 3
    for root in roots:
        replies = bot.replies(root)
        assert len(replies) == 3, replies
        assert replies[-1].startswith(":black_circle: Access expired")
        assert f"ReadOnlyAccess on Sandbox ({bot.sandbox}) has been removed: no new" in replies[-1]
        assert "Sign-ins already open keep working until they end" in replies[-1]
        shown = text_of(root)
        assert "Expired" in shown and "Access ended" in shown and "(expired)" in shown
        mine = root.user_id_of_dm == bot.user("alice").user_id  # Request again: hers only
        assert action_ids(root) == [ids.ACTION_DETAILS] + ([ids.ACTION_REQUEST_AGAIN] * mine)

    bot.rt.services.sweep(ends + timedelta(hours=1))  # nothing more to do
    bot.settle()
    assert all(len(bot.replies(root)) == 3 for root in roots)


def test_a_request_nobody_decides_in_time_expires_and_its_buttons_go(bot: Bot) -> None:
    request = bot.request_access()

    bot.rt.services.sweep(request.approval_deadline - timedelta(seconds=1))
    assert bot.get(request.id).status == Status.PENDING
    bot.rt.services.sweep(request.approval_deadline)
    bot.settle()

    assert bot.get(request.id).status == Status.TIMED_OUT
    # before it, the reminders and the escalation of a request nobody answered
    assert bot.replies(bot.root(request, "alice"))[-1] == (
        ":black_circle: Your request expired: nobody approved it in time. "
        "Use /jit to ask again if you still need access."
    )
    for owner in ("oscar", "olga"):
        root = bot.root(request, owner)
        assert bot.replies(root)[-1] == ":black_circle: Expired without a decision."
        assert action_ids(root) == [ids.ACTION_DETAILS]
        assert "Expired" in text_of(root)

    oscar = bot.user("oscar")
    bot.click_stale(oscar, bot.root(request, "oscar"), ids.ACTION_APPROVE)
    assert bot.wait_ephemeral(oscar, 1) == (
        ":warning: This request can't be decided any more: it is Expired."
    )
    assert assignments(bot.world) == []


# ----------------------------------------------------------------------------------
# App Home
# ----------------------------------------------------------------------------------


def test_app_home_lists_my_requests_and_offers_the_form(bot: Bot) -> None:
    alice = bot.user("alice")
    assert alice.open_home().status == 200
    home = bot.fake.wait_for(lambda: bot.fake.home(alice.user_id))
    assert ids.ACTION_HOME_REQUEST in buttons(home["blocks"])
    assert "ReadOnlyAccess" not in view_text(home)

    bot.request_access()
    bot.request_access(account="Production", duration="1d")
    published = len(bot.fake.calls_to("views.publish"))
    assert alice.open_home().status == 200
    bot.fake.wait_for(lambda: len(bot.fake.calls_to("views.publish")) > published)

    def listed() -> dict[str, Any] | None:
        view = bot.fake.home(alice.user_id)
        shown = view_text(view) if view else ""
        wanted = (f"Sandbox ({bot.sandbox})", f"Production ({bot.production})", "Pending")
        return view if all(w in shown for w in wanted) else None

    home = bot.fake.wait_for(listed)
    shown = view_text(home)
    assert "ReadOnlyAccess" in shown
    assert shown.index(f"Production ({bot.production})") < shown.index(
        f"Sandbox ({bot.sandbox})"
    )  # newest first

    bob = bot.user("bob")  # sees none of Alice's requests
    bob.open_home()
    bob_home = bot.fake.wait_for(lambda: bot.fake.home(bob.user_id))
    assert f"({bot.sandbox})" not in view_text(bob_home)

    before = alice.latest_view()
    alice.click(home, ids.ACTION_HOME_REQUEST)
    form = bot.next_modal(alice, before)
    assert form["callback_id"] == ids.CALLBACK_REQUEST
    assert input_labels(form) == ["AWS account", "Duration", "Justification"]
    view = bot.choose_account(alice, form, bot.sandbox)
    assert alice.submit(view, valid_values()).body == ""
    bot.fake.wait_for(lambda: len(bot.requests(alice.user_id)) == 3)


# ----------------------------------------------------------------------------------
# Request signatures
# ----------------------------------------------------------------------------------


def slash_body(bot: Bot, who: str) -> bytes:
    user = bot.user(who)
    channel = bot.fake.dm_channel(user.user_id)
    return urlencode(
        {
            "token": "fake-verification-token",
            "team_id": bot.fake.team_id,
            "channel_id": channel,
            "user_id": user.user_id,
            "user_name": user.name,
            "command": "/jit",
            "text": "",
            "api_app_id": bot.fake.app_id,
            "response_url": bot.fake.register_response_url(user.user_id, channel),
            "trigger_id": bot.fake.new_trigger_id(user.user_id),
        }
    ).encode()


def test_requests_without_a_valid_signature_get_401_and_change_nothing(bot: Bot) -> None:
    request = bot.request_access()
    alice, bob = bot.user("alice"), bot.user("bob")
    forged_approve = urlencode(
        {
            "payload": json.dumps(
                {
                    **bot.envelope(bob, "block_actions"),
                    "trigger_id": bot.fake.new_trigger_id(bob.user_id),
                    "actions": [
                        {
                            "type": "button",
                            "action_id": ids.ACTION_APPROVE,
                            "block_id": "forged",
                            "value": str(request.id),
                        }
                    ],
                }
            )
        }
    ).encode()
    before, calls = bot.snapshot(), len(bot.fake.calls)

    for tamper in (
        {"secret": "not-the-signing-secret"},
        {"timestamp": int(time.time()) - 600},  # a replay, ten minutes later
        {"timestamp": int(time.time()) + 600},
        {"sign": False},
    ):
        assert alice.post_raw(slash_body(bot, "alice"), FORM, **tamper).status == 401, tamper
        assert bob.post_raw(forged_approve, FORM, **tamper).status == 401, tamper

    time.sleep(0.2)  # had anything been dispatched, it would show by now
    assert len(bot.fake.calls) == calls
    assert bot.snapshot() == before
    assert bot.get(request.id).status == Status.PENDING

    # the control: the same hand-made body, signed right, opens the form
    form = alice.latest_view()
    assert alice.post_raw(slash_body(bot, "alice"), FORM).status == 200
    assert bot.next_modal(alice, form)["callback_id"] == ids.CALLBACK_REQUEST


def test_a_sixth_pending_request_is_refused_inline_with_the_numbers(bot: Bot) -> None:
    alice = bot.user("alice")
    for _ in range(5):
        bot.request_access()
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)

    response = alice.submit(view, valid_values())

    assert response.json() == {
        "response_action": "errors",
        "errors": {
            ids.BLOCK_ACCOUNT: "You have 5 requests waiting for approval (at most 5). "
            "Cancel one in App Home, or wait for a decision."
        },
    }
    bot.settle()
    assert len(bot.requests(alice.user_id)) == 5
