"""The management account seen from a delegated administrator: IAM Identity Center
lets a delegated administrator account manage access to every member account but not
to the organization's management account (IAM Identity Center user guide, "Delegated
administration": https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin.html).
A configured management account would then fail at its first grant; it is a config
error instead, said before anyone asks."""

from __future__ import annotations

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
