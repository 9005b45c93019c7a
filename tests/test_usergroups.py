"""Slack user groups for access rules, through the fake Slack over HTTP: members by
handle or id, disabled and unknown groups have none, answers cached, failures raised."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.usergroups import SlackUserGroups, UserGroupsUnavailable
from sim.fake_slack import FakeSlack


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _groups(slack: FakeSlack, clock: Clock | None = None) -> SlackUserGroups:
    client = WebClient(token=slack.token, base_url=slack.url)
    return SlackUserGroups(client, ttl=60.0, clock=clock or Clock())


def test_a_member_is_in_the_group_by_handle_and_by_id(slack: FakeSlack) -> None:
    group_id = slack.add_usergroup("oncall", ["U0ALICE", "U0BOB"])
    groups = _groups(slack)
    assert groups.in_usergroup("U0ALICE", "oncall")
    assert groups.in_usergroup("U0BOB", group_id)
    assert not groups.in_usergroup("U0OSCAR", "oncall")


def test_disabled_and_unknown_groups_have_no_members(slack: FakeSlack) -> None:
    slack.add_usergroup("old-team", ["U0ALICE"], disabled=True)
    groups = _groups(slack)
    assert not groups.in_usergroup("U0ALICE", "old-team")
    assert not groups.in_usergroup("U0ALICE", "nobody")
    assert not groups.in_usergroup("U0ALICE", "S00000999")


def test_answers_are_kept_for_the_ttl_then_asked_again(slack: FakeSlack) -> None:
    slack.add_usergroup("oncall", ["U0ALICE"])
    clock = Clock()
    groups = _groups(slack, clock)
    assert groups.in_usergroup("U0ALICE", "oncall")
    slack.add_usergroup("oncall", ["U0BOB"])  # Alice handed over the pager
    assert groups.in_usergroup("U0ALICE", "oncall")
    assert len(slack.calls_to("usergroups.users.list")) == 1
    clock.now += 61
    assert not groups.in_usergroup("U0ALICE", "oncall")
    assert groups.in_usergroup("U0BOB", "oncall")


def test_a_failure_is_raised_with_what_to_fix_and_not_remembered(slack: FakeSlack) -> None:
    slack.add_usergroup("oncall", ["U0ALICE"])
    groups = _groups(slack)
    slack.fail_next("usergroups.list", error="missing_scope")
    with pytest.raises(UserGroupsUnavailable, match="usergroups:read scope"):
        groups.in_usergroup("U0ALICE", "oncall")
    assert groups.in_usergroup("U0ALICE", "oncall")


def test_a_groups_members_are_listed_for_the_dms(slack: FakeSlack) -> None:
    group_id = slack.add_usergroup("oncall", ["U0BOB", "U0ALICE"])
    slack.add_usergroup("old", ["U0ALICE"], disabled=True)
    groups = _groups(slack)
    assert groups.members("oncall") == ("U0ALICE", "U0BOB") == groups.members(group_id)
    assert groups.members("old") == () and groups.members("nobody") == ()
