"""Who an access rule names (:class:`Ref`) and how a person is found among them
(:func:`names`, through the :class:`Memberships` port): roles, Identity Center groups,
Slack user groups and single people, decided from stable ids only (design §3).
See :mod:`workflows.access_rules`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from workflows.people import is_slack_id

__all__ = ["ROLE_REFS", "Memberships", "Ref", "names", "parse_ref"]

# Slack user group handles: lower-case letters, digits, ``.``, ``_`` and ``-``
# (usergroups.create's ``handle``); ``S…`` ids are accepted too.
_USERGROUP = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}|S[A-Z0-9]{2,20}")
# Identity Center group display names: up to 1,024 characters (identitystore Group).
_GROUP_NAME_MAX = 1024

RefKind = Literal["owners", "sso_admins", "admins", "group", "usergroup", "person"]
ROLE_REFS: tuple[RefKind, ...] = ("owners", "sso_admins", "admins")


@dataclass(frozen=True)
class Ref:
    """Who a rule names: ``kind`` ``owners`` / ``sso_admins`` / ``admins`` (``value``
    empty), ``group`` (an Identity Center group's display name), ``usergroup`` (a Slack
    user group handle or ``S…`` id) or ``person`` (a lower-cased email or a Slack user
    id). :func:`parse_ref` builds one from the config's text."""

    kind: RefKind
    value: str = ""

    def __str__(self) -> str:
        if self.kind in ROLE_REFS:
            return self.kind
        if self.kind == "person":
            return self.value
        return f"{self.kind}:{self.value}"


def parse_ref(text: str) -> Ref:
    """``owners``, ``sso_admins``, ``admins``, ``group:NAME``, ``usergroup:HANDLE``, an
    email or a Slack user id, as a :class:`Ref`.

    :raises ValueError: anything else, with a message saying what is accepted.
    """
    raw = text.strip()
    lowered = raw.lower()
    if lowered in ROLE_REFS:
        return Ref(lowered)  # type: ignore[arg-type]
    kind, sep, rest = raw.partition(":")
    if sep and kind.lower() == "group":
        name = rest.strip()
        if not name or len(name) > _GROUP_NAME_MAX:
            raise ValueError("group: needs an Identity Center group name (1 to 1,024 characters)")
        return Ref("group", name)
    if sep and kind.lower() == "usergroup":
        handle = rest.strip().lstrip("@")
        if not _USERGROUP.fullmatch(handle):
            raise ValueError(
                "usergroup: needs a Slack user group handle (lower-case letters, digits, "
                f". _ -) or id (S0123ABCD), got {rest.strip()!r}"
            )
        return Ref("usergroup", handle)
    if is_slack_id(raw):
        return Ref("person", raw)
    if "@" in raw and not sep and " " not in raw and raw.count("@") == 1:
        local, _, domain = raw.partition("@")
        if local and "." in domain:
            return Ref("person", lowered)
    raise ValueError(
        "expected owners, sso_admins, admins, group:NAME (Identity Center), "
        f"usergroup:HANDLE (Slack), an email or a Slack user id, got {raw!r}"
    )


class Memberships(Protocol):
    """What decides whether a person is named by a :class:`Ref`, from stable ids.

    ``slack_id`` is the person's Slack user id; ``principal_id`` their Identity Center
    user id (None when unknown: an Identity Center group then names nobody).
    """

    def has_role(self, slack_id: str, role: str, account_id: str) -> bool:
        """``role`` is ``owners`` (of ``account_id``), ``sso_admins`` or ``admins``."""
        ...

    def is_person(self, slack_id: str, entry: str) -> bool:
        """Whether the config entry (an email or a Slack user id) is bound to
        ``slack_id`` (:class:`workflows.people.Roster`)."""
        ...

    def in_group(self, principal_id: str, group_name: str) -> bool:
        """Whether the Identity Center user is a member of the named group."""
        ...

    def in_usergroup(self, slack_id: str, handle: str) -> bool:
        """Whether the Slack user is in the user group (handle or ``S…`` id)."""
        ...


def names(
    refs: Iterable[Ref],
    members: Memberships,
    *,
    slack_id: str,
    principal_id: str | None,
    account_id: str,
) -> Ref | None:
    """The first of ``refs`` that names this person (for "approves as …"), or None.

    Cheap references (roles, people) are tried before those that may call AWS or Slack
    (groups, user groups)."""
    ordered = sorted(refs, key=lambda r: r.kind in ("group", "usergroup"))
    for ref in ordered:
        if ref.kind in ROLE_REFS and members.has_role(slack_id, ref.kind, account_id):
            return ref
        if ref.kind == "person" and members.is_person(slack_id, ref.value):
            return ref
        if ref.kind == "group" and principal_id and members.in_group(principal_id, ref.value):
            return ref
        if ref.kind == "usergroup" and members.in_usergroup(slack_id, ref.value):
            return ref
    return None
