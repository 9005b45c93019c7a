"""Which accounts are sensitive for custom sets: the organization's management account
(organizations ``DescribeOrganization``) and the account jitbot runs in (sts
``GetCallerIdentity``), read once and remembered until :meth:`refresh_catalog`.
"""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

from workflows.aws.base import Plumbing
from workflows.aws.errors import _describe, _error_code
from workflows.custom_sets.sensitive import SensitiveAccounts

log = logging.getLogger("jitbot.aws")


class OrganizationFacts(Plumbing):
    """:meth:`sensitive_accounts`."""

    def sensitive_accounts(self) -> SensitiveAccounts:
        """The management account's id (``Organization.MasterAccountId``; None when the
        account is in no organization, ``AWSOrganizationsNotInUseException``) and this
        process's own account (``GetCallerIdentity`` ``Account``). A call that fails
        otherwise (access denied, network) leaves its id None and says why in
        ``unknown`` (logged as a warning): custom sets are then refused everywhere an
        account does not opt in (:mod:`workflows.custom_sets.sensitive`). Cached,
        failures included, until :meth:`refresh_catalog`.

        https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeOrganization.html,
        https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
        """
        with self._lock:
            if self._sensitive is not None:
                return self._sensitive
        problems: list[str] = []
        management = own = None
        try:
            organization = self._client("organizations").describe_organization()
            management = organization["Organization"].get("MasterAccountId")
        except (ClientError, BotoCoreError) as exc:
            if _error_code(exc) != "AWSOrganizationsNotInUseException":
                problems.append(f"organizations DescribeOrganization: {_describe(exc)}")
        try:
            own = self._client("sts").get_caller_identity().get("Account")
        except (ClientError, BotoCoreError) as exc:
            problems.append(f"sts GetCallerIdentity: {_describe(exc)}")
        unknown = "; ".join(problems) or None
        if unknown:
            log.warning(
                "custom permission sets are refused on every account without "
                "allow_custom_on_sensitive: %s",
                unknown,
            )
        found = SensitiveAccounts(management, own, unknown)
        with self._lock:
            self._sensitive = found
        return found

    def primary_region(self) -> tuple[str | None, str | None]:
        """``(primary, note)``: the Region where the instance was enabled, its primary
        Region (sso-admin ``ListRegions``, ``IsPrimaryRegion``), and None as note; or
        ``(None, why)`` when it cannot be told (access denied, an older endpoint or
        stand-in without the operation). Only the primary Region takes permission set
        and account assignment writes: "Not supported: Any write operations other than
        application related" in additional Regions (IAM Identity Center user guide,
        https://docs.aws.amazon.com/singlesignon/latest/userguide/api-support-in-additional-regions.html;
        https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListRegions.html).
        An instance without additional Regions lists its one Region as primary.
        """
        try:
            regions = list(
                self._paginate(
                    "sso-admin", "list_regions", "Regions", InstanceArn=self.instance_arn
                )
            )
        except (ClientError, BotoCoreError) as exc:
            why = f"sso-admin ListRegions: {_describe(exc)}"
            log.warning("could not tell the instance's primary Region: %s", why)
            return None, why
        primary = [r.get("RegionName") for r in regions if r.get("IsPrimaryRegion")]
        if not primary:
            return None, "sso-admin ListRegions names no primary Region"
        return str(primary[0]), None
