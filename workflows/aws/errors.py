"""Reading botocore's exceptions and turning them into :class:`~workflows.assignments.AwsError`.

Every AWS failure the adapter could not overcome leaves ``workflows.aws`` as an
:class:`AwsError` (or a subclass) whose message names the call; botocore exceptions do
not leak out of the package.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from workflows.assignments import AwsError

#: What a boto3 call raises: AWS answered an error, or botocore could not get an answer.
AWS_ERRORS = (ClientError, BotoCoreError)
#: Error codes a write is retried on with backoff (the API reference recommends it).
RETRYABLE_WRITE_ERRORS = frozenset({"ThrottlingException", "ConflictException"})
#: Error codes that mean this caller cannot use ``ListAccountAssignment*Status``.
LIST_UNAVAILABLE = frozenset(
    {"AccessDeniedException", "UnknownOperationException", "InvalidAction", "ValidationException"}
)
#: Error codes of organizations ``ListAccounts`` that mean "no account names here".
ORGANIZATIONS_UNAVAILABLE = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "AWSOrganizationsNotInUseException",
        "AccessDeniedForDependencyException",
    }
)


def error_code(exc: BaseException) -> str:
    """AWS's error code (``"ConflictException"``), ``""`` for a non-AWS error."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "") or "")
    return ""


def error_message(exc: BaseException) -> str:
    """AWS's error message, else the exception's text."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", "") or "")
    return str(exc)


def describe(exc: BaseException) -> str:
    """``"AccessDeniedException: User ... is not authorized ..."`` or botocore's text."""
    if isinstance(exc, ClientError):
        code, message = error_code(exc), error_message(exc)
        return f"{code}: {message}" if message else code or str(exc)
    return str(exc) or type(exc).__name__


def wrap(operation: str, exc: BaseException) -> AwsError:
    """``AwsError("<operation>: <describe(exc)>", code=<AWS's code or None>)``."""
    return AwsError(f"{operation}: {describe(exc)}", code=error_code(exc) or None)


def gone(exc: BaseException) -> bool:
    """AWS answered ``ResourceNotFoundException``."""
    return error_code(exc) == "ResourceNotFoundException"


def already_exists(exc: BaseException) -> bool:
    """A ``ConflictException`` that says the thing exists (not "operation in progress")."""
    return error_code(exc) == "ConflictException" and "already exist" in error_message(exc).lower()


def not_implemented(exc: BaseException) -> bool:
    """The endpoint does not implement the operation: in-process moto raises
    ``NotImplementedError``; moto's server answers a bare HTTP 500 page, which botocore
    reports with the status as error code (AWS always sends a named error)."""
    return isinstance(exc, NotImplementedError) or (
        isinstance(exc, ClientError) and error_code(exc).isdigit()
    )
