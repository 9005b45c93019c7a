"""One notice to one audience (:class:`Told`): what the sentences of
:mod:`bot.render.notices` and :mod:`bot.render.notices_life` are written from."""

from __future__ import annotations

from dataclasses import dataclass

from bot.render.escape import esc
from workflows.domain import AccessRequest, Notice
from workflows.durations import duration_label


@dataclass(frozen=True)
class Told:
    """One notice to one audience, with what its sentence needs."""

    request: AccessRequest
    notice: Notice
    for_requester: bool
    portal_url: str | None
    slash_command: str

    @property
    def by(self) -> str:
        review = self.request.decision
        return esc(review.reviewer.name) if review else "someone"

    @property
    def comment(self) -> str:
        return f": “{esc(self.notice.detail)}”" if self.notice.detail else "."

    @property
    def access(self) -> str:
        return f"{esc(self.request.permission_set_name)} on {esc(self.request.account_label)}"

    def what_happened(self) -> str:
        """The end of a session in words: removed, or kept for an overlapping grant; and
        what becomes of the AWS sign-ins already open. Removing an account assignment
        stops new sign-ins only: a role session already made with it lasts until its own
        end, at most the permission set's session duration (IAM Identity Center user
        guide, "Revoke active IAM role sessions created by permission sets"), unless
        ``revoke_live_sessions`` ended them too (the notice's ``live``). Deleting a
        custom ``JIT-`` set deletes its role in the account, which ends them too."""
        if self.notice.kept:
            return (
                f"this request's access ended, but {self.access} stays assigned for another "
                "active request of the same person, until that one ends."
            )
        if self.request.custom is not None:
            return (
                f"{self.access} has been removed, and its permission set deleted, which "
                "ends the AWS sign-ins already open."
            )
        live = self.notice.live
        if live in ("ended", "role_gone"):
            return (
                f"{self.access} has been removed, and the AWS sign-ins already open with it "
                "were ended too (AWS applies this within a few minutes)."
            )
        limit = self.request.session_limit
        most = (
            f"{duration_label(limit)} after they began"
            if limit
            else "the permission set's session duration"
        )
        if live == "failed":
            return (
                f"{self.access} has been removed: no new AWS sign-ins. :warning: jitbot "
                "could NOT end the AWS sign-ins already open: they keep working until they "
                f"end (at most {most}). The admins have been told."
            )
        return (
            f"{self.access} has been removed: no new AWS sign-ins. Sign-ins already open "
            f"keep working until they end (at most {most})."
        )
