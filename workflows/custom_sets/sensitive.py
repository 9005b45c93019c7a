"""Accounts where custom ``JIT-`` sets are refused unless the account's config says
``allow_custom_on_sensitive: true``: the organization's management account (which
service control policies never restrict, and where a custom set could change the whole
organization) and the account jitbot itself runs in (a set there could change jitbot).

Refused where the person is: such an account offers no custom option in the request
modal (:func:`restrict_custom` marks it in the catalog), and a forged submission for it
is refused inline with the sentence :func:`custom_refusal` gives.

When jitbot cannot tell which account is the management account (Organizations refused
or failed ``DescribeOrganization``) or which account it runs in (STS
``GetCallerIdentity`` failed), custom sets are refused on every account that does not
opt in, with a sentence saying so: a set on the management account is the one mistake
this rule exists to prevent, so an unknown answer counts as "maybe". Sources:
https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeOrganization.html
(``Organization.MasterAccountId``, callable from any account of the organization),
https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
(``Account``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workflows.catalog import Catalog
    from workflows.config import Config


@dataclass(frozen=True)
class SensitiveAccounts:
    """What AWS said: ``management_account_id`` (None when there is no organization, or
    it could not be read) and ``own_account_id`` (None when it could not be read);
    ``unknown`` says why one of them could not be read (None: both are known)."""

    management_account_id: str | None
    own_account_id: str | None
    unknown: str | None = None


def custom_refusal(
    account_id: str, label: str, sensitive: SensitiveAccounts, *, allowed: bool = False
) -> str | None:
    """Why custom sets can't be requested on ``account_id`` (a sentence for the
    requester, naming the account by ``label``), or None when they may be. ``allowed``
    is the account's ``allow_custom_on_sensitive``."""
    if allowed:
        return None
    if account_id == sensitive.management_account_id:
        return (
            f"Custom permission sets can't be requested on {label}: it is the "
            "organization's management account."
        )
    if account_id == sensitive.own_account_id:
        return f"Custom permission sets can't be requested on {label}: jitbot runs in it."
    if sensitive.unknown is not None:
        return (
            f"Custom permission sets can't be requested on {label} right now: jitbot "
            "could not find out whether it is the organization's management account. "
            "Ask your jitbot admins."
        )
    return None


def restrict_custom(catalog: Catalog, config: Config, sensitive: SensitiveAccounts) -> Catalog:
    """``catalog`` with custom sets turned off, and the reason recorded
    (``CatalogAccount.custom_refusal``), on every account :func:`custom_refusal` refuses;
    an account left with nothing to request is no longer offered."""
    accounts = []
    for account in catalog.accounts:
        configured = config.account(account.id)
        allowed = configured is not None and configured.allow_custom_on_sensitive
        reason = custom_refusal(account.id, account.label, sensitive, allowed=allowed)
        if account.custom and reason is not None:
            account = replace(account, custom=False, custom_refusal=reason)
        if account.custom or account.permission_sets:
            accounts.append(account)
    return replace(catalog, accounts=tuple(accounts))
