"""The Block Kit type names Slack accepts: block types and which element types each
place (section accessory, actions block, input block) may hold.

From https://docs.slack.dev/reference/block-kit/blocks and
https://docs.slack.dev/reference/block-kit/block-elements.
"""

from __future__ import annotations

from typing import Literal

#: where blocks are shown: a message (at most 50 blocks), a modal or the App Home (100)
Surface = Literal["message", "modal", "home"]

BLOCK_TYPES = {
    "actions",
    "call",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "video",
}
SELECTS = {
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
}
MULTI_SELECTS = {f"multi_{s}" for s in SELECTS}
TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
ELEMENT_TYPES = (
    SELECTS
    | MULTI_SELECTS
    | TEXT_INPUTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "file_input",
        "image",
        "overflow",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
        "workflow_button",
    }
)
SECTION_ACCESSORIES = (
    SELECTS
    | MULTI_SELECTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "image",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
    }
)
ACTIONS_ELEMENTS = (
    SELECTS
    | MULTI_SELECTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "overflow",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
        "workflow_button",
    }
)
INPUT_ELEMENTS = (
    SELECTS
    | MULTI_SELECTS
    | TEXT_INPUTS
    | {
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "file_input",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
    }
)
