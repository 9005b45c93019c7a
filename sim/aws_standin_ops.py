"""What :class:`sim.aws_standin.AwsStandin` answers itself for IAM Identity Center
(``sso-admin``): account assignment changes that stay ``IN_PROGRESS`` for a while, their
statuses, and the ``ConflictException`` s AWS gives while a change is under way.

Shapes follow botocore's ``sso-admin`` service model (``AccountAssignmentOperationStatus``:
``Status`` ``IN_PROGRESS | FAILED | SUCCEEDED``, ``RequestId``, ``FailureReason``,
``TargetId``, ``TargetType``, ``PermissionSetArn``, ``PrincipalType``, ``PrincipalId``,
``CreatedDate`` in epoch seconds; ``ListAccountAssignment{Creation,Deletion}Status``
lists ``{Status, RequestId, CreatedDate}``, ``MaxResults`` 1-100, ``NextToken``,
``Filter.Status``). See
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html
and
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountAssignmentCreationStatus.html

Test and demo code only.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: ``forward(operation, params) -> (HTTP status, decoded JSON answer)`` of moto
Forward = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]

#: AWS's observed answer to DeletePermissionSet of a set still provisioned (as
#: sim/moto_fixes gives for a set still assigned), e.g.
#: https://github.com/hashicorp/terraform-provider-aws/issues/26757
STILL_PROVISIONED = (
    "Could not delete because PermissionSet has ApplicationProfile associated with it"
    " or is provisioned to accounts."
)
_KINDS = {
    "CreateAccountAssignment": "Creation",
    "DeleteAccountAssignment": "Deletion",
}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer in AWS's JSON 1.1 protocol: ``status`` and a JSON ``body``."""

    status: int
    body: dict[str, Any]

    @staticmethod
    def error(code: str, message: str, status: int = 400) -> Reply:
        """An AWS error answer (``__type`` names the exception, botocore reads it)."""
        return Reply(status, {"__type": code, "Message": message})


@dataclass
class Operation:
    """One account assignment change the stand-in answered."""

    kind: str  # "Creation" | "Deletion"
    request_id: str
    params: dict[str, Any]
    created: float  # epoch seconds
    status: str = "IN_PROGRESS"
    failure: str | None = None
    timer: threading.Timer | None = field(default=None, repr=False)

    def shape(self) -> dict[str, Any]:
        """``AccountAssignmentOperationStatus``."""
        p = self.params
        found: dict[str, Any] = {
            "Status": self.status,
            "RequestId": self.request_id,
            "TargetId": p.get("TargetId"),
            "TargetType": p.get("TargetType"),
            "PermissionSetArn": p.get("PermissionSetArn"),
            "PrincipalType": p.get("PrincipalType"),
            "PrincipalId": p.get("PrincipalId"),
            "CreatedDate": self.created,
        }
        if self.failure is not None:
            found["FailureReason"] = self.failure
        return found


class AssignmentOps:
    """The stand-in's account assignment changes and the refusals around them.

    :param forward: calls moto (see :data:`Forward`).
    :param op_seconds: seconds a change stays ``IN_PROGRESS`` before it is made in moto
        (0: made at once, answered with moto's own status, as moto alone does).
    """

    def __init__(self, forward: Forward, op_seconds: float = 0.0) -> None:
        self._forward = forward
        self.op_seconds = op_seconds
        self.max_outstanding: int | None = None
        self._lock = threading.Lock()
        self._ops: dict[str, Operation] = {}
        #: (account id, permission set ARN or None for all) -> monotonic end
        self._busy: dict[tuple[str, str | None], float] = {}

    # -- hooks ----------------------------------------------------------------------

    def busy(self, account_id: str, seconds: float, permission_set_arn: str | None) -> None:
        """Another writer holds the account (or the set in it) for ``seconds``."""
        with self._lock:
            self._busy[(account_id, permission_set_arn)] = time.monotonic() + seconds

    def in_progress(self) -> list[Operation]:
        """The changes still ``IN_PROGRESS``."""
        with self._lock:
            return [o for o in self._ops.values() if o.status == "IN_PROGRESS"]

    def stop(self) -> None:
        """Cancel the changes not yet made (they stay ``IN_PROGRESS``)."""
        with self._lock:
            for op in self._ops.values():
                if op.timer is not None:
                    op.timer.cancel()

    # -- answers --------------------------------------------------------------------

    def answer(self, operation: str, params: dict[str, Any]) -> Reply | None:
        """The stand-in's answer to an ``sso-admin`` call, or None: forward it as is."""
        if operation in _KINDS:
            return self._change(_KINDS[operation], params)
        for kind in ("Creation", "Deletion"):
            if operation == f"DescribeAccountAssignment{kind}Status":
                return self._describe(kind, params)
            if operation == f"ListAccountAssignment{kind}Status":
                return self._list(kind, params)
        if operation == "DeletePermissionSet":
            return self._delete_set(params)
        if operation == "ProvisionPermissionSet" and params.get("TargetId"):
            return self._refusal(params["TargetId"], params.get("PermissionSetArn"))
        return None

    def _refusal(self, account: str, arn: str | None) -> Reply | None:
        """ConflictException while another writer or a change of ours holds it."""
        now = time.monotonic()
        with self._lock:
            held = [
                key
                for key, until in self._busy.items()
                if until > now and key[0] == account and key[1] in (None, arn)
            ]
            running = [
                o
                for o in self._ops.values()
                if o.status == "IN_PROGRESS"
                and o.params.get("TargetId") == account
                and o.params.get("PermissionSetArn") == arn
            ]
            outstanding = sum(o.status == "IN_PROGRESS" for o in self._ops.values())
        if held or running:
            return Reply.error(
                "ConflictException",
                f"Permission set {arn} in account {account} has another operation in progress",
            )
        if self.max_outstanding is not None and outstanding >= self.max_outstanding:
            return Reply.error(
                "ServiceQuotaExceededException",
                f"Too many outstanding operations ({outstanding}); retry later",
            )
        return None

    def _change(self, kind: str, params: dict[str, Any]) -> Reply:
        refused = self._refusal(str(params.get("TargetId")), params.get("PermissionSetArn"))
        if refused is not None:
            return refused
        if kind == "Creation" and self._assigned(params):
            return Reply.error(
                "ConflictException",
                f"The account assignment of {params.get('PrincipalType')}"
                f" {params.get('PrincipalId')} already exists",
            )
        key = f"AccountAssignment{kind}Status"
        if self.op_seconds <= 0:
            status, answer = self._forward(f"{_operation(kind)}", params)
            if status == 200:
                found = answer.get(key, {})
                op = Operation(kind, found.get("RequestId") or str(uuid.uuid4()), params, _now())
                op.status = found.get("Status", "SUCCEEDED")
                with self._lock:
                    self._ops[op.request_id] = op
            return Reply(status, answer)
        op = Operation(kind, str(uuid.uuid4()), params, _now())
        op.timer = threading.Timer(self.op_seconds, self._finish, args=(op,))
        op.timer.daemon = True
        with self._lock:
            self._ops[op.request_id] = op
        op.timer.start()
        return Reply(200, {key: op.shape()})

    def _finish(self, op: Operation) -> None:
        """The change made in moto at last: SUCCEEDED, or FAILED with moto's error."""
        try:
            status, answer = self._forward(_operation(op.kind), op.params)
        except OSError as exc:  # moto stopped under us
            status, answer = 500, {"__type": "InternalServerException", "Message": str(exc)}
        with self._lock:
            if status == 200:
                op.status = "SUCCEEDED"
            else:
                op.status = "FAILED"
                code = str(answer.get("__type", status)).rsplit("#", 1)[-1]
                message = answer.get("Message") or answer.get("message") or ""
                op.failure = f"{code}: {message}" if message else code

    def _assigned(self, params: dict[str, Any]) -> bool:
        """Whether moto holds the assignment ``params`` would create."""
        query = {k: params.get(k) for k in ("InstanceArn", "PermissionSetArn")}
        query["AccountId"] = params.get("TargetId")
        while True:
            status, page = self._forward("ListAccountAssignments", query)
            if status != 200:
                return False
            for item in page.get("AccountAssignments", []):
                if (item.get("PrincipalType"), item.get("PrincipalId")) == (
                    params.get("PrincipalType"),
                    params.get("PrincipalId"),
                ):
                    return True
            if not page.get("NextToken"):
                return False
            query["NextToken"] = page["NextToken"]

    def _describe(self, kind: str, params: dict[str, Any]) -> Reply | None:
        with self._lock:
            op = self._ops.get(str(params.get(f"AccountAssignment{kind}RequestId")))
            if op is None or op.kind != kind:
                return None  # not ours: moto's answer
            return Reply(200, {f"AccountAssignment{kind}Status": op.shape()})

    def _list(self, kind: str, params: dict[str, Any]) -> Reply:
        wanted = (params.get("Filter") or {}).get("Status")
        size = int(params.get("MaxResults") or 100)
        if not 1 <= size <= 100:
            return Reply.error("ValidationException", "MaxResults must be between 1 and 100")
        start = int(params.get("NextToken") or 0)
        with self._lock:
            ops = sorted(
                (o for o in self._ops.values() if o.kind == kind and wanted in (None, o.status)),
                key=lambda o: o.created,
            )
        page = [
            {"Status": o.status, "RequestId": o.request_id, "CreatedDate": o.created}
            for o in ops[start : start + size]
        ]
        body: dict[str, Any] = {f"AccountAssignments{kind}Status": page}
        if start + size < len(ops):
            body["NextToken"] = str(start + size)
        return Reply(200, body)

    def _delete_set(self, params: dict[str, Any]) -> Reply | None:
        """DeletePermissionSet refused while a change of the set is under way or the set
        is provisioned to an account (moto_fixes refuses a set still assigned)."""
        arn = params.get("PermissionSetArn")
        with self._lock:
            running = any(
                o.status == "IN_PROGRESS" and o.params.get("PermissionSetArn") == arn
                for o in self._ops.values()
            )
        if running:
            return Reply.error(
                "ConflictException", f"Permission set {arn} has another operation in progress"
            )
        query = {"InstanceArn": params.get("InstanceArn"), "PermissionSetArn": arn}
        status, answer = self._forward("ListAccountsForProvisionedPermissionSet", query)
        if status == 200 and answer.get("AccountIds"):
            return Reply.error("ConflictException", STILL_PROVISIONED)
        return None


def _operation(kind: str) -> str:
    return "CreateAccountAssignment" if kind == "Creation" else "DeleteAccountAssignment"


def _now() -> float:
    return time.time()


def decode(payload: bytes) -> dict[str, Any]:
    """A JSON answer's body (``{}`` when empty or not JSON)."""
    try:
        found = json.loads(payload or b"{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
