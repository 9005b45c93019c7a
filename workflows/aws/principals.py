"""Identity Center groups and users by name, for the drift reconciler: the ids of the
principals ``reconcile.keep`` names, and a readable name for each principal it reports."""

from __future__ import annotations

import logging
import threading

from botocore.exceptions import BotoCoreError, ClientError

from workflows.aws.base import Plumbing
from workflows.aws.errors import unless_missing

log = logging.getLogger("jitbot.aws")


class Principals(Plumbing):
    """``find_group_id`` (by display name) and ``principal_name`` (cached per id)."""

    _names_lock = threading.Lock()

    def find_group_id(self, display_name: str) -> str | None:
        """The Identity Center group id of the group with this display name, or None.

        identitystore ``GetGroupId`` with ``UniqueAttribute`` ``displayName``, the one
        unique attribute path of a group
        (https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_GetGroupId.html).

        :raises AwsError: any failure but ``ResourceNotFoundException``.
        """
        answer = unless_missing(
            "identitystore GetGroupId",
            lambda: self._client("identitystore").get_group_id(
                IdentityStoreId=self.identity_store_id,
                AlternateIdentifier={
                    "UniqueAttribute": {
                        "AttributePath": "displayName",
                        "AttributeValue": display_name,
                    }
                },
            ),
        )
        if answer is None:
            return None
        return str(answer["GroupId"])

    def principal_name(self, principal_type: str, principal_id: str) -> str:
        """A USER's user name or a GROUP's display name (``DescribeUser`` /
        ``DescribeGroup``), remembered per id; the id itself when Identity Center does
        not say (the principal was deleted, or the call was refused: logged)."""
        names = self.__dict__.setdefault("_principal_names", {})
        key = (principal_type, principal_id)
        with self._names_lock:
            if key in names:
                return str(names[key])
        client = self._client("identitystore")
        try:
            if principal_type == "GROUP":
                found = client.describe_group(
                    IdentityStoreId=self.identity_store_id, GroupId=principal_id
                ).get("DisplayName")
            else:
                found = client.describe_user(
                    IdentityStoreId=self.identity_store_id, UserId=principal_id
                ).get("UserName")
        except (ClientError, BotoCoreError) as exc:
            log.info("no name for %s %s: %s", principal_type, principal_id, exc)
            return principal_id
        name = str(found or principal_id)
        with self._names_lock:
            names[key] = name
        return name
