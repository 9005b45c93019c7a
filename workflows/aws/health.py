"""Whether Identity Center answers (``/healthz``) and what the bot's credentials can
reach (``jitbot check-config``).
"""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import (
    AwsError,
)
from workflows.aws.base import Plumbing
from workflows.aws.errors import (
    _describe,
    _error_code,
)

log = logging.getLogger("jitbot.aws")


class Health(Plumbing):
    """Health checks: :meth:`ping` (``/healthz``) and :meth:`check` (``check-config``)."""

    def ping(self) -> str | None:
        """One cheap call (``sso-admin ListPermissionSets``, one result) to tell whether
        Identity Center answers, for ``/healthz``: None when it does, else the problem."""
        try:
            self._client("sso-admin").list_permission_sets(
                InstanceArn=self.instance_arn, MaxResults=1
            )
        except (ClientError, BotoCoreError, AwsError) as exc:
            return f"sso-admin ListPermissionSets: {_describe(exc)}"
        return None

    def check(self) -> list[str]:
        """Problems reaching what the bot needs in AWS, for ``jitbot check-config``.

        Tries ``sso-admin ListInstances`` (and that the configured instance exists),
        ``ListPermissionSets`` and an identitystore ``GetUserId`` of an address that does
        not exist (``ResourceNotFoundException`` is the healthy answer). Organizations
        is optional (account names only) and is not reported here. Returns ``[]`` when
        all is fine, else lines like ``"sso-admin ListInstances: AccessDeniedException: …"``.
        """
        problems: list[str] = []
        with self._lock:
            fully_configured = bool(self._instance_arn and self._identity_store_id)
            try:
                self._discover_instance()  # also checks that the configured ids exist
            except AwsError as exc:
                # With both ids configured the bot never needs sso:ListInstances.
                if not (fully_configured and exc.code in ("AccessDeniedException", "AccessDenied")):
                    return [str(exc)]
        instance_arn, store_id = self.instance_arn, self.identity_store_id
        try:
            self._client("sso-admin").list_permission_sets(InstanceArn=instance_arn, MaxResults=1)
        except (ClientError, BotoCoreError) as exc:
            problems.append(f"sso-admin ListPermissionSets: {_describe(exc)}")
        try:
            self._client("identitystore").get_user_id(
                IdentityStoreId=store_id,
                AlternateIdentifier={
                    "UniqueAttribute": {
                        "AttributePath": "userName",
                        "AttributeValue": "jitbot-check-config@invalid.example",
                    }
                },
            )
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                problems.append(f"identitystore GetUserId: {_describe(exc)}")
        except BotoCoreError as exc:
            problems.append(f"identitystore GetUserId: {_describe(exc)}")
        return problems
