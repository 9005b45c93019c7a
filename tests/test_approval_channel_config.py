"""Approvals channel's config, message and check-config: ``approval_channel`` and
``notify_approvers`` validated with the key path, the rule's keys winning over the
account's, the channel message naming who may approve (mentions of bound ids, anything
else escaped), and ``check-config`` naming a channel Slack does not know or the bot is
not in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import channel_lookup
from bot.cli import main
from bot.render.channel_message import MAX_MENTIONS, channel_message, eligible_line
from sim.aws_world import DemoWorld
from sim.demo_setup import PEOPLE
from sim.fake_slack import FakeSlack, block_kit_problems
from tests.test_cli import env, fake  # noqa: F401 - fixtures
from workflows.access_rules import default_rule
from workflows.config import ConfigError, parse_config
from workflows.domain import AccessRequest, Person
from workflows.policy import ApproverRouting
from workflows.services.channel import ChannelChoice, channel_choice, channel_threads
from workflows.states import Status

ACCOUNT = "111111111111"


def _config(account_keys: str = "", rule_keys: str | None = None):
    rule = (
        f"""
access_rules:
  - name: read
    accounts: ["{ACCOUNT}"]
    permission_sets: [ReadOnlyAccess]
{rule_keys}"""
        if rule_keys is not None
        else ""
    )
    return parse_config(f"""
accounts:
  - id: "{ACCOUNT}"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess]
{account_keys}{rule}""")


def _problems(account_keys: str = "", rule_keys: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _config(account_keys, rule_keys)
    return list(caught.value.problems)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("D0123ABCD", "'D0123ABCD' is a direct message, not a channel"),
        ('"#Not a name"', "expected a channel id (C0123ABCD, G0123ABCD) or #name"),
        ("approvals", "expected a channel id (C0123ABCD, G0123ABCD) or #name"),
        ("C01", "expected a channel id"),
        ("#approvals", 'empty: quote a channel name ("#approvals"'),
        ("42", "expected a channel id"),
    ],
)
def test_a_bad_approval_channel_is_refused_with_its_key_path(value: str, problem: str) -> None:
    found = _problems(f"    approval_channel: {value}\n")
    assert len(found) == 1 and found[0].startswith("accounts[0].approval_channel: ")
    assert problem in found[0]
    on_rule = _problems(rule_keys=f"    approval_channel: {value}\n")
    assert on_rule[0].startswith("access_rules[0].approval_channel: ") and problem in on_rule[0]


def test_notify_approvers_is_dm_or_none_and_none_needs_a_channel() -> None:
    assert "accounts[0].notify_approvers: Input should be 'dm' or 'none'" in _problems(
        "    notify_approvers: slack\n"
    )
    assert _problems("    notify_approvers: none\n") == [
        "accounts[0]: notify_approvers: none needs an approval_channel (else nobody is told "
        "of a request)"
    ]
    config = _config('    approval_channel: "#Sandbox-Approvals"\n    notify_approvers: dm\n')
    assert config.accounts[0].approval_channel == "#sandbox-approvals"
    assert config.accounts[0].notify_approvers == "dm"


def test_a_rule_approved_automatically_takes_no_channel() -> None:
    found = _problems(rule_keys="    auto_approve: true\n    approval_channel: C0RULE00\n")
    assert found == [
        "access_rules[0]: auto_approve grants at once, so nobody decides in a channel: "
        "leave out approval_channel and notify_approvers"
    ]


def _rule_of(config):
    return config.rules()[0].applied()


def test_the_rules_keys_win_over_the_accounts_and_dms_are_off_by_default() -> None:
    routing = ApproverRouting(("U1", "U2"), fell_back=False)
    account_only = _config("    approval_channel: C0ACCOUNT\n")
    assert channel_choice(account_only, default_rule(), ACCOUNT, routing) == ChannelChoice(
        "C0ACCOUNT", dm=False
    )
    both = _config(
        "    approval_channel: C0ACCOUNT\n    notify_approvers: dm\n",
        "    approval_channel: C0RULE00\n",
    )
    assert channel_choice(both, _rule_of(both), ACCOUNT, routing) == ChannelChoice(
        "C0RULE00", dm=True
    )
    rule_off = _config(
        "    approval_channel: C0ACCOUNT\n    notify_approvers: dm\n",
        "    notify_approvers: none\n",
    )
    assert channel_choice(rule_off, _rule_of(rule_off), ACCOUNT, routing).dm is False
    none = _config()
    assert channel_choice(none, default_rule(), ACCOUNT, routing).channel is None
    fell_back = ApproverRouting(("U9",), fell_back=True)  # the admins: DMs, as before
    assert channel_choice(account_only, default_rule(), ACCOUNT, fell_back).channel is None
    kinds = [o.kind.value for o in channel_threads(routing, ChannelChoice("C0X0000", dm=True))]
    assert kinds == ["thread", "approval", "approval", "channel"]


def _request(approvers: tuple[str, ...], **changes) -> AccessRequest:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    fields = dict(
        id=7,
        requester=Person("U0ALICE", "alice@example.com", "Alice <!channel>"),
        principal_id="p-1",
        account_id=ACCOUNT,
        account_name="Sandbox",
        permission_set_name="ReadOnlyAccess",
        permission_set_arn="arn:aws:sso:::permissionSet/ssoins-1/ps-1",
        duration=timedelta(hours=1),
        justification="Reading logs <@U0EVIL>",
        status=Status.PENDING,
        requested_at=now,
        approval_deadline=now + timedelta(hours=24),
        approvers=approvers,
    )
    fields.update(changes)
    return AccessRequest(**fields)


def test_the_channel_message_mentions_the_approvers_and_escapes_everything_else() -> None:
    request = _request(("U0OSCAR", "legacy<@U0X>@example.com"))
    line = eligible_line(request)
    assert line == (
        "*Who can approve:* <@U0OSCAR>, legacy&lt;@U0X&gt;@example.com or an SSO admin or admin"
    )
    message = channel_message(request)
    assert block_kit_problems(message["blocks"], surface="message") == []
    raw = str(message)
    assert "<!channel>" not in raw and "<@U0EVIL>" not in raw and "<@U0X>" not in raw
    ruled = _request(("U0BOB",), rule_name="read", approvals_needed=2)
    assert eligible_line(ruled) == "*Who can approve (2 approvals needed):* <@U0BOB>"
    many = _request(tuple(f"U0P{i:04d}" for i in range(MAX_MENTIONS + 5)))
    assert eligible_line(many).count("<@") == MAX_MENTIONS and "5 more" in eligible_line(many)
    decided = channel_message(_request(("U0OSCAR",), status=Status.REJECTED))
    assert "Who can approve" not in str(decided)


def test_check_config_names_a_channel_the_bot_is_not_in_and_one_it_cannot_find(
    moto_world: DemoWorld,
    env: Path,  # noqa: F811 - fixture
    fake: FakeSlack,  # noqa: F811 - fixture
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.add_channel("C0SANDBOX", "sandbox-approvals", [PEOPLE["oscar@example.com"][0]])
    fake.add_channel("C0OUTSIDE", "outside", [], bot_member=False)
    fake.add_channel("G0SECRET1", "secret", [], bot_member=False, private=True)
    env.write_text(f"""
admins: [ada@example.com]
accounts:
  - id: "{moto_world.accounts["Sandbox"]}"
    owners: [oscar@example.com]
    permission_sets: [ReadOnlyAccess, AdministratorAccess]
    approval_channel: C0OUTSIDE
access_rules:
  - name: admin
    accounts: ["{moto_world.accounts["Sandbox"]}"]
    permission_sets: [AdministratorAccess]
    approval_channel: "#sandbox-approvals"
  - name: read
    accounts: ["{moto_world.accounts["Sandbox"]}"]
    permission_sets: [ReadOnlyAccess]
    approval_channel: "#secret"
""")
    assert main(["check-config"]) == 1
    out = capsys.readouterr().out
    assert (
        "accounts[0].approval_channel: jitbot is not in #outside (C0OUTSIDE), so it can't "
        "post requests there: type /invite @jitbot in #outside" in out
    )
    assert "access_rules[1].approval_channel: no channel #secret that jitbot can see" in out
    assert "access_rules[0]" not in out  # #sandbox-approvals: found, and the bot is in it
    assert "2 problem(s) found." in out
    fake.invite_bot("C0OUTSIDE")
    fake.invite_bot("G0SECRET1")
    assert main(["check-config"]) == 0


def test_a_channel_name_is_found_on_a_later_page_of_conversations_list(
    monkeypatch: pytest.MonkeyPatch,
    fake: FakeSlack,  # noqa: F811 - fixture
) -> None:
    for i in range(3):
        fake.add_channel(f"C0PAGE{i:03d}", f"team-{i}", [])
    monkeypatch.setattr(channel_lookup, "PAGE", 1)
    client = WebClient(token=fake.token, base_url=fake.url)
    found = channel_lookup.find_channel(client, "#team-2")
    assert found is not None and (found["id"], found["is_member"]) == ("C0PAGE002", True)
    assert channel_lookup.find_channel(client, "#team-9") is None
    assert channel_lookup.find_channel(client, "C0NOSUCH1") is None
    lists = [c for c in fake.calls if c.method == "conversations.list"]
    assert len(lists) == 3 + 3  # three pages for each name


def test_the_fake_slack_answers_for_channels_as_slack_does(
    fake: FakeSlack,  # noqa: F811 - fixture
) -> None:
    oscar = PEOPLE["oscar@example.com"][0]
    alice = PEOPLE["alice@example.com"][0]
    fake.add_channel("C0OPEN001", "open", [oscar], bot_member=False)
    fake.add_channel("G0CLOSED1", "closed", [oscar], bot_member=False, private=True)
    client = WebClient(token=fake.token, base_url=fake.url)
    assert client.conversations_info(channel="C0OPEN001")["channel"]["is_member"] is False
    for call, error in [
        (lambda: client.conversations_info(channel="G0CLOSED1"), "channel_not_found"),
        (lambda: client.chat_postMessage(channel="C0OPEN001", text="hi"), "not_in_channel"),
    ]:
        with pytest.raises(SlackApiError) as caught:
            call()
        assert caught.value.response["error"] == error
    assert [c["id"] for c in client.conversations_list()["channels"]] == ["C0OPEN001"]
    fake.invite_bot("C0OPEN001")
    posted = client.chat_postMessage(channel="C0OPEN001", text="hi")
    assert fake.channel_messages("C0OPEN001")[0].ts == posted["ts"]
    client.chat_postEphemeral(channel="C0OPEN001", user=oscar, text="only you")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postEphemeral(channel="C0OPEN001", user=alice, text="not here")
    assert caught.value.response["error"] == "user_not_in_channel"
