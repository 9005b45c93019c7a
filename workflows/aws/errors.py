"""How this package talks about AWS failures: the botocore client configuration, the
error code and message of a botocore exception, and :class:`AwsError` made from one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import botocore.config
from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import AwsError

_ORGANIZATIONS_UNAVAILABLE = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "AWSOrganizationsNotInUseException",
        "AccessDeniedForDependencyException",
    }
)


def client_config(max_attempts: int = 8) -> botocore.config.Config:
    """The botocore configuration of every client this module makes: standard retry
    mode (retries throttling and transient errors with backoff), 5 s connect timeout,
    20 s read timeout."""
    return botocore.config.Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=20,
    )


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "") or "")
    return ""


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", "") or "")
    return str(exc)


def _describe(exc: BaseException) -> str:
    """``"AccessDeniedException: User ... is not authorized ..."`` or botocore's text."""
    if isinstance(exc, ClientError):
        code, message = _error_code(exc), _error_message(exc)
        return f"{code}: {message}" if message else code or str(exc)
    return str(exc) or type(exc).__name__


def _wrap(operation: str, exc: BaseException) -> AwsError:
    return AwsError(f"{operation}: {_describe(exc)}", code=_error_code(exc) or None)


_T = TypeVar("_T")


def unless_missing(
    operation: str, call: Callable[[], _T], missing: str = "ResourceNotFoundException"
) -> _T | None:
    """``call()``'s answer, or None when AWS answers with the error code ``missing``
    (a user, group or OU that does not exist).

    :raises AwsError: any other failure, named by ``operation``.
    """
    try:
        return call()
    except ClientError as exc:
        if _error_code(exc) == missing:
            return None
        raise _wrap(operation, exc) from exc
    except BotoCoreError as exc:
        raise _wrap(operation, exc) from exc


def _gone(exc: BaseException) -> bool:
    return _error_code(exc) == "ResourceNotFoundException"


def _already_exists(exc: BaseException) -> bool:
    """A ``ConflictException`` that says the thing exists (not "operation in progress")."""
    return (
        _error_code(exc) == "ConflictException" and "already exist" in _error_message(exc).lower()
    )


#: Error codes that mean this caller cannot use ``ListAccountAssignment*Status``.
_LIST_UNAVAILABLE = frozenset(
    {"AccessDeniedException", "UnknownOperationException", "InvalidAction", "ValidationException"}
)


def _not_implemented(exc: BaseException) -> bool:
    """The endpoint does not implement the operation: ``NotImplementedError`` from an
    in-process stand-in, or an answer without a named AWS error (a bare HTTP 5xx page,
    which botocore reports with the status as error code; AWS always names its error)."""
    return isinstance(exc, NotImplementedError) or (
        isinstance(exc, ClientError) and _error_code(exc).isdigit()
    )
