"""The deny statement that ends a person's open sign-ins of a standard permission set in
one account, and how it goes into and out of the set's inline policy (pure functions).

AWS's way (IAM Identity Center user guide, "Revoke active IAM role sessions created by
permission sets",
https://docs.aws.amazon.com/singlesignon/latest/userguide/useraccess.html#revoke-user-permissions;
deny policy: https://docs.aws.amazon.com/singlesignon/latest/userguide/prereqs-revoking-user-permissions.html)
is a ``Deny`` of ``*`` on ``*`` with ``"StringEquals": {"identitystore:userId": …}`` in the
set's inline policy. The guide prefers ``identitystore:userId`` to ``aws:userId``: it is
the person's globally unique id, while ``aws:userId`` follows the synchronised user name
or email and may change. jitbot narrows it twice, so nothing else is denied:

* ``aws:PrincipalAccount`` = the account: the set's inline policy reaches every account
  it is (or is later) provisioned to, and the same person may hold the set elsewhere;
* ``DateLessThan aws:TokenIssueTime`` = the end + :data:`CUTOFF_MARGIN`: only sessions
  opened before the end are denied (the IAM user guide's own role-session revocation,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html,
  uses this key the same way), so a later grant to the same person works.

The statement can go once every session opened before the cutoff has run out: the set's
``SessionDuration`` after the cutoff (plus :data:`LIFT_MARGIN`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from workflows.custom_sets import MAX_INLINE_BYTES, MAX_INLINE_NON_WHITESPACE

#: Sid prefix of jitbot's statements (IAM Sids are alphanumeric).
SID_PREFIX = "JitbotRevoke"
#: IAM Identity Center quotas page (limits.html): "Maximum size of inline policy per
#: permission set: 32,768 bytes. Maximum size of non-whitespace characters in the inline
#: policy per permission set is 10,240 bytes" (the custom sets' limits too).
INLINE_POLICY_LIMIT = MAX_INLINE_BYTES
INLINE_POLICY_NON_WHITESPACE_LIMIT = MAX_INLINE_NON_WHITESPACE
#: Sign-ins this soon after the end are denied too: the assignment's deletion takes a
#: moment to finish, and clocks differ.
CUTOFF_MARGIN = timedelta(minutes=1)
#: Kept this long after the last session could have run out.
LIFT_MARGIN = timedelta(minutes=5)
#: AWS's longest SessionDuration (PT12H), used when the set's cannot be read.
LONGEST_SESSION = timedelta(hours=12)


class PolicyRefused(Exception):
    """The inline policy cannot take the statement (not a JSON policy, or too long)."""


@dataclass(frozen=True)
class PendingLift:
    """A deny statement to take out of ``permission_set_arn``'s inline policy (and
    re-provision to ``account_id``) at ``due_at`` (aware UTC)."""

    sid: str
    request_id: int
    permission_set_arn: str
    account_id: str
    principal_id: str
    due_at: datetime


def iso_utc(moment: datetime) -> str:
    """``2026-12-02T18:30:00Z``: the ISO 8601 form IAM date conditions take."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def statement_sid(principal_id: str, account_id: str, cutoff: datetime) -> str:
    """``JitbotRevoke`` + 12 hex digits of the statement's inputs (stable: writing it
    twice replaces it)."""
    digest = hashlib.sha256(f"{principal_id}|{account_id}|{iso_utc(cutoff)}".encode())
    return SID_PREFIX + digest.hexdigest()[:12]


def deny_statement(sid: str, principal_id: str, account_id: str, cutoff: datetime) -> dict:
    """The Deny of everything for the person's sessions in the account opened before
    ``cutoff``."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "identitystore:userId": principal_id,
                "aws:PrincipalAccount": account_id,
            },
            "DateLessThan": {"aws:TokenIssueTime": iso_utc(cutoff)},
        },
    }


def _parsed(policy: str) -> dict[str, Any]:
    """The policy document, ``Statement`` as a list; raises :class:`PolicyRefused`."""
    if not policy.strip():
        return {"Version": "2012-10-17", "Statement": []}
    try:
        document = json.loads(policy)
    except ValueError as exc:
        raise PolicyRefused(f"the inline policy is not valid JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise PolicyRefused("the inline policy is not a JSON object")
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyRefused("the inline policy's Statement is neither a list nor an object")
    return {**document, "Statement": statements}


def with_statement(policy: str, statement: dict) -> str:
    """``policy`` (a set's inline policy, ``""`` for none) with ``statement`` added, or
    replacing the one of the same Sid; every other statement kept as it was.

    :raises PolicyRefused: ``policy`` is not a JSON policy document, or the result is
        over :data:`INLINE_POLICY_LIMIT` bytes or
        :data:`INLINE_POLICY_NON_WHITESPACE_LIMIT` non-whitespace bytes.
    """
    document = _parsed(policy)
    kept = [s for s in document["Statement"] if _sid(s) != statement["Sid"]]
    document["Statement"] = [*kept, statement]
    text = json.dumps(document, separators=(",", ":"))
    size = len(text.encode())
    solid = len("".join(text.split()).encode())
    if size > INLINE_POLICY_LIMIT or solid > INLINE_POLICY_NON_WHITESPACE_LIMIT:
        raise PolicyRefused(
            f"with the deny statement the permission set's inline policy would be {size} "
            f"bytes ({solid} not whitespace), over AWS's limit of {INLINE_POLICY_LIMIT} "
            f"bytes ({INLINE_POLICY_NON_WHITESPACE_LIMIT} not whitespace)"
        )
    return text


def without_statement(policy: str, sid: str) -> str | None:
    """``policy`` without the statement ``sid``: the same text when it has none, None
    when nothing would be left (the inline policy is then deleted). A policy that no
    longer parses is returned as it is (jitbot never rewrites what it cannot read)."""
    try:
        document = _parsed(policy)
    except PolicyRefused:
        return policy
    kept = [s for s in document["Statement"] if _sid(s) != sid]
    if len(kept) == len(document["Statement"]):
        return policy
    if not kept:
        return None
    return json.dumps({**document, "Statement": kept}, separators=(",", ":"))


def _sid(statement: Any) -> Any:
    return statement.get("Sid") if isinstance(statement, dict) else None
