"""AWS managed policies: their ARNs (:func:`managed_policy_arn`) and the warnings an
approver gets about broad ones (``AdministratorAccess``, ``...FullAccess``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from workflows.custom_sets.actions import _SENSITIVE_SERVICES
from workflows.custom_sets.spec import Warning

_AWS_POLICY_ARN = "arn:aws:iam::aws:policy/"
# A policy name, optionally under a path: "ReadOnlyAccess", "job-function/ViewOnlyAccess",
# "service-role/AWSConfigRole". Names and path parts use IAM's name characters.
_POLICY_NAME = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]+", re.ASCII)

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
