"""Domain errors: raised in the core, turned into a modal error or an ephemeral
message at the edge."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base of every error a person is told about. ``str()`` is the sentence shown."""


class InvalidRequest(WorkflowError):
    """Form input that breaks a rule. ``errors`` maps a form field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NoIdentityCenterUser(WorkflowError):
    """The requester's Slack email matches no Identity Center user."""


class NoApprover(WorkflowError):
    """Nobody could approve the request (no owners, admins or SSO admins)."""


class UnknownRequest(WorkflowError):
    """A payload named a request id that does not exist, or one the person may not see:
    the two read the same (:meth:`workflows.services.Services.visible`)."""


class NotAuthorized(WorkflowError):
    """The person may not do this to this request."""


class AlreadyDecided(WorkflowError):
    """Someone else acted first; the message says who and when."""
