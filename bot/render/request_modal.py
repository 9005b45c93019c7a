"""The request modal: the form a person fills in to ask for access, assembled from
the blocks in ``request_parts`` and ``custom_form``, and cached as rendered JSON."""

from __future__ import annotations

import json
import threading
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import ids
from bot.render.custom_form import custom_blocks
from bot.render.request_parts import (
    account_block,
    choose_account_hint,
    duration_block,
    justification_block,
    kind_block,
    permission_set_block,
    rule_context_block,
    ticket_block,
)
from workflows.catalog import Catalog, CatalogAccount
from workflows.config import CustomSetsConfig
from workflows.validation import KIND_CUSTOM, KIND_STANDARD

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
    ticket: bool = False,
    permission_set: str | None = None,
    rule_line: str | None = None,
) -> dict[str, Any]:
    """The request form. The account select and the permission set type dispatch
    actions, so the form lists the sets allowed on the chosen account, or the custom
    permission set inputs (when ``custom`` is enabled and the account allows it).

    A new dict each call; the form itself is rendered once per catalog, account and
    kind (see :class:`_RenderedViews`). ``ticket`` adds the optional "Ticket" input
    (an access rule may ask for one: :func:`workflows.access_rules.may_ask_ticket`);
    ``permission_set`` is the set chosen, ``rule_line`` what its access rule will ask
    (shown under the set), and ``durations`` those the rule allows. Raises
    ``SlackObjectFormationError`` (as slack_sdk's ``View`` would) when
    ``private_metadata`` is longer than Slack allows.
    """
    if len(private_metadata) > PRIVATE_METADATA_MAX:
        raise SlackObjectFormationError(
            f"private_metadata cannot exceed {PRIVATE_METADATA_MAX} characters"
        )
    sources = (catalog, durations, custom, account)
    key = (*(id(source) for source in sources), kind, ticket, permission_set, rule_line)
    text = _request_views.get(key, sources)
    if text is None:
        chosen = (permission_set, rule_line)
        text = json.dumps(
            _render_request_modal(catalog, durations, account, kind, custom, ticket, chosen)
        )
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
    ticket: bool = False,
    chosen: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    custom_offered = custom is not None and custom.enabled and (account is None or account.custom)
    if not custom_offered or (account is not None and not account.permission_sets):
        kind = KIND_CUSTOM if custom_offered else KIND_STANDARD
    blocks: list[Block] = [account_block(account)]
    if custom_offered:
        blocks.append(kind_block(kind))
    blocks += _what_blocks(account, kind, custom, chosen[0])
    if chosen[1]:
        blocks.append(rule_context_block(chosen[1]))
    blocks += [duration_block(durations), justification_block()]
    if ticket:
        blocks.append(ticket_block())
    return View(
        type="modal",
        callback_id=ids.CALLBACK_REQUEST,
        title="Request AWS access",
        submit="Submit request",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def _what_blocks(
    account: CatalogAccount | None,
    kind: str,
    custom: CustomSetsConfig | None,
    chosen: str | None = None,
) -> list[Block]:
    """What is asked for: the custom set inputs, a hint to choose an account first, or
    the permission sets allowed on the chosen account."""
    if kind == KIND_CUSTOM:
        assert custom is not None
        return custom_blocks(custom)
    if account is None:
        return [choose_account_hint()]
    return [permission_set_block(account, chosen)]
