"""What access rules ask AWS, against moto: group membership by Identity Center user id
and the OUs above an account, cached so a fresh answer costs no call."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest

from sim.aws_world import DemoWorld, add_group
from workflows.aws import AwsError, IdentityCenter

REGION = "us-east-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _counting(ic: IdentityCenter) -> Counter[str]:
    calls: Counter[str] = Counter()
    for service in ("identitystore", "organizations"):
        ic._client(service).meta.events.register(
            f"before-call.{service}", lambda model, **_: calls.update([model.name])
        )
    return calls


@pytest.fixture
def ic(moto_world: DemoWorld) -> tuple[IdentityCenter, Clock]:
    clock = Clock()
    return IdentityCenter(region=REGION, max_calls_per_second=None, clock=clock), clock


_group = add_group


def test_a_member_is_in_the_group_and_others_and_unknown_groups_are_not(
    moto_world: DemoWorld, ic: tuple[IdentityCenter, Clock]
) -> None:
    adapter, _ = ic
    oscar, alice = moto_world.users["oscar@example.com"], moto_world.users["alice@example.com"]
    _group(moto_world, "ProdLeads", ["oscar@example.com"])

    assert adapter.in_group(oscar, "ProdLeads")
    assert not adapter.in_group(alice, "ProdLeads")
    assert not adapter.in_group(oscar, "NoSuchGroup")


def test_a_fresh_answer_costs_no_call_and_a_stale_one_is_asked_again(
    moto_world: DemoWorld, ic: tuple[IdentityCenter, Clock]
) -> None:
    adapter, clock = ic
    oscar = moto_world.users["oscar@example.com"]
    _group(moto_world, "ProdLeads", ["oscar@example.com"])
    calls = _counting(adapter)

    assert adapter.in_group(oscar, "ProdLeads") and adapter.in_group(oscar, "ProdLeads")
    assert calls == Counter({"GetGroupId": 1, "IsMemberInGroups": 1})
    clock.now += adapter.user_cache_ttl + 1
    assert adapter.in_group(oscar, "ProdLeads")
    assert calls == Counter({"GetGroupId": 2, "IsMemberInGroups": 2})


def test_the_ous_above_an_account_are_every_level_up_to_the_root(
    moto_world: DemoWorld, ic: tuple[IdentityCenter, Clock]
) -> None:
    adapter, _ = ic
    org = boto3.client("organizations", region_name=REGION)
    root = org.list_roots()["Roots"][0]["Id"]
    workloads = org.create_organizational_unit(ParentId=root, Name="Workloads")[
        "OrganizationalUnit"
    ]["Id"]
    prod = org.create_organizational_unit(ParentId=workloads, Name="Prod")["OrganizationalUnit"][
        "Id"
    ]
    account = moto_world.accounts["Production"]
    org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=prod)
    calls = _counting(adapter)

    assert adapter.account_ous(account) == {prod, workloads}
    assert adapter.account_ous(moto_world.accounts["Sandbox"]) == frozenset()
    adapter.account_ous(account)
    assert calls["ListParents"] == 3 + 1  # Production: 3 levels; Sandbox: 1; then cached


def test_a_failed_lookup_is_raised_and_not_remembered(
    moto_world: DemoWorld, ic: tuple[IdentityCenter, Clock]
) -> None:
    adapter, _ = ic
    oscar = moto_world.users["oscar@example.com"]
    _group(moto_world, "ProdLeads", ["oscar@example.com"])
    refused = {"on": True}

    def deny(**_: Any) -> Any:
        if refused["on"]:
            raise adapter._client("identitystore").exceptions.AccessDeniedException(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "IsMemberInGroups"
            )
        return None

    adapter._client("identitystore").meta.events.register(
        "before-call.identitystore.IsMemberInGroups", deny
    )
    with pytest.raises(AwsError, match="IsMemberInGroups"):
        adapter.in_group(oscar, "ProdLeads")
    refused["on"] = False
    assert adapter.in_group(oscar, "ProdLeads")


def test_a_groups_members_are_listed_by_email_and_an_unknown_group_has_none(
    moto_world: DemoWorld, ic: tuple[IdentityCenter, Clock]
) -> None:
    adapter, _ = ic
    _group(moto_world, "ProdLeads", ["oscar@example.com", "olga@example.com"])
    calls = _counting(adapter)

    assert sorted(adapter.group_member_emails("ProdLeads")) == [
        "olga@example.com",
        "oscar@example.com",
    ]
    assert adapter.group_member_emails("NoSuchGroup") == ()
    adapter.group_member_emails("ProdLeads")  # cached
    assert calls["ListGroupMemberships"] == 1 and calls["DescribeUser"] == 2
