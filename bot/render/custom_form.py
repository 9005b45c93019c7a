"""The request form's custom permission set inputs: the set's name, its session
duration, the AWS managed policies on offer and an inline policy."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)

from bot import ids
from bot.render.request_parts import MAX_OPTIONS
from workflows.config import CustomSetsConfig


def custom_blocks(custom: CustomSetsConfig) -> list[Block]:
    """Every custom permission set input, in the order the form shows them."""
    return [
        _name_block(),
        _session_block(custom),
        _managed_block(custom),
        _inline_block(),
    ]


def _name_block() -> InputBlock:
    return InputBlock(
        block_id=ids.BLOCK_CUSTOM_NAME,
        label="Permission set name",
        hint="Letters, digits and + = , . @ _ - ; jitbot adds the JIT- prefix.",
        element=PlainTextInputElement(
            action_id=ids.ACTION_CUSTOM_NAME, max_length=32, placeholder="e.g. S3Debug"
        ),
    )


def _session_block(custom: CustomSetsConfig) -> InputBlock:
    hours = int(custom.max_session_duration.total_seconds() // 3600)
    return InputBlock(
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
    )


def _managed_block(custom: CustomSetsConfig) -> Block:
    if not custom.managed_policies:
        return ContextBlock(
            elements=[MarkdownTextObject(text="No AWS managed policies are offered.")]
        )
    return InputBlock(
        block_id=ids.BLOCK_CUSTOM_MANAGED,
        label="AWS managed policies",
        optional=True,
        element=StaticMultiSelectElement(
            action_id=ids.ACTION_CUSTOM_MANAGED,
            placeholder="Choose policies",
            options=[
                Option(value=name, text=name[:75]) for name in custom.managed_policies[:MAX_OPTIONS]
            ],
        ),
    )


def _inline_block() -> InputBlock:
    return InputBlock(
        block_id=ids.BLOCK_CUSTOM_INLINE,
        label="Inline policy",
        optional=True,
        hint="IAM policy JSON (Version 2012-10-17, Statement with Effect, Action, Resource).",
        element=PlainTextInputElement(
            action_id=ids.ACTION_CUSTOM_INLINE, multiline=True, max_length=3000
        ),
    )
