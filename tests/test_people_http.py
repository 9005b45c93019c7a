"""People are stable ids, driven from outside over HTTP (issue 16's "Done when"): signed
clicks to the real Bolt app, Slack faked (its users' emails changed the way a Slack
admin or a SAML push would), AWS on moto.

The bot is restarted on the same database after the emails change, so nothing it cached
of a person (its directory keeps them for minutes) hides the change: what it sees of
Alice is her new email. The periodic re-resolution is run by hand (``rt.binder.run``,
what the ``identity.resolve_interval`` job runs), as other tests move time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bot import ids
from bot.render.alerts import ACTION_CONFIRM_REBIND
from sim.aws_world import DemoWorld
from sim.people import SlackUser
from tests.bot_harness import Bot, running_bot, text_of
from tests.conftest import world_config
from tests.test_custom_flow import CUSTOM, S3_FORM, open_custom_form
from workflows.states import Status


def click(bot: Bot, user: SlackUser, action_id: str, value: str) -> None:
    """``user`` clicks a button with ``value`` in their DM with the bot (a forged
    Approve needs no approval message of their own: the server decides)."""
    channel = bot.fake.dm_channel(user.user_id)
    payload: dict[str, Any] = {
        **bot.envelope(user, "block_actions"),
        "container": {"type": "message", "message_ts": "1.0", "channel_id": channel},
        "trigger_id": bot.fake.new_trigger_id(user.user_id),
        "channel": {"id": channel, "name": "directmessage"},
        "state": {"values": {}},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "text": {"type": "plain_text", "text": "x"},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    assert bot.post_interaction(user, payload).status == 200


def told(bot: Bot, user: SlackUser, words: str) -> str:
    """The ephemeral (or DM) text ``user`` was shown containing ``words``."""

    def found() -> str | None:
        texts = [e.text for e in bot.fake.ephemerals(user.user_id)]
        texts += [text_of(m) for m in bot.fake.dm_messages(user.user_id)]
        return next((t for t in texts if words in t), None)

    return bot.fake.wait_for(found)


def told_again(bot: Bot, user: SlackUser, action_id: str, value: str) -> str:
    """Click, and the text of the new ephemeral ``user`` is shown for it."""
    before = len(bot.fake.ephemerals(user.user_id))
    click(bot, user, action_id, value)
    bot.fake.wait_for(lambda: len(bot.fake.ephemerals(user.user_id)) > before or None)
    return bot.fake.ephemerals(user.user_id)[-1].text


def alert_with_confirm(bot: Bot, admin: SlackUser, entry: str) -> dict[str, Any]:
    """The Confirm button of the alert ``admin`` got about ``entry``."""

    def found() -> dict[str, Any] | None:
        for message in bot.fake.dm_messages(admin.user_id):
            for block in message.blocks or []:
                for element in block.get("elements") or []:
                    if element.get("action_id") != ACTION_CONFIRM_REBIND:
                        continue
                    # the button's change, not the text: another alert may quote ``entry``
                    if json.loads(element["value"]).get("entry") == entry:
                        return element
        return None

    return bot.fake.wait_for(found)


def test_an_email_taken_over_grants_nothing_until_an_admin_confirms_and_never_self_approval(
    moto_world: DemoWorld, tmp_path: Path
):
    config = world_config(moto_world)
    with running_bot(moto_world, tmp_path, config) as bot:
        request = bot.request_access("alice")
        assert set(request.approvers) == {"U02OSCAR", "U03OLGA"}  # the bound ids were DM'd
    with running_bot(moto_world, tmp_path, config) as bot:
        alice, bob, ada = bot.user("alice"), bot.user("bob"), bot.user("ada")
        # Slack now says: Alice has Oscar's email, Bob has Olga's
        bot.fake.add_user("U02OSCAR", "oscar.old@example.com", "Oscar Owner")
        bot.fake.add_user("U01ALICE", "oscar@example.com", "Alice Archer")
        bot.fake.add_user("U03OLGA", "olga.old@example.com", "Olga Owner")
        bot.fake.add_user("U06BOB", "olga@example.com", "Bob Builder")
        changes = dict(bot.rt.binder.resolve_all())
        assert (
            changes["oscar@example.com"]
            == changes["olga@example.com"]
            == ("identity_rebind_detected")
        )
        confirm_olga = alert_with_confirm(bot, ada, "olga@example.com")
        olga_alert = next(
            m.text for m in bot.fake.dm_messages(ada.user_id) if "olga@example.com now" in m.text
        )
        assert (
            "to U06BOB (olga@example.com); it was bound to U03OLGA (olga@example.com), "
            "whose email is now olga.old@example.com." in olga_alert
        )
        assert json.loads(confirm_olga["value"]) == {"entry": "olga@example.com", "to": "U06BOB"}

        # the old ids stay: Bob, with Olga's email, is nobody's owner yet
        click(bot, bob, ids.ACTION_APPROVE, str(request.id))
        assert "that you can see" in told(bot, bob, "can see")
        # and Alice, with Oscar's email, is still the requester
        click(bot, alice, ids.ACTION_APPROVE, str(request.id))
        assert "you can't approve your own request" in told(bot, alice, "own request")
        # a non-admin's click on Confirm changes nothing
        click(bot, bob, ACTION_CONFIRM_REBIND, confirm_olga["value"])
        assert "Only a jitbot admin" in told(bot, bob, "Only a jitbot admin")
        assert bot.get(request.id).status == Status.PENDING

        # forged Confirm values change nothing either
        for forged, words in (
            ("not json", "doesn't name a change"),
            ('{"entry": "olga@example.com", "to": "U09EVE"}', "no change of olga@example.com"),
            ('{"entry": "<!channel>", "to": null}', "no change of &lt;!channel&gt;"),
        ):
            click(bot, ada, ACTION_CONFIRM_REBIND, forged)
            told(bot, ada, words)
        assert bot.get(request.id).status == Status.PENDING

        # Ada confirms both from her alerts
        click(bot, ada, ACTION_CONFIRM_REBIND, confirm_olga["value"])
        told(bot, ada, "Confirmed: olga@example.com is now U06BOB")
        confirm_oscar = alert_with_confirm(bot, ada, "oscar@example.com")
        click(bot, ada, ACTION_CONFIRM_REBIND, confirm_oscar["value"])
        told(bot, ada, "Confirmed: oscar@example.com is now U01ALICE")

        # oscar@example.com now is Alice: still her own request, by id
        again = told_again(bot, alice, ids.ACTION_APPROVE, str(request.id))
        assert "you can't approve your own request" in again
        assert bot.get(request.id).status == Status.PENDING

        actions = [e["action"] for e in bot.rt.store.audit_events()]
        assert actions.count("identity_rebind_detected") == 2
        assert actions.count("identity_rebind_confirmed") == 2
        confirmed = [
            e for e in bot.rt.store.audit_events() if e["action"] == "identity_rebind_confirmed"
        ]
        assert confirmed[0]["actor"] == "U05ADA"
        assert confirmed[0]["detail"]["actor_email"] == "ada@example.com"
        assert confirmed[0]["detail"]["old_slack_id"] == "U03OLGA"

        # Bob, now the bound olga@example.com, may approve
        click(bot, bob, ids.ACTION_APPROVE, str(request.id))
        approved = bot.wait_status(request.id, Status.ACTIVE, timeout=15)
        assert approved.reviews[-1].reviewer.slack_id == "U06BOB"
        event = next(e for e in bot.rt.store.audit_events(request.id) if e["action"] == "approved")
        assert event["actor"] == "U06BOB" and event["detail"]["actor_email"] == "olga@example.com"
        assert event["detail"]["actor_principal"]  # Olga's Identity Center user, by her email


def test_one_person_with_two_emails_cannot_approve_both_stages_of_a_custom_request(
    moto_world: DemoWorld, tmp_path: Path
):
    """Olga approves the owner stage as olga@example.com; then Slack gives her Sam's
    email (the SSO admin's) and an admin confirms that sam@example.com is now her."""
    config = world_config(moto_world, CUSTOM)
    with running_bot(moto_world, tmp_path, config) as bot:
        alice, olga = bot.user("alice"), bot.user("olga")
        view = open_custom_form(bot, alice)
        assert alice.submit(view, S3_FORM).json() == {}
        request = bot.fake.wait_for(lambda: bot.requests(alice.user_id))[0]
        bot.wait_status(request.id, Status.PENDING_OWNER)
        bot.fake.wait_for(lambda: bot.get(request.id).messages[2:] or None)
        olga.click(bot.root(request, "olga"), ids.ACTION_APPROVE)
        bot.wait_status(request.id, Status.PENDING_ADMIN)
        bot.settle()
    with running_bot(moto_world, tmp_path, config) as bot:
        olga, ada = bot.user("olga"), bot.user("ada")
        bot.fake.add_user("U04SAM", "sam.old@example.com", "Sam SsoAdmin")
        bot.fake.add_user("U03OLGA", "sam@example.com", "Olga Owner")
        assert dict(bot.rt.binder.resolve_all())["sam@example.com"] == "identity_rebind_detected"

        # Olga, with Sam's email, is refused before the confirmation
        refusal = "you approved the owner stage; another person must give the final approval"
        click(bot, olga, ids.ACTION_APPROVE, str(request.id))
        told(bot, olga, refusal)
        confirm = alert_with_confirm(bot, ada, "sam@example.com")
        click(bot, ada, ACTION_CONFIRM_REBIND, confirm["value"])
        told(bot, ada, "Confirmed: sam@example.com is now U03OLGA")

        # and after it, when she is an SSO admin by binding: still the owner stage's approver
        assert refusal in told_again(bot, olga, ids.ACTION_APPROVE, str(request.id))
        assert bot.get(request.id).status == Status.PENDING_ADMIN
        assert bot.get(request.id).reviews[0].reviewer.slack_id == "U03OLGA"


def test_a_deactivated_owner_is_a_rebind_to_nobody_kept_until_confirmed(
    moto_world: DemoWorld, tmp_path: Path
):
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as bot:
        bot.fake.update_user("U02OSCAR", deleted=True)
        assert dict(bot.rt.binder.resolve_all()) == {
            "oscar@example.com": "identity_rebind_detected"
        }
        confirm = alert_with_confirm(bot, bot.user("ada"), "oscar@example.com")
        assert json.loads(confirm["value"]) == {"entry": "oscar@example.com", "to": None}
        assert "resolves in Slack to nobody in Slack" in text_of(
            bot.fake.dm_messages(bot.user("ada").user_id)[-1]
        )
        assert dict(bot.rt.binder.resolve_all()) == {}, "told once"
        [oscar] = [b for b in bot.rt.store.bindings() if b.entry == "oscar@example.com"]
        assert oscar.slack_id == "U02OSCAR" and oscar.pending and oscar.pending_slack_id is None
