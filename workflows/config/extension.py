"""The model of ``extension:`` (:class:`ExtensionConfig`), on an access rule or at the
top level (for requests no rule governs, and rules without one): how an Active session
may be extended (:mod:`workflows.extensions`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, field_validator

from workflows.config.fields import _MODEL_CONFIG, Duration, _error
from workflows.durations import duration_code
from workflows.extensions import APPROVALS, ExtensionRule

__all__ = ["ExtensionConfig", "check_max_total"]


class ExtensionConfig(BaseModel):
    """``extension: {approval: none | same, max_total: 8h}``: ``approval`` ``none``
    extends at once, ``same`` (the default) needs the same approvals as the request;
    ``max_total`` is the longest a session may last in all, counted from its grant."""

    model_config = _MODEL_CONFIG

    approval: str = "same"
    max_total: Duration | None = None

    @field_validator("approval", mode="before")
    @classmethod
    def _known(cls, value: object) -> str:
        text = value.strip().lower() if isinstance(value, str) else value
        if text not in APPROVALS:
            raise _error(
                "extension_approval",
                f'expected "none" (extended at once) or "same" (the same approvals as '
                f"the request), got {value!r}",
            )
        return str(text)

    @field_validator("max_total")
    @classmethod
    def _at_least_a_minute(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=1):
            raise _error("extension_max_total", "must be at least 1m")
        return value

    def rule(self) -> ExtensionRule:
        """The domain value."""
        return ExtensionRule(self.approval, self.max_total)


def check_max_total(
    extension: ExtensionConfig | None, longest: timedelta | None, what: str, subpath: str
) -> None:
    """``max_total`` may not be shorter than ``longest`` (``what``: the duration it is
    compared with, for the message): a session of that length could never be extended,
    nor even granted in full, which is not what anyone means.

    :raises PydanticCustomError: the problem, at ``subpath`` below the failing field.
    """
    if extension is None or extension.max_total is None or longest is None:
        return
    if extension.max_total < longest:
        raise _error(
            "extension_max_total",
            f"{duration_code(extension.max_total)} is shorter than {what} "
            f"({duration_code(longest)}): max_total counts from the grant, so it must "
            "be at least that",
            subpath=subpath,
        )
