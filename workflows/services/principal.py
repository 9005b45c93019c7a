"""Finding a Slack person's Identity Center user: the lookups ``identity:`` configures
(:meth:`~workflows.config.identity.IdentityConfig.lookups`), tried in order."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.access_granter import AccessGranter
from workflows.config.identity import IdentityConfig
from workflows.domain import Person


@dataclass(frozen=True)
class Found:
    """``principal_id`` (None: no user) and ``tried``, the values looked up in order."""

    principal_id: str | None
    tried: tuple[str, ...]

    def tried_text(self) -> str:
        """``a@corp.com`` or ``a@corp.com, a@corp.io and alice``, for a message."""
        shown = list(self.tried)
        if len(shown) <= 1:
            return "".join(shown)
        return ", ".join(shown[:-1]) + " and " + shown[-1]


def find_principal(aws: AccessGranter, identity: IdentityConfig, person: Person) -> Found:
    """The first Identity Center user any of ``person``'s lookups finds (identitystore
    ``GetUserId`` by email, then by user name, per value; cached by the adapter).

    Raises:
        AwsError: Identity Center did not answer.
    """
    tried = identity.lookups(person.email, person.slack_id)
    for value in tried:
        found = aws.find_user_id(value)
        if found:
            return Found(found, tuple(tried))
    return Found(None, tuple(tried))


def no_user_text(found: Found, consequence: str) -> str:
    """The sentence for a person Identity Center has no user for, naming what was
    tried, e.g. ``consequence="so no request was made"``."""
    return (
        f"No AWS IAM Identity Center user matches you (looked up: {found.tried_text()}), "
        f"{consequence}. Ask your AWS administrator to create an Identity Center user with "
        "your email address, or your jitbot admin to map yours (identity.email_domains or "
        "identity.overrides)."
    )
