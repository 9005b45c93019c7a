"""The IAM Identity Center adapter: the only package of the product that talks to AWS
(boto3 and botocore are imported here and nowhere else in bot/, workflows/, storage/).

:class:`IdentityCenter` (:mod:`workflows.aws.adapter`) is what the services use through
the ``AccessGranter`` port, made of one part per module of this package; beside it, the client-side rate limit and quota sharing
(:mod:`~workflows.aws.ratelimit`) and the batched status polling
(:mod:`~workflows.aws.operations`).
"""

from workflows.assignments import (
    Assignment,
    AssignmentFailed,
    AssignmentTimeout,
    AwsError,
    JitPermissionSet,
)
from workflows.aws.adapter import (
    JIT_PREFIX,
    MANAGED_TAG,
    REQUEST_TAG,
    IdentityCenter,
    client_config,
)

__all__ = [
    "Assignment",
    "AssignmentFailed",
    "AssignmentTimeout",
    "AwsError",
    "IdentityCenter",
    "JIT_PREFIX",
    "JitPermissionSet",
    "MANAGED_TAG",
    "REQUEST_TAG",
    "client_config",
]
