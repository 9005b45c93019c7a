"""The IAM Identity Center adapter: the only package of the product that talks to AWS
(boto3 and botocore are imported here and nowhere else in bot/, workflows/, storage/).

:class:`IdentityCenter` (:mod:`workflows.aws.adapter`) is what the services use through
the ``AccessGranter`` port; the modules beside it hold its parts: clients, errors,
identity, catalog, polling, quota and rate limit, listings, naming, retry.
"""

from workflows.assignments import (
    Assignment,
    AssignmentFailed,
    AssignmentTimeout,
    AwsError,
    JitPermissionSet,
)
from workflows.aws.adapter import IdentityCenter, client_config
from workflows.aws.naming import JIT_PREFIX, MANAGED_TAG, REQUEST_TAG

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
