"""Checking an inline policy document (:func:`inline_policy_problems`): the characters
and size quotas of IAM Identity Center, JSON errors by line and column, and the IAM
policy grammar of identity-based policies."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from workflows.custom_sets.spec import MAX_INLINE_BYTES, MAX_INLINE_NON_WHITESPACE

_VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL_KEYS = ("Version", "Statement")
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")
_PRINCIPAL_KEYS = ("Principal", "NotPrincipal")
# "service:Action": a service prefix (letters, digits, hyphens) and an action name with
# * and ? wildcards (action names have letters, digits and the odd - or _).
_ACTION = re.compile(r"([A-Za-z0-9-]+):([A-Za-z0-9_*?-]+)")
_SID = re.compile(r"[A-Za-z0-9]*")
# Tab, LF, CR and U+0020..U+00FF (PutInlinePolicyToPermissionSet's pattern).
_BAD_POLICY_CHAR = re.compile(r"[^\t\n\r\u0020-\u00ff]")
_CURLY_QUOTES = "\u2018\u2019\u201c\u201d"
_JSON_WHITESPACE = re.compile(r"[ \t\n\r]")


def inline_policy_problems(text: str) -> list[str]:
    """Everything wrong with an inline policy, as sentences a person can act on.

    An empty list means IAM Identity Center should accept it. Positions are counted in
    ``text`` as given (line and column from 1), so pass what the person typed.
    """
    bad = _BAD_POLICY_CHAR.search(text)
    if bad:
        # Anything after a curly quote would only confuse the JSON parser's messages.
        return [_bad_char_problem(text, bad.start())]
    problems: list[str] = []
    stripped = text.strip()
    size = len(stripped.encode("utf-8"))
    if size > MAX_INLINE_BYTES:
        problems.append(
            f"The inline policy is {size:,} bytes; a permission set's inline policy can "
            f"be at most {MAX_INLINE_BYTES:,} bytes"
        )
    non_whitespace = len(_JSON_WHITESPACE.sub("", stripped).encode("utf-8"))
    if non_whitespace > MAX_INLINE_NON_WHITESPACE:
        problems.append(
            f"The inline policy has {non_whitespace:,} bytes that are not whitespace; a "
            f"permission set's inline policy can have at most "
            f"{MAX_INLINE_NON_WHITESPACE:,}"
        )
    duplicates: list[str] = []
    try:
        doc = json.loads(text, object_pairs_hook=lambda pairs: _object(pairs, duplicates))
    except json.JSONDecodeError as exc:
        return [*problems, f"Line {exc.lineno}, column {exc.colno}: {exc.msg}"]
    problems.extend(
        f'The key "{key}" appears twice in one object; write it once' for key in duplicates
    )
    problems.extend(_document_problems(doc))
    return problems


def _object(pairs: list[tuple[str, Any]], duplicates: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out and key not in duplicates:
            duplicates.append(key)
        out[key] = value
    return out


def _bad_char_problem(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    char = text[index]
    where = f"Line {line}, column {column}"
    if char in _CURLY_QUOTES:
        return f"{where}: curly quote {char} is not allowed; use straight quotes (\" or ')"
    return (
        f'{where}: the character "{char}" (U+{ord(char):04X}) is not allowed in a policy '
        f"(only tab, newline and Latin-1 characters are)"
    )


def _document_problems(doc: Any) -> list[str]:
    if not isinstance(doc, dict):
        return ["The inline policy must be a JSON object: { ... }"]
    problems = []
    for key in doc:
        if key == "Id":
            problems.append('Remove "Id": it is only for resource-based policies')
        elif key not in _TOP_LEVEL_KEYS:
            problems.append(_unknown_key(key, "top-level", _TOP_LEVEL_KEYS))
    version = doc.get("Version")
    if version is None:
        problems.append('Add "Version": "2012-10-17"')
    elif version not in _VERSIONS:
        problems.append(
            f'Version must be "2012-10-17" (or the older "2008-10-17"), not {_show(version)}'
        )
    if "Statement" not in doc:
        problems.append('Add a "Statement" with at least one statement')
        return problems
    statements = doc["Statement"]
    if isinstance(statements, dict) and statements:
        statements = [statements]
    elif not isinstance(statements, list) or not statements:
        problems.append("Statement must be an object or a non-empty list of objects")
        return problems
    sids: dict[str, int] = {}
    for index, statement in enumerate(statements):
        where = f"Statement[{index}]"
        if not isinstance(statement, dict):
            problems.append(f"{where} must be an object: {{ ... }}")
            continue
        problems.extend(_statement_problems(where, statement))
        sid = statement.get("Sid")
        if isinstance(sid, str) and sid:
            if sid in sids:
                problems.append(f'{where}: Sid "{sid}" is already used by Statement[{sids[sid]}]')
            sids.setdefault(sid, index)
    return problems


def _statement_problems(where: str, statement: dict[str, Any]) -> list[str]:
    problems = []
    for key in statement:
        if key in _PRINCIPAL_KEYS:
            problems.append(
                f"{where}: remove {key}: a permission set's policy applies to whoever "
                f"uses the permission set ({key} is only for resource-based policies)"
            )
        elif key not in _STATEMENT_KEYS:
            problems.append(f"{where}: {_unknown_key(key, 'statement', _STATEMENT_KEYS)}")
    if "Sid" in statement:
        sid = statement["Sid"]
        if not isinstance(sid, str) or not _SID.fullmatch(sid):
            problems.append(f"{where}: Sid may have only letters A-Z, a-z and digits 0-9")
    if statement.get("Effect") not in ("Allow", "Deny"):
        problems.append(f'{where}: Effect must be "Allow" or "Deny"')
    problems.extend(_pair_problems(where, statement, "Action", _action_problem))
    problems.extend(_pair_problems(where, statement, "Resource", _resource_problem))
    if "Condition" in statement:
        condition = statement["Condition"]
        if not isinstance(condition, dict) or not all(
            isinstance(block, dict) for block in condition.values()
        ):
            problems.append(
                f"{where}: Condition must be an object of operators, e.g. "
                '{"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}'
            )
    return problems


def _pair_problems(where: str, statement: dict[str, Any], element: str, check) -> list[str]:
    """Exactly one of ``element`` and ``Not<element>``, each a string or list of them."""
    not_element = "Not" + element
    present = [key for key in (element, not_element) if key in statement]
    if len(present) == 2:
        return [f"{where}: use either {element} or {not_element}, not both"]
    if not present:
        return [f"{where}: add an {element} (or {not_element})"]
    key = present[0]
    value = statement[key]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return [f"{where}: {key} must be a string or a list of strings"]
    if not values:
        return [f"{where}: {key} must not be empty"]
    return [f"{where}: {problem}" for v in values if (problem := check(v))]


def _action_problem(action: str) -> str | None:
    if action == "*" or _ACTION.fullmatch(action):
        return None
    return (
        f'"{action}" is not an action; write "service:Action" (e.g. "s3:GetObject", '
        f'wildcards * and ? allowed after the colon) or "*"'
    )


def _resource_problem(resource: str) -> str | None:
    if resource == "*" or (resource.startswith("arn:") and resource.count(":") >= 5):
        return None
    return f'"{resource}" is not a resource; write an ARN (arn:partition:service:region:account:resource) or "*"'


def _unknown_key(key: str, where: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == key.lower()]
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return f'unknown {where} key "{key}" ({hint}use {", ".join(known)})'


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, dict | list) else type(value).__name__
