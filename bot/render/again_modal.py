"""Request again's modal: the request form (:func:`bot.render.request_modal.request_modal`)
with its inputs filled in from the old request and a line saying what changed."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot import ids
from bot.render.escape import esc
from bot.render.request_modal import request_modal
from workflows.catalog import Catalog
from workflows.config import CustomSetsConfig
from workflows.services.again import Refill
from workflows.validation import KIND_CUSTOM, KIND_STANDARD

#: The block id of the line that says where the values come from.
BLOCK_AGAIN_NOTE = "request_again_note"
#: Slack refuses an initial value longer than the input's ``max_length``.
_MAX_LENGTH = {ids.BLOCK_JUSTIFICATION: 2000, ids.BLOCK_CUSTOM_INLINE: 3000}


def again_modal(catalog: Catalog, refill: Refill, custom: CustomSetsConfig) -> dict[str, Any]:
    """The form for ``refill``: the same account, permission set (or custom set),
    duration and justification, where today's offer still has them."""
    form, choice = refill.form, refill.choice
    kind = form.kind if form.kind == KIND_CUSTOM else KIND_STANDARD
    view = request_modal(
        catalog,
        choice.durations,
        account=choice.account,
        kind=kind,
        custom=custom,
        ticket=choice.ticket,
        permission_set=form.permission_set,
        rule_line=choice.rule_line,
    )
    blocks: list[dict[str, Any]] = view["blocks"]
    _choose(blocks, ids.BLOCK_DURATION, [form.duration])
    _type(blocks, ids.BLOCK_JUSTIFICATION, form.justification)
    if kind == KIND_CUSTOM:
        _type(blocks, ids.BLOCK_CUSTOM_NAME, form.custom_name)
        _choose(blocks, ids.BLOCK_CUSTOM_SESSION, [form.custom_session_hours])
        _choose(blocks, ids.BLOCK_CUSTOM_MANAGED, list(form.custom_managed), multi=True)
        _type(blocks, ids.BLOCK_CUSTOM_INLINE, form.custom_inline)
    blocks.insert(0, _note(refill))
    return view


def _note(refill: Refill) -> dict[str, Any]:
    text = f":repeat: Filled in from your request #{refill.request_id}; change what you need."
    if refill.notes:
        text += "\n" + "\n".join(f":information_source: {esc(note)}" for note in refill.notes)
    return ContextBlock(
        block_id=BLOCK_AGAIN_NOTE, elements=[MarkdownTextObject(text=text[:3000])]
    ).to_dict()


def _element(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any] | None:
    block = next((b for b in blocks if b.get("block_id") == block_id), None)
    return None if block is None or block.get("type") != "input" else block["element"]


def _type(blocks: list[dict[str, Any]], block_id: str, value: str | None) -> None:
    """Fill a text input (left empty when too long for it)."""
    element = _element(blocks, block_id)
    limit = _MAX_LENGTH.get(block_id, element.get("max_length", 3000) if element else 0)
    if element is not None and value and len(value) <= limit:
        element["initial_value"] = value


def _choose(
    blocks: list[dict[str, Any]], block_id: str, values: list[str | None], *, multi: bool = False
) -> None:
    """Select the options of ``values`` the select still offers (Slack refuses an
    initial option that is not one of its options)."""
    element = _element(blocks, block_id)
    if element is None:
        return
    chosen = [o for o in element.get("options", []) if o["value"] in values]
    if multi and chosen:
        element["initial_options"] = chosen
    elif chosen:
        element["initial_option"] = chosen[0]
