"""What an approver of a custom permission set should look at
(:func:`approver_warnings`), most severe first."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from workflows.custom_sets.boundary import PermissionsBoundary
from workflows.custom_sets.inline_warnings import _inline_warnings
from workflows.custom_sets.managed import _managed_warnings, _policy_base_name
from workflows.custom_sets.spec import CustomSpec, StandardSetPolicies, Warning

_SEVERITY_ORDER = {"high": 0, "medium": 1, "info": 2}
_NO_STANDARD_SETS: Mapping[str, StandardSetPolicies] = MappingProxyType({})


def approver_warnings(
    spec: CustomSpec,
    *,
    standard_sets: Mapping[str, StandardSetPolicies] = _NO_STANDARD_SETS,
    boundary: PermissionsBoundary | None = None,
) -> list[Warning]:
    """What an approver of ``spec`` should look at, most severe first.

    ``boundary`` is the permissions boundary the set will get: named last, as
    information ("Permissions boundary: PowerUserAccess (AWS managed policy). …").

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
    if boundary is not None:
        found.append(boundary.warning())
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda w: _SEVERITY_ORDER[w.severity])


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
