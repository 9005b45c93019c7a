"""``jitbot explain``: what a person may request, or approve, under the access rules."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.starting import start_runtime

if TYPE_CHECKING:
    from bot.runtime import Runtime


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``explain`` (``--as EMAIL [--account ID] [--permission-set NAME]`` or
    ``--approver EMAIL``)."""
    explain = sub.add_parser(
        "explain", help="what a person may request, or approve, under the access rules"
    )
    who = explain.add_mutually_exclusive_group(required=True)
    who.add_argument("--as", dest="requester", metavar="EMAIL", help="what EMAIL may request")
    who.add_argument("--approver", metavar="EMAIL", help="what EMAIL may approve")
    explain.add_argument("--account", metavar="ID", help="only this account (with --as)")
    explain.add_argument(
        "--permission-set", metavar="NAME", help='only this set ("custom" for JIT- sets)'
    )
    explain.set_defaults(func=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the table of :func:`workflows.explain.requester_rows` (``--as``) or
    :func:`~workflows.explain.approver_rows` (``--approver``) for the person with that
    email, resolved as the bot does (Slack ``users.lookupByEmail``, Identity Center).
    Exit 0; 1 when the person is not found or AWS or Slack did not answer; 2 for an
    invalid config."""
    from workflows.assignments import AwsError
    from workflows.domain import Person
    from workflows.errors import WorkflowError
    from workflows.text_table import aligned

    rt = start_runtime("explain")
    if isinstance(rt, int):
        return rt
    email = (args.requester or args.approver).strip().lower()
    try:
        slack_id = rt.directory.slack_id_for(email)
        if slack_id is None:
            print(f"jitbot explain: no Slack user with email {email}", file=sys.stderr)
            return 1
        principal = rt.services.principal_of(Person(slack_id, email, email))
        header, rows = _table(args, rt, slack_id, principal)
    except (AwsError, WorkflowError) as exc:
        print(f"jitbot explain: {exc}", file=sys.stderr)
        return 1
    finally:
        rt.close()
    if principal is None:
        print(f"{email} has no Identity Center user: requests would be refused.")
    for line in aligned(header, rows) or ["(nothing)"]:
        print(line)
    return 0


def _table(
    args: argparse.Namespace, rt: Runtime, slack_id: str, principal: str | None
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The header and rows ``args`` asks for, from the runtime's rules and lookups."""
    from workflows.explain import (
        APPROVER_HEADER,
        REQUESTER_HEADER,
        Explaining,
        approver_rows,
        requester_rows,
    )

    authority = rt.services.authority
    ex = Explaining(
        rt.catalog,
        authority.rulebook,
        authority.rules(),
        authority.lookups,
        lambda i: rt.directory.person(i).name,
        custom=rt.config.custom_permission_sets.enabled,
    )
    if args.requester:
        rows = requester_rows(
            ex,
            slack_id=slack_id,
            principal_id=principal,
            account_id=args.account,
            permission_set=args.permission_set,
        )
        return REQUESTER_HEADER, rows
    return APPROVER_HEADER, approver_rows(ex, slack_id=slack_id, principal_id=principal)
