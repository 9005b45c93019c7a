"""The Extend modal: the durations that still fit the access rule's ``max_total``
(counted from the grant) and a reason. ``private_metadata`` names the request; the
submission checks everything again on the server."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.render.common import slack_date
from bot.render.escape import esc
from bot.render.request_parts import MAX_OPTIONS
from workflows.durations import duration_code, duration_label
from workflows.services.extend import ExtendOffer
from workflows.validation import MAX_REASON


def extend_modal(offer: ExtendOffer) -> dict[str, Any]:
    """Extend a session: how much more time (only the durations that fit) and why;
    says whether approval is needed and the longest total the rule allows."""
    request, session = offer.request, offer.request.session
    assert session is not None
    how = (
        "The same approvers as the request decide it; until then your access ends as planned."
        if offer.policy.needs_approval
        else "It is extended at once."
    )
    return View(
        type="modal",
        callback_id=ids.CALLBACK_EXTEND,
        title="Extend access",
        submit="Extend",
        close="Cancel",
        private_metadata=json.dumps({"request_id": request.id}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Extend your access to *{esc(request.permission_set_name)}* on "
                    f"*{esc(request.account_label)}*, now ending {slack_date(session.expires_at)}."
                )
            ),
            InputBlock(
                block_id=ids.BLOCK_EXTEND_DURATION,
                label="More time",
                element=StaticSelectElement(
                    action_id=ids.ACTION_EXTEND_DURATION,
                    placeholder="Choose how much more",
                    options=[
                        Option(value=duration_code(d), text=duration_label(d))
                        for d in offer.choices[:MAX_OPTIONS]
                    ],
                ),
            ),
            InputBlock(
                block_id=ids.BLOCK_EXTEND_REASON,
                label="Reason",
                hint="The approvers see this.",
                element=PlainTextInputElement(
                    action_id=ids.ACTION_EXTEND_REASON, multiline=True, max_length=MAX_REASON
                ),
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{how} A session may last at most "
                        f"{duration_label(offer.policy.max_total)} from its grant."
                    )
                ]
            ),
        ],
    ).to_dict()
