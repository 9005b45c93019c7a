"""Approvals channel through the services and the outbox, on SQLite and PostgreSQL:
the channel root is stored (role CHANNEL, the channel's id) so that every re-render and
every thread reply reaches it; a channel Slack refuses leaves the request with no
approver root, and the requester and the admins are told. Slack is scripted here (the
same over HTTP against the fake Slack: tests/test_approval_channel.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from sim.aws_world import DemoWorld
from storage.store import SqlStore
from tests.test_outbox import Clock, ScriptedSlack, replica
from tests.test_services import OSCAR, T0, Harness, make_harness
from workflows.domain import AccessRequest, MessageRef, MessageRole, NoticeKind
from workflows.outbox import DeliveryRefused
from workflows.rulebook import RuleBook
from workflows.services.channel import posted_in
from workflows.services.facade import Services
from workflows.states import Status

CHANNEL = "C0SANDBOX"


def _rule(world: DemoWorld, notify: str = "none") -> str:
    return f"""
access_rules:
  - name: sandbox-read
    accounts: ["{world.accounts["Sandbox"]}"]
    permission_sets: [ReadOnlyAccess]
    approvers: [owners]
    approval_channel: {CHANNEL}
    notify_approvers: {notify}
"""


@dataclass
class ChannelSlack(ScriptedSlack):
    """:class:`ScriptedSlack` that also posts in channels (``failures`` keyed
    ``channel:<id>``)."""

    def post_channel_request(self, request: AccessRequest, channel: str) -> MessageRef:
        self._maybe_fail(f"channel:{channel}")
        self.roots += 1
        self.sent.append((request.id, f"root:{channel}"))
        return MessageRef(channel, f"{self.roots}.0", MessageRole.CHANNEL, channel)


def _harness(world: DemoWorld, store: SqlStore, notify: str = "none") -> Harness:
    """:func:`make_harness` with the access rules in force (as the runtime builds them)
    and the outbox left to the test."""
    base = make_harness(world, store, _rule(world, notify))
    config = base.services.config
    services = Services(
        config, base.services.catalog, store, base.aws, rulebook=RuleBook(config.rules())
    )
    services.kick = lambda: None
    return Harness(services, store, base.notifier, base.aws, world)


@pytest.fixture
def h(moto_world: DemoWorld, store: SqlStore) -> Harness:
    return _harness(moto_world, store)


def test_the_channel_root_is_stored_re_rendered_and_told_in_its_thread(h: Harness) -> None:
    slack = ChannelSlack()
    r = replica(h.store, "a", Clock(datetime.now(UTC)), slack)
    request = h.submit()
    r.dispatcher.deliver_all()
    assert [m for _, m in slack.sent] == ["root:requester", f"root:{CHANNEL}"]  # no DMs
    roots = h.store.get(request.id).messages
    assert [(ref.role, ref.channel, ref.slack_user_id) for ref in roots][1] == (
        MessageRole.CHANNEL,
        CHANNEL,
        CHANNEL,
    )
    assert posted_in(h.store, request.id, CHANNEL)
    assert not posted_in(h.store, request.id, roots[0].channel)
    assert not posted_in(h.store, request.id, None)

    h.services.decide(request.id, OSCAR, True, T0)
    r.dispatcher.deliver_all()
    assert h.store.get(request.id).status == Status.ACTIVE
    assert (request.id, "refresh:active") in slack.sent
    assert slack.replies(request.id, NoticeKind.GRANTED) == [
        "reply:D1:granted",
        f"reply:{CHANNEL}:granted",
    ]


def test_a_channel_slack_refuses_tells_the_requester_and_the_admins(h: Harness) -> None:
    slack = ChannelSlack()
    slack.failures[f"channel:{CHANNEL}"] = [DeliveryRefused("not_in_channel")]
    r = replica(h.store, "a", Clock(datetime.now(UTC)), slack)
    request = h.submit()
    r.dispatcher.deliver_all()
    assert slack.replies(request.id, NoticeKind.APPROVERS_UNREACHABLE) == [
        "reply:D1:approvers_unreachable"
    ]
    alerts = [m for _, m in slack.sent if m.startswith("alert:")]
    assert len(alerts) == 2 and f"Request #{request.id}" in alerts[0]
    actions = [e["action"] for e in h.store.audit_events(request.id)]
    assert actions == ["requested", "approvers_unreachable"]


def test_with_notify_approvers_dm_the_owners_are_dmd_before_the_channel_post(
    moto_world: DemoWorld, store: SqlStore
) -> None:
    h = _harness(moto_world, store, "dm")
    slack = ChannelSlack()
    r = replica(h.store, "a", Clock(datetime.now(UTC)), slack)
    slack.failures[f"channel:{CHANNEL}"] = [DeliveryRefused("not_in_channel")]
    request = h.submit()
    r.dispatcher.deliver_all()
    assert [m for _, m in slack.sent] == ["root:requester", "root:U02OSCAR", "root:U03OLGA"]
    # the DMs reached the owners: nobody is told the request reached no approver
    assert slack.replies(request.id, NoticeKind.APPROVERS_UNREACHABLE) == []
