"""What people see of extensions, as pure renderings: the Extend button only while the
table allows it, the approvers' buttons only in their threads, every typed word escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import ids
from bot.render.extend_modal import extend_modal
from bot.render.extend_notices import notice_blocks
from bot.render.messages import requester_message
from bot.render.notices import notice_text
from tests.test_render import ENDS, GRANTED, active, pending
from workflows.domain import GrantedSession, Notice, NoticeKind
from workflows.extensions import ExtensionPolicy
from workflows.services.extend import ExtendOffer
from workflows.states import Status

HOSTILE = "<!channel> see <https://evil.example|here> & more"
DATA = {"id": 3, "seconds": 3600, "until": (ENDS + timedelta(hours=1)).isoformat()}


def _ids(message: dict) -> list[str]:
    return [
        e.get("action_id")
        for b in message["blocks"]
        for e in b.get("elements") or []
        if "action_id" in e
    ]


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
def test_the_requesters_root_offers_extend_only_while_active(status: Status) -> None:
    request = pending(status=status, session=GrantedSession(GRANTED, ENDS))
    shown = ids.ACTION_EXTEND in _ids(requester_message(request))
    assert shown == (status == Status.ACTIVE)


def test_the_ask_is_escaped_and_only_approvers_get_buttons() -> None:
    notice = Notice(NoticeKind.EXTENSION_ASKED, HOSTILE, "<@U123> Eve", extension=DATA)
    for_approver = notice_text(active(), notice, for_requester=False)
    assert for_approver is not None
    assert "<!channel>" not in for_approver and "&lt;!channel&gt;" in for_approver
    assert "&lt;@U123&gt; Eve asks to extend this access by 1 hour, until <!date^" in for_approver
    blocks = notice_blocks(notice, for_approver, for_requester=False)
    assert blocks is not None
    buttons = blocks[1]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (ids.ACTION_APPROVE_EXTENSION, "3"),
        (ids.ACTION_REJECT_EXTENSION, "3"),
    ]
    mine = notice_text(active(), notice, for_requester=True)
    assert mine is not None and mine.startswith(":hourglass_flowing_sand: You asked to extend")
    assert notice_blocks(notice, mine, for_requester=True) is None
    extended = Notice(NoticeKind.EXTENDED, by="Oscar", extension=DATA)
    assert notice_blocks(extended, "x", for_requester=False) is None


def test_every_thread_is_told_the_new_end() -> None:
    notice = Notice(NoticeKind.EXTENDED, by="Oscar <b>", extension=DATA)
    until = int((ENDS + timedelta(hours=1)).timestamp())
    for for_requester in (True, False):
        text = notice_text(active(), notice, for_requester=for_requester)
        assert text == (
            f":large_green_circle: Access extended until <!date^{until}^{{date_short_pretty}} "
            f"at {{time}}|{(ENDS + timedelta(hours=1)).strftime('%Y-%m-%d %H:%M:%S UTC')}> "
            "(approved by Oscar &lt;b&gt;)."
        )


def test_the_modal_offers_only_the_choices_and_escapes_the_names() -> None:
    request = active(account_name="<!here>")
    offer = ExtendOffer(request, ExtensionPolicy("same", timedelta(hours=8)), (timedelta(hours=1),))
    view = extend_modal(offer)
    assert view["callback_id"] == ids.CALLBACK_EXTEND
    select = view["blocks"][1]["element"]
    assert [o["value"] for o in select["options"]] == ["1h"]
    assert "&lt;!here&gt;" in view["blocks"][0]["text"]["text"]
    assert "at most 8 hours from its grant" in view["blocks"][3]["elements"][0]["text"]
