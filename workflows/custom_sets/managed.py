"""AWS managed policies: their names and ARNs (:func:`managed_policy_arn`) and the warnings an
approver gets about broad ones (``AdministratorAccess``, ``...FullAccess``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from workflows.arns import PARTITIONS
from workflows.custom_sets.actions import _SENSITIVE_SERVICES
from workflows.custom_sets.spec import Warning

# An AWS managed policy's ARN in any partition: arn:<partition>:iam::aws:policy/<name>
_AWS_POLICY_ARN = re.compile(r"arn:(?:aws|aws-us-gov|aws-cn):iam::aws:policy/")
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


def managed_policy_name(name: str) -> str:
    """The name (under its path) of the AWS managed policy ``name``, given by name or
    by ARN in any partition.

    >>> managed_policy_name("job-function/ViewOnlyAccess")
    'job-function/ViewOnlyAccess'
    >>> managed_policy_name("arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess")
    'ReadOnlyAccess'

    A leading or trailing ``/`` is ignored.

    Raises:
        ValueError: for an empty name or one with characters IAM names can't have.
    """
    stripped = _AWS_POLICY_ARN.sub("", name.strip(), count=1).strip("/")
    if not _POLICY_NAME.fullmatch(stripped):
        raise ValueError(f'not an AWS managed policy name: "{name}"')
    return stripped


def managed_policy_arn(name: str, partition: str) -> str:
    """The ARN of the AWS managed policy ``name`` in ``partition`` (the Identity Center
    instance's, :func:`workflows.arns.partition_of`): AWS managed policies live in the
    account ``aws`` of each partition (IAM user guide, "IAM ARNs",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).

    >>> managed_policy_arn("ReadOnlyAccess", "aws-us-gov")
    'arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess'
    >>> managed_policy_arn("job-function/ViewOnlyAccess", "aws-cn")
    'arn:aws-cn:iam::aws:policy/job-function/ViewOnlyAccess'

    A name under a path (``job-function/...``, ``service-role/...``) keeps its path; a
    full ARN is rewritten into ``partition``.

    Raises:
        ValueError: for a malformed name (:func:`managed_policy_name`) or a partition
            none of :data:`workflows.arns.PARTITIONS`.
    """
    if partition not in PARTITIONS:
        raise ValueError(f"not an AWS partition: {partition!r}")
    return f"arn:{partition}:iam::aws:policy/{managed_policy_name(name)}"


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
