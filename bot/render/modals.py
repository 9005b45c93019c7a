"""Modals: the request form, the reject reason, request details, and the explanations
shown instead of a form when nothing can be requested."""

from __future__ import annotations

import json
import threading
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.render.common import (
    custom_set_text,
    quote,
    request_fields,
    session_limit_text,
    slack_date,
    warnings_text,
)
from workflows.catalog import Catalog, CatalogAccount
from workflows.config import CustomSetsConfig
from workflows.domain import AccessRequest
from workflows.durations import duration_code, duration_label
from workflows.validation import KIND_CUSTOM, KIND_STANDARD

MAX_OPTIONS = 100  # Block Kit: a select holds at most 100 options


def account_option(account: CatalogAccount) -> Option:
    """An account as an option, labelled ``Name (id)`` (option text ≤ 75 characters)."""
    label = account.label
    if len(label) > 75:
        suffix = f"… ({account.id})"
        label = account.name[: 75 - len(suffix)].rstrip() + suffix
    return Option(value=account.id, text=label)


def account_options(catalog: Catalog, query: str = "") -> list[dict[str, Any]]:
    """Accounts matching ``query`` (name or id, case-insensitive), at most 100."""
    q = query.strip().lower()
    matches = [a for a in catalog.accounts if q in a.name.lower() or q in a.id]
    return [account_option(a).to_dict() for a in matches[:MAX_OPTIONS]]


def _kind_block(kind: str) -> InputBlock:
    options = [
        Option(value=KIND_STANDARD, text="Standard", description="A pre-defined permission set"),
        Option(
            value=KIND_CUSTOM,
            text="Custom",
            description="Build one for this request: owner, then SSO admin approve",
        ),
    ]
    return InputBlock(
        block_id=ids.BLOCK_KIND,
        label="Permission set type",
        dispatch_action=True,
        element=RadioButtonsElement(
            action_id=ids.ACTION_KIND,
            options=options,
            initial_option=options[1] if kind == KIND_CUSTOM else options[0],
        ),
    )


def _custom_blocks(custom: CustomSetsConfig) -> list[Block]:
    hours = int(custom.max_session_duration.total_seconds() // 3600)
    return [
        InputBlock(
            block_id=ids.BLOCK_CUSTOM_NAME,
            label="Permission set name",
            hint="Letters, digits and + = , . @ _ - ; jitbot adds the JIT- prefix.",
            element=PlainTextInputElement(
                action_id=ids.ACTION_CUSTOM_NAME, max_length=32, placeholder="e.g. S3Debug"
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_CUSTOM_SESSION,
            label="Session duration",
            hint="How long one AWS console or CLI sign-in lasts.",
            element=StaticSelectElement(
                action_id=ids.ACTION_CUSTOM_SESSION,
                placeholder="Hours",
                options=[
                    Option(value=str(h), text=f"{h} hour{'s' if h > 1 else ''}")
                    for h in range(1, hours + 1)
                ],
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_CUSTOM_MANAGED,
            label="AWS managed policies",
            optional=True,
            element=StaticMultiSelectElement(
                action_id=ids.ACTION_CUSTOM_MANAGED,
                placeholder="Choose policies",
                options=[
                    Option(value=name, text=name[:75])
                    for name in custom.managed_policies[:MAX_OPTIONS]
                ],
            ),
        )
        if custom.managed_policies
        else ContextBlock(
            elements=[MarkdownTextObject(text="No AWS managed policies are offered.")]
        ),
        InputBlock(
            block_id=ids.BLOCK_CUSTOM_INLINE,
            label="Inline policy",
            optional=True,
            hint="IAM policy JSON (Version 2012-10-17, Statement with Effect, Action, Resource).",
            element=PlainTextInputElement(
                action_id=ids.ACTION_CUSTOM_INLINE, multiline=True, max_length=3000
            ),
        ),
    ]


#: Slack's limit on a view's ``private_metadata`` (views reference), as slack_sdk's View
PRIVATE_METADATA_MAX = 3000
_REQUEST_VIEWS_MAX = 256


class _RenderedViews:
    """Request forms already rendered, as JSON text, by the identity of what they were
    rendered from (the catalog, the durations and custom set settings are built once at
    start-up) plus the chosen account and kind.

    Rendering through slack_sdk's Block Kit models validates every block and element,
    and was the largest share of the bot's work per ``/jit`` (about 40% of its CPU time
    with 20 people typing ``/jit`` at once, measured with yappi). The inputs keep
    their identity for the life of a runtime, so each form is rendered and validated
    once; a hit is re-parsed from JSON, so every caller gets a view of its own.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._views: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = {}

    def get(self, key: tuple[Any, ...], sources: tuple[Any, ...]) -> str | None:
        with self._lock:
            found = self._views.get(key)
        if found is None or any(a is not b for a, b in zip(found[0], sources, strict=True)):
            return None  # never rendered, or an id reused by a newer object
        return found[1]

    def put(self, key: tuple[Any, ...], sources: tuple[Any, ...], text: str) -> None:
        with self._lock:
            if len(self._views) >= self._size:
                self._views.clear()
            self._views[key] = (sources, text)


_request_views = _RenderedViews(_REQUEST_VIEWS_MAX)


def request_modal(
    catalog: Catalog,
    durations: list[Any],
    *,
    account: CatalogAccount | None = None,
    private_metadata: str = "",
    kind: str = KIND_STANDARD,
    custom: CustomSetsConfig | None = None,
) -> dict[str, Any]:
    """The request form. The account select and the permission set type dispatch
    actions, so the form lists the sets allowed on the chosen account, or the custom
    permission set inputs (when ``custom`` is enabled and the account allows it).

    A new dict each call; the form itself is rendered once per catalog, account and
    kind (see :class:`_RenderedViews`). Raises ``SlackObjectFormationError`` (as
    slack_sdk's ``View`` would) when ``private_metadata`` is longer than Slack allows.
    """
    if len(private_metadata) > PRIVATE_METADATA_MAX:
        raise SlackObjectFormationError(
            f"private_metadata cannot exceed {PRIVATE_METADATA_MAX} characters"
        )
    sources = (catalog, durations, custom, account)
    key = (*(id(source) for source in sources), kind)
    text = _request_views.get(key, sources)
    if text is None:
        text = json.dumps(_render_request_modal(catalog, durations, account, kind, custom))
        _request_views.put(key, sources, text)
    view: dict[str, Any] = json.loads(text)
    if private_metadata:
        view["private_metadata"] = private_metadata
    return view


def _render_request_modal(
    catalog: Catalog,
    durations: list[Any],
    account: CatalogAccount | None,
    kind: str,
    custom: CustomSetsConfig | None,
) -> dict[str, Any]:
    custom_offered = custom is not None and custom.enabled and (account is None or account.custom)
    if not custom_offered or (account is not None and not account.permission_sets):
        kind = KIND_CUSTOM if custom_offered else KIND_STANDARD
    account_select = ExternalDataSelectElement(
        action_id=ids.ACTION_ACCOUNT,
        placeholder="Choose an account",
        min_query_length=0,
        initial_option=account_option(account) if account else None,
    )
    blocks: list[Block] = [
        InputBlock(
            block_id=ids.BLOCK_ACCOUNT,
            label="AWS account",
            element=account_select,
            dispatch_action=True,
        ),
    ]
    if custom_offered:
        blocks.append(_kind_block(kind))
    if kind == KIND_CUSTOM:
        assert custom is not None
        blocks += _custom_blocks(custom)
    elif account is None:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Choose an account to see the permission sets you can request on it."
                    )
                ]
            )
        )
    else:
        blocks.append(
            InputBlock(
                block_id=ids.BLOCK_PERMISSION_SET,
                label="Permission set",
                element=StaticSelectElement(
                    action_id=ids.ACTION_PERMISSION_SET,
                    placeholder="Choose a permission set",
                    options=[
                        Option(value=name, text=name[:75])
                        for name in list(account.permission_sets)[:MAX_OPTIONS]
                    ],
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id=ids.BLOCK_DURATION,
            label="Duration",
            element=StaticSelectElement(
                action_id=ids.ACTION_DURATION,
                placeholder="How long you need access",
                options=[
                    Option(value=duration_code(d), text=duration_label(d))
                    for d in durations[:MAX_OPTIONS]
                ],
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_JUSTIFICATION,
            label="Justification",
            hint="Why you need this access (at least 10 characters). Approvers see it.",
            element=PlainTextInputElement(
                action_id=ids.ACTION_JUSTIFICATION,
                multiline=True,
                max_length=2000,
                placeholder="e.g. Investigating failed deploys in ticket OPS-123",
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.CALLBACK_REQUEST,
        title="Request AWS access",
        submit="Submit request",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def message_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only explains something (no accounts, no Identity Center user)."""
    return View(
        type="modal",
        title=title[:24],
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text[:3000]))],
    ).to_dict()


NO_ACCOUNTS_TEXT = (
    "*No accounts available*\n"
    "There is no AWS account you can request access to yet. Accounts appear only when "
    "they are configured in jitbot and have at least one valid permission set. "
    "Ask your jitbot administrator to add the account and its permission sets."
)


def reason_input(block_id: str, action_id: str, hint: str) -> InputBlock:
    """An optional free-text "Reason" (≤ 1000 characters) for a reject or a revoke."""
    return InputBlock(
        block_id=block_id,
        label="Reason",
        optional=True,
        hint=hint,
        element=PlainTextInputElement(action_id=action_id, multiline=True, max_length=1000),
    )


def reject_modal(request: AccessRequest) -> dict[str, Any]:
    """Reject with an optional reason. ``private_metadata`` names the request; the
    submission re-checks authority from the database, it does not trust it."""
    return View(
        type="modal",
        callback_id=ids.CALLBACK_REJECT,
        title="Reject request",
        submit="Reject",
        close="Cancel",
        private_metadata=json.dumps({"request_id": request.id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Reject *{request.requester.name}*'s request for "
                    f"*{request.permission_set_name}* on *{request.account_label}*?"
                )
            ),
            reason_input(
                ids.BLOCK_REJECT_REASON, ids.ACTION_REJECT_REASON, "The requester sees this."
            ),
        ],
    ).to_dict()


def details_modal(request: AccessRequest) -> dict[str, Any]:
    """Everything about a request (approver guide "Viewing Request Details")."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*Request #{request.id}*")),
        SectionBlock(fields=request_fields(request)),
        SectionBlock(
            text=MarkdownTextObject(text="*Justification*\n" + quote(request.justification))
        ),
    ]
    if request.custom is not None:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=custom_set_text(request, inline_limit=2500)))
        )
        warnings = warnings_text(request)
        if warnings:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=warnings)))
    limit_text = session_limit_text(request)
    if limit_text and request.custom is None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=limit_text)]))
    for review in request.reviews:
        stage = {"owner": "Owner approval — ", "admin": "Admin approval — "}.get(review.stage, "")
        line = stage + (
            f"*Reviewed by* {review.reviewer.name} ({review.reviewer.email}) — "
            f"{review.decision.value} {slack_date(review.decided_at)}"
        )
        if review.comment:
            line += "\n*Reviewer comment*\n" + quote(review.comment, 1500)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    session = request.session
    if session is not None:
        line = f"*Granted* {slack_date(session.granted_at)}\n"
        if session.ended_at is None:
            line += f"*Ends* {slack_date(session.expires_at)}"
        else:
            line += f"*Ended* {slack_date(session.ended_at)} ({session.end_reason})"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    return View(type="modal", title="Request details", close="Close", blocks=blocks).to_dict()


def revoke_modal(request: AccessRequest, now: Any) -> dict[str, Any]:
    """Confirm a revocation: it ends the access at once (approver guide "Revoking a
    Session"). ``private_metadata`` names the request; authority is re-checked on submit."""
    from bot.render.home_parts import progress_bar

    return View(
        type="modal",
        callback_id=ids.CALLBACK_REVOKE,
        title="Revoke session",
        submit="Confirm Revoke",
        close="Cancel",
        private_metadata=json.dumps({"request_id": request.id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=":warning: Revoking removes this person's access *immediately*. "
                    "It cannot be undone."
                )
            ),
            SectionBlock(
                fields=[
                    MarkdownTextObject(
                        text=f"*User*\n{request.requester.name} ({request.requester.email})"
                    ),
                    MarkdownTextObject(text=f"*AWS account*\n{request.account_label}"),
                    MarkdownTextObject(text=f"*Permission set*\n{request.permission_set_name}"),
                    MarkdownTextObject(text=f"*Time remaining*\n{progress_bar(request, now)}"),
                ]
            ),
            reason_input(
                ids.BLOCK_REVOKE_REASON,
                ids.ACTION_REVOKE_REASON,
                "Recommended: the requester and the audit trail see it.",
            ),
        ],
    ).to_dict()
