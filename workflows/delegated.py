"""The management account seen from a delegated administrator: IAM Identity Center
lets a delegated administrator account manage access to every member account but not
to the organization's management account (IAM Identity Center user guide, "Delegated
administration": https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin.html).
A configured management account would then fail at its first grant; it is a config
error instead, said before anyone asks."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from workflows.assignments import AwsError
from workflows.config import Config
from workflows.custom_sets.sensitive import SensitiveAccounts


def delegated_admin_problems(config: Config, sensitive: SensitiveAccounts) -> list[str]:
    """One line for each configured account that is the management account while
    jitbot runs in another account (a delegated administrator); ``[]`` when jitbot
    runs in the management account, or either account is unknown."""
    management, own = sensitive.management_account_id, sensitive.own_account_id
    if management is None or own is None or management == own:
        return []
    return [
        f"accounts[{index}]: {account.id} is the organization's management account, and "
        f"jitbot runs in {own}, a delegated administrator: IAM Identity Center does not let "
        "a delegated administrator assign access to the management account (user guide, "
        '"Delegated administration"). Remove it from the config, or run jitbot from the '
        "management account."
        for index, account in enumerate(config.accounts)
        if account.id == management
    ]


def management_provisioned_warnings(
    config: Config,
    sensitive: SensitiveAccounts,
    set_arns: Mapping[str, str],
    provisioned_accounts: Callable[[str], set[str]],
) -> list[str]:
    """One line for each configured standard permission set that is provisioned in the
    management account while jitbot runs in another account (a delegated
    administrator), ``[]`` from the management account or when either is unknown.

    IAM Identity Center does not let a delegated administrator manage the permission
    sets provisioned in the management account (user guide, "Delegated
    administration", https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin.html):
    such a set still grants in member accounts, but jitbot cannot change it, so ending
    open sign-ins with a deny in its inline policy would fail. A warning, not an error.

    :param set_arns: permission set name -> ARN (those not found are skipped).
    :param provisioned_accounts: ARN -> account ids it is provisioned to
        (``ListAccountsForProvisionedPermissionSet``); an :class:`AwsError` it raises
        becomes the line of that set.
    """
    management, own = sensitive.management_account_id, sensitive.own_account_id
    if management is None or own is None or management == own:
        return []
    names = dict.fromkeys(n for a in config.accounts for n in a.permission_sets)
    out = []
    for name in names:
        arn = set_arns.get(name)
        if arn is None:
            continue
        try:
            there = management in provisioned_accounts(arn)
        except AwsError as exc:
            out.append(f"permission set {name}: could not tell where it is provisioned: {exc}")
            continue
        if there:
            out.append(
                f"permission set {name} is also provisioned in the management account "
                f"{management}, and jitbot runs in {own}, a delegated administrator: IAM "
                "Identity Center does not let a delegated administrator manage it (user "
                'guide, "Delegated administration"), so ending open sign-ins of it would '
                "fail. Use a set that is not provisioned in the management account."
            )
    return out
