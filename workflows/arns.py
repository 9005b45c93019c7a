"""AWS partitions, read from ARNs: ``aws`` (commercial Regions), ``aws-us-gov``
(AWS GovCloud (US)) and ``aws-cn`` (China). An ARN's second field is its partition
(``arn:<partition>:<service>:<region>:<account>:<resource>``; IAM user guide, "IAM
ARNs", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html), and every
ARN jitbot builds takes the partition of the Identity Center instance's ARN
(``arn:<partition>:sso:::instance/ssoins-…``).
"""

from __future__ import annotations

#: The partitions IAM Identity Center runs in.
PARTITIONS = ("aws", "aws-us-gov", "aws-cn")


def partition_of(arn: str) -> str:
    """The partition of ``arn``: ``"aws-us-gov"`` for
    ``arn:aws-us-gov:sso:::instance/ssoins-0123456789abcdef``.

    Raises:
        ValueError: ``arn`` is not an ARN, or its partition is none of
            :data:`PARTITIONS`.
    """
    parts = arn.strip().split(":", 2)
    if len(parts) < 3 or parts[0] != "arn" or parts[1] not in PARTITIONS:
        raise ValueError(f"not an ARN of partition {', '.join(PARTITIONS)}: {arn!r}")
    return parts[1]
