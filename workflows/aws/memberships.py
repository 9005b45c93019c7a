"""What access rules ask AWS (issue 18): is an Identity Center user in a group, and which
Organizations OUs is an account below. Both are cached for ``user_cache_ttl`` seconds
of the adapter's clock, so a known person's ``/jit`` costs no lookup while the cache is
fresh; a failure is raised, never cached, and names nobody (the caller fails closed)."""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workflows.aws.errors import _wrap, unless_missing
from workflows.aws.principals import Principals

__all__ = ["GroupsAndOus"]


class GroupsAndOus(Principals):
    """``in_group`` (identitystore ``IsMemberInGroups``) and ``account_ous``
    (organizations ``ListParents`` up to the root), cached."""

    _memo_lock = threading.Lock()

    def _memo(self) -> dict[tuple[str, ...], tuple[float, Any]]:
        return self.__dict__.setdefault("_rule_memo", {})

    def _remembered(self, key: tuple[str, ...]) -> tuple[bool, Any]:
        with self._memo_lock:
            found = self._memo().get(key)
        if found is not None and found[0] > self._clock():
            return True, found[1]
        return False, None

    def _remember(self, key: tuple[str, ...], value: Any) -> Any:
        with self._memo_lock:
            self._memo()[key] = (self._clock() + self.user_cache_ttl, value)
        return value

    def in_group(self, principal_id: str, group_name: str) -> bool:
        """Whether the Identity Center user ``principal_id`` is a member of the group
        whose display name is ``group_name`` (False when no such group).

        identitystore ``GetGroupId`` (displayName), then ``IsMemberInGroups``
        (https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_IsMemberInGroups.html).

        :raises AwsError: a call failed (nothing is cached then).
        """
        key = ("member", principal_id, group_name)
        known, value = self._remembered(key)
        if known:
            return bool(value)
        hit, group_id = self._remembered(("group", group_name))
        if not hit:
            group_id = self._remember(("group", group_name), self.find_group_id(group_name))
        if group_id is None:
            return bool(self._remember(key, False))
        try:
            answer = self._client("identitystore").is_member_in_groups(
                IdentityStoreId=self.identity_store_id,
                MemberId={"UserId": principal_id},
                GroupIds=[group_id],
            )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("identitystore IsMemberInGroups", exc) from exc
        member = any(
            r.get("GroupId") == group_id and r.get("MembershipExists")
            for r in answer.get("Results", [])
        )
        return bool(self._remember(key, member))

    def group_member_emails(self, group_name: str) -> tuple[str, ...]:
        """The primary emails of the users in the group with this display name (empty
        when no such group), for DMing a rule's approver group: identitystore
        ``ListGroupMemberships`` then ``DescribeUser`` per member (each user cached by
        :meth:`principal_email`).

        :raises AwsError: a call failed.
        """
        key = ("members", group_name)
        known, value = self._remembered(key)
        if known:
            return tuple(value)
        group_id = self.find_group_id(group_name)
        if group_id is None:
            return tuple(self._remember(key, ()))
        try:
            memberships = list(
                self._paginate(
                    "identitystore",
                    "list_group_memberships",
                    "GroupMemberships",
                    IdentityStoreId=self.identity_store_id,
                    GroupId=group_id,
                )
            )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("identitystore ListGroupMemberships", exc) from exc
        emails: list[str] = []
        for membership in memberships:
            user_id = membership.get("MemberId", {}).get("UserId")
            email = self.principal_email(str(user_id)) if user_id else None
            if email:
                emails.append(email)
        return tuple(self._remember(key, tuple(emails)))

    def principal_email(self, user_id: str) -> str | None:
        """The primary (else first) email of an Identity Center user, or None
        (identitystore ``DescribeUser``; a deleted user has none). Cached.

        :raises AwsError: a call failed other than "not found".
        """
        key = ("email", user_id)
        known, value = self._remembered(key)
        if known:
            return value
        user = unless_missing(
            "identitystore DescribeUser",
            lambda: self._client("identitystore").describe_user(
                IdentityStoreId=self.identity_store_id, UserId=user_id
            ),
        )
        if user is None:
            return self._remember(key, None)
        emails = user.get("Emails") or []
        chosen = next((e for e in emails if e.get("Primary")), emails[0] if emails else None)
        return self._remember(key, str(chosen["Value"]).lower() if chosen else None)

    def ou_exists(self, ou_id: str) -> bool:
        """Whether the organization has this OU (organizations
        ``DescribeOrganizationalUnit``; ``OrganizationalUnitNotFoundException``: no), for
        ``check-config``.

        :raises AwsError: any other failure.
        """
        found = unless_missing(
            "organizations DescribeOrganizationalUnit",
            lambda: self._client("organizations").describe_organizational_unit(
                OrganizationalUnitId=ou_id
            ),
            missing="OrganizationalUnitNotFoundException",
        )
        return found is not None

    def known_account_ous(self, account_id: str) -> frozenset[str] | None:
        """:meth:`account_ous` if cached and fresh, else None (no call is made)."""
        known, value = self._remembered(("ous", account_id))
        return frozenset(value) if known else None

    def account_ous(self, account_id: str) -> frozenset[str]:
        """The ids of every OU above ``account_id`` (its parent, that one's parent, …,
        not the root), from organizations ``ListParents``
        (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListParents.html).

        :raises AwsError: a call failed.
        """
        key = ("ous", account_id)
        known, value = self._remembered(key)
        if known:
            return frozenset(value)
        client = self._client("organizations")
        found: list[str] = []
        child = account_id
        for _ in range(10):  # Organizations allows five levels of OUs below the root
            try:
                parents = client.list_parents(ChildId=child).get("Parents", [])
            except (ClientError, BotoCoreError) as exc:
                raise _wrap("organizations ListParents", exc) from exc
            parent = next((p for p in parents if p.get("Type") == "ORGANIZATIONAL_UNIT"), None)
            if parent is None:
                break
            found.append(str(parent["Id"]))
            child = str(parent["Id"])
        return frozenset(self._remember(key, tuple(found)))
