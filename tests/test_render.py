"""What people see in Slack: approval and requester messages, thread notices, the request
form, the details modal and App Home. Every payload must be one Slack would accept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import ids
from bot.render.app_home import home_view
from bot.render.buttons import ACTION_IDS
from bot.render.common import request_fields, status_text
from bot.render.messages import approval_message, notice_text, requester_message
from bot.render.modals import (
    NO_ACCOUNTS_TEXT,
    account_option,
    account_options,
    details_modal,
    message_modal,
    reject_modal,
    request_modal,
)
from sim.fake_slack import block_kit_problems, blocks_to_text, view_problems
from workflows.actions import EVENT_OF, Action, offered_actions
from workflows.app_home import HomeData, HomeState
from workflows.catalog import Catalog, CatalogAccount
from workflows.config import DEFAULT_DURATIONS, parse_config
from workflows.domain import (
    AccessRequest,
    CustomPermissionSet,
    Decision,
    GrantedSession,
    MessageRole,
    Notice,
    NoticeKind,
    Person,
    Review,
    Stage,
)
from workflows.durations import parse_duration
from workflows.people import Roster
from workflows.policy import Rules
from workflows.ports import Page
from workflows.states import Status, allowed_events
from workflows.validation import RequestForm, validate_form

RITA = Person("U_RITA", "rita@example.com", "Rita Requester")
OSCAR = Person("U_OSCAR", "oscar@example.com", "Oscar Owner")

REQUESTED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
DECIDED = REQUESTED + timedelta(minutes=12)
GRANTED = DECIDED + timedelta(seconds=3)
ENDS = GRANTED + timedelta(hours=4)
PORTAL = "https://d-0123456789.awsapps.com/start"
PS_ARN = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-1"
JUSTIFICATION = "Investigating failed deploys in ticket OPS-123"

SANDBOX = CatalogAccount(
    "111111111111",
    "Sandbox",
    {"ReadOnlyAccess": PS_ARN, "AdministratorAccess": PS_ARN.replace("ps-1", "ps-2")},
)
PROD = CatalogAccount("222222222222", "Production", {"ReadOnlyAccess": PS_ARN})
CATALOG = Catalog((SANDBOX, PROD))
DURATIONS = [parse_duration(code) for code in DEFAULT_DURATIONS]


# --------------------------------------------------------------------------- builders


def pending(**changes: Any) -> AccessRequest:
    request = AccessRequest(
        id=7,
        requester=RITA,
        principal_id="idstore-user-rita",
        account_id="111111111111",
        account_name="Sandbox",
        permission_set_name="ReadOnlyAccess",
        permission_set_arn=PS_ARN,
        duration=timedelta(hours=4),
        justification=JUSTIFICATION,
        status=Status.PENDING,
        requested_at=REQUESTED,
        approval_deadline=REQUESTED + timedelta(hours=24),
        approvers=("oscar@example.com",),
    )
    return replace(request, **changes)


def review(decision: Decision, comment: str | None = None) -> Review:
    return Review(Stage.SINGLE, decision, OSCAR, DECIDED, comment)


def active(**changes: Any) -> AccessRequest:
    return pending(
        status=Status.ACTIVE,
        reviews=(review(Decision.APPROVED),),
        session=GrantedSession(GRANTED, GRANTED + timedelta(hours=4)),
        **changes,
    )


def expired(**changes: Any) -> AccessRequest:
    ends = GRANTED + timedelta(hours=4)
    return pending(
        status=Status.EXPIRED,
        reviews=(review(Decision.APPROVED),),
        session=GrantedSession(GRANTED, ends, ends, "expired"),
        **changes,
    )


def rejected(comment: str | None = "Not during the release freeze", **changes: Any):
    return pending(status=Status.REJECTED, reviews=(review(Decision.REJECTED, comment),), **changes)


def timed_out(**changes: Any) -> AccessRequest:
    return pending(status=Status.TIMED_OUT, **changes)


def revoked(**changes: Any) -> AccessRequest:
    ended = GRANTED + timedelta(hours=1)
    return pending(
        status=Status.REVOKED,
        reviews=(review(Decision.APPROVED),),
        session=GrantedSession(GRANTED, GRANTED + timedelta(hours=4), ended, "revoked"),
        **changes,
    )


def failed(**changes: Any) -> AccessRequest:
    return pending(status=Status.FAILED, reviews=(review(Decision.APPROVED),), **changes)


LONG_JUSTIFICATION = ("Need to trace the failing deploy pipeline across stages. " * 40)[:2000]
LONG_NAME = "Shared Services Platform Engineering Production Environment EU-West " * 3

SAMPLES = {
    "pending": pending(),
    "active": active(),
    "expired": expired(),
    "rejected": rejected(),
    "rejected-no-comment": rejected(None),
    "timed-out": timed_out(),
    "revoked": revoked(),
    "failed": failed(),
    "long-justification": pending(justification=LONG_JUSTIFICATION),
    "long-justification-lines": pending(
        justification="\n".join(f"step {i}: check the deploy logs" for i in range(60))
    ),
    "long-account-name": active(account_name=LONG_NAME.strip()),
    "long-reject-comment": rejected("No. " * 250),
}


# --------------------------------------------------------------------------- helpers


def assert_message_ok(message: dict[str, Any]) -> None:
    assert message["text"], "a message needs fallback text for notifications"
    assert block_kit_problems(message["blocks"], surface="message") == []


def assert_view_ok(view: dict[str, Any]) -> None:
    assert view_problems(view) == []


def date_shown(when: datetime) -> str:
    """The start of a Slack date token: each reader sees ``when`` in their own time zone."""
    return f"<!date^{int(when.timestamp())}^"


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """(label, action_id, value) of every button, in order."""
    found = []
    for block in blocks:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        for el in elements:
            if el.get("type") == "button":
                found.append((el["text"]["text"], el["action_id"], el.get("value")))
    return found


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Input blocks by label."""
    return {b["label"]["text"]: b for b in view["blocks"] if b["type"] == "input"}


def option_labels(element: dict[str, Any]) -> list[str]:
    return [o["text"]["text"] for o in element["options"]]


# --------------------------------------------------------------------------- every payload is valid


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_rendering_of_every_sample_is_accepted_by_slack(name):
    request = SAMPLES[name]
    assert_message_ok(approval_message(request))
    assert_message_ok(requester_message(request))
    assert_view_ok(details_modal(request))
    assert_view_ok(reject_modal(request))


# --------------------------------------------------------------------------- approval message


def test_pending_approval_message_offers_approve_reject_and_details_with_the_request_id():
    message = approval_message(pending())
    assert buttons(message["blocks"]) == [
        ("Approve", ids.ACTION_APPROVE, "7"),
        ("Reject", ids.ACTION_REJECT, "7"),
        ("View details", ids.ACTION_DETAILS, "7"),
    ]
    styles = [el.get("style") for b in message["blocks"] for el in b.get("elements") or []]
    assert styles[:2] == ["primary", "danger"]


def test_pending_approval_message_shows_the_request():
    message = approval_message(pending())
    text = blocks_to_text(message["blocks"])
    assert "Rita Requester* requests access (request #7)" in text
    assert "Rita Requester (rita@example.com)" in text
    assert "Sandbox (111111111111)" in text
    assert "ReadOnlyAccess (standard)" in text
    assert "4 hours" in text
    assert "> " + JUSTIFICATION in text
    assert "Pending" in text
    assert date_shown(REQUESTED) in text
    assert "|2025-03-01 09:30" in text  # fallback for clients that cannot show dates
    assert message["text"] == (
        "Rita Requester requests ReadOnlyAccess on Sandbox (111111111111) for 4 hours — Pending"
    )


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
def test_approve_and_reject_only_while_pending(status):
    message = approval_message(pending(status=status))
    labels = [label for label, _, _ in buttons(message["blocks"])]
    if status in (Status.PENDING, Status.PENDING_OWNER):
        assert labels == ["Approve", "Reject", "View details"]
    else:  # an owner-stage message has no buttons once the admin stage is reached
        assert labels == ["View details"]
    assert_message_ok(message)
    admin = approval_message(pending(status=status), MessageRole.ADMIN_APPROVER)
    admin_labels = [label for label, _, _ in buttons(admin["blocks"])]
    assert ("Approve" in admin_labels) is (status is Status.PENDING_ADMIN)


def test_approved_message_shows_who_approved_and_until_when():
    message = approval_message(active())
    text = blocks_to_text(message["blocks"])
    assert "Approved by Oscar Owner" in text
    assert f"Approved by Oscar Owner {date_shown(DECIDED)}" in text
    assert f"Access until {date_shown(ENDS)}" in text
    assert buttons(message["blocks"]) == [("View details", ids.ACTION_DETAILS, "7")]
    assert message["text"].endswith("— Active")


def test_rejected_message_shows_who_rejected_and_why():
    text = blocks_to_text(approval_message(rejected())["blocks"])
    assert "Rejected by Oscar Owner" in text
    assert "“Not during the release freeze”" in text
    assert "Access until" not in text


def test_expired_message_shows_when_access_ended():
    text = blocks_to_text(approval_message(expired())["blocks"])
    assert "Access ended" in text and "(expired)" in text


def test_timed_out_message_reads_expired_and_names_no_decider():
    message = approval_message(timed_out())
    text = blocks_to_text(message["blocks"])
    assert "Expired" in text
    assert " by " not in text
    assert message["text"].endswith("— Expired")


def test_long_justification_is_shown_whole_within_limits():
    message = approval_message(pending(justification=LONG_JUSTIFICATION))
    assert_message_ok(message)
    assert LONG_JUSTIFICATION.strip() in blocks_to_text(message["blocks"])


def test_justification_longer_than_a_section_is_cut_with_an_ellipsis():
    message = approval_message(pending(justification="y" * 3500))
    assert_message_ok(message)
    assert "y" * 2000 in blocks_to_text(message["blocks"])
    assert "…" in blocks_to_text(message["blocks"])


def test_very_long_reject_comment_is_cut_in_the_message():
    message = approval_message(rejected("z" * 1000))
    assert_message_ok(message)
    text = blocks_to_text(message["blocks"])
    assert "z" * 500 in text and "z" * 501 not in text


def test_very_long_account_name_is_shown_within_limits():
    request = active(account_name=LONG_NAME.strip())
    for message in (approval_message(request), requester_message(request)):
        assert_message_ok(message)
        assert f"{LONG_NAME.strip()} (111111111111)" in blocks_to_text(message["blocks"])


@pytest.mark.parametrize(
    "render",
    [
        lambda r: block_kit_problems(approval_message(r)["blocks"]),
        lambda r: view_problems(details_modal(r)),
    ],
    ids=["approval_message", "details_modal"],
)
def test_accepted_justification_with_many_short_lines_still_renders(render):
    justification = "\n".join(["ok"] * 667)  # 2000 characters, 667 lines
    config = parse_config(
        'accounts:\n  - id: "111111111111"\n    permission_sets: [ReadOnlyAccess]\n'
    )
    valid = validate_form(
        config, CATALOG, RequestForm("111111111111", "ReadOnlyAccess", "4h", justification)
    )
    assert valid.justification == justification
    assert render(pending(justification=justification)) == []


# --------------------------------------------------------------------------- requester message


def test_requester_message_summarises_their_request_without_decision_buttons():
    message = requester_message(pending())
    text = blocks_to_text(message["blocks"])
    assert "Your request #7: *ReadOnlyAccess on Sandbox (111111111111) for 4 hours*" in text
    assert "Requester" not in text  # they know who they are
    assert "Pending" in text
    assert buttons(message["blocks"]) == [
        ("View details", ids.ACTION_DETAILS, "7"),
        ("Nudge approvers", ids.ACTION_NUDGE, "7"),
    ]
    assert message["text"] == (
        "Your request #7: ReadOnlyAccess on Sandbox (111111111111) for 4 hours — Pending"
    )


def test_requester_message_after_rejection_says_who_and_why():
    message = requester_message(rejected())
    text = blocks_to_text(message["blocks"])
    assert "Rejected by Oscar Owner" in text and "Not during the release freeze" in text
    assert message["text"].endswith("— Rejected")


def test_requester_message_while_active_says_until_when():
    text = blocks_to_text(requester_message(active())["blocks"])
    assert "Active" in text
    assert f"Access until {date_shown(ENDS)}" in text


def test_requester_message_after_revocation_says_access_ended():
    text = blocks_to_text(requester_message(revoked())["blocks"])
    assert "Revoked" in text
    assert "Access ended" in text and "(revoked)" in text


# --------------------------------------------------------------------------- notices


def test_sent_to_admins_tells_only_the_requester():
    notice = Notice(NoticeKind.SENT_TO_ADMINS)
    text = notice_text(pending(), notice, for_requester=True)
    assert "Sandbox (111111111111) has no account owner" in text
    assert "admins" in text
    assert notice_text(pending(), notice, for_requester=False) is None


def test_approved_tells_the_requester_access_is_coming():
    request = pending(status=Status.APPROVED, reviews=(review(Decision.APPROVED),))
    notice = Notice(NoticeKind.APPROVED)
    assert notice_text(request, notice, for_requester=True) == (
        ":white_check_mark: Approved by Oscar Owner. Granting access…"
    )
    assert notice_text(request, notice, for_requester=False) == (
        ":white_check_mark: Approved by Oscar Owner."
    )


def test_approved_with_a_comment_quotes_it():
    request = pending(status=Status.APPROVED, reviews=(review(Decision.APPROVED, "ok"),))
    text = notice_text(request, Notice(NoticeKind.APPROVED, "Go ahead"), for_requester=False)
    assert text == ":white_check_mark: Approved by Oscar Owner: “Go ahead”"


@pytest.mark.parametrize("for_requester", [True, False])
def test_rejected_tells_both_who_and_why(for_requester):
    text = notice_text(
        rejected(),
        Notice(NoticeKind.REJECTED, "Not during the release freeze"),
        for_requester=for_requester,
    )
    assert text == ":x: Rejected by Oscar Owner: “Not during the release freeze”"


def test_rejected_without_a_reason():
    text = notice_text(rejected(None), Notice(NoticeKind.REJECTED), for_requester=True)
    assert text == ":x: Rejected by Oscar Owner."


def test_granted_gives_the_requester_the_portal_link():
    text = notice_text(active(), Notice(NoticeKind.GRANTED), for_requester=True, portal_url=PORTAL)
    assert "Access granted: ReadOnlyAccess on Sandbox (111111111111) until" in text
    assert f"until {date_shown(ENDS)}" in text
    assert text.endswith(f"<{PORTAL}|Open the AWS access portal>")


def test_granted_without_a_portal_url_has_no_link():
    text = notice_text(active(), Notice(NoticeKind.GRANTED), for_requester=True)
    assert "Access granted" in text
    assert "<http" not in text and "portal" not in text


def test_granted_tells_approvers_without_the_portal_link():
    text = notice_text(active(), Notice(NoticeKind.GRANTED), for_requester=False, portal_url=PORTAL)
    assert f"Access granted until {date_shown(ENDS)}" in text
    assert PORTAL not in text


@pytest.mark.parametrize("for_requester", [True, False])
def test_grant_failed_says_nothing_was_granted_and_why(for_requester):
    reason = "AccessDeniedException: not authorized to perform sso:CreateAccountAssignment"
    text = notice_text(
        failed(), Notice(NoticeKind.GRANT_FAILED, reason), for_requester=for_requester
    )
    assert "Granting access failed, nothing was granted" in text
    assert text.endswith(reason)


@pytest.mark.parametrize("for_requester", [True, False])
def test_expired_says_when_and_what_was_removed(for_requester):
    text = notice_text(expired(), Notice(NoticeKind.EXPIRED), for_requester=for_requester)
    assert f"Access expired {date_shown(ENDS)}" in text
    assert "ReadOnlyAccess on Sandbox (111111111111) has been removed" in text


@pytest.mark.parametrize("for_requester", [True, False])
def test_revoked_with_reason(for_requester):
    text = notice_text(
        revoked(),
        Notice(NoticeKind.REVOKED, "Incident closed", by="Oscar Owner"),
        for_requester=for_requester,
    )
    assert text.startswith(":no_entry: Access revoked by Oscar Owner (“Incident closed”): ")
    assert "has been removed: no new AWS sign-ins. Sign-ins already open keep working" in text


def test_timed_out_tells_the_requester_to_ask_again():
    text = notice_text(timed_out(), Notice(NoticeKind.TIMED_OUT), for_requester=True)
    assert "Your request expired: nobody approved it in time" in text
    assert "ask again" in text


def test_timed_out_tells_approvers_it_expired_undecided():
    text = notice_text(timed_out(), Notice(NoticeKind.TIMED_OUT), for_requester=False)
    assert text == ":black_circle: Expired without a decision."


@pytest.mark.parametrize("for_requester", [True, False])
def test_revoke_failed_is_not_posted_in_threads(for_requester):
    """A failed removal is retried and the admins are alerted; the threads stay quiet."""
    notice = Notice(NoticeKind.REVOKE_FAILED, "ThrottlingException")
    assert notice_text(active(), notice, for_requester=for_requester) is None


NOTICE_STATE = {
    NoticeKind.SENT_TO_ADMINS: pending(),
    NoticeKind.APPROVERS_UNREACHABLE: pending(),
    NoticeKind.OWNER_APPROVED: pending(
        status=Status.PENDING_ADMIN, reviews=(review(Decision.APPROVED),)
    ),
    NoticeKind.APPROVED: pending(status=Status.APPROVED, reviews=(review(Decision.APPROVED),)),
    NoticeKind.APPROVAL_COUNTED: pending(reviews=(review(Decision.APPROVED),)),
    NoticeKind.REJECTED: rejected(),
    NoticeKind.GRANTED: active(),
    NoticeKind.GRANT_FAILED: failed(),
    NoticeKind.GRANT_PENDING: pending(status=Status.APPROVED, reviews=(review(Decision.APPROVED),)),
    NoticeKind.EXPIRED: expired(),
    NoticeKind.REVOKED: revoked(),
    NoticeKind.RELEASED: revoked(),
    NoticeKind.CANCELLED: pending(status=Status.CANCELLED),
    NoticeKind.TIMED_OUT: timed_out(),
    NoticeKind.REVOKE_FAILED: active(),
    NoticeKind.ASSIGNMENT_VANISHED: revoked(),
    NoticeKind.EXPIRY_WARNING: active(),
    NoticeKind.EXTENSION_ASKED: active(),
    NoticeKind.EXTENSION_APPROVAL_COUNTED: active(),
    NoticeKind.EXTENDED: active(),
    NoticeKind.EXTENSION_REJECTED: active(),
    NoticeKind.EXTENSION_TIMED_OUT: active(),
    NoticeKind.REMINDER: pending(),
    NoticeKind.NUDGED: pending(),
    NoticeKind.ESCALATED: pending(),
}


@pytest.mark.parametrize("kind", list(NoticeKind), ids=lambda k: k.value)
def test_every_notice_kind_is_worded_for_the_requester_or_deliberately_silent(kind):
    assert set(NOTICE_STATE) == set(NoticeKind)
    request = NOTICE_STATE[kind]
    for for_requester in (True, False):
        text = notice_text(request, Notice(kind, "a reason"), for_requester=for_requester)
        assert text is None or (text.startswith(":") and 10 < len(text) < 40_000)
    if kind is not NoticeKind.REVOKE_FAILED:
        assert notice_text(request, Notice(kind, "a reason"), for_requester=True)


# --------------------------------------------------------------------------- request modal


def test_request_modal_before_an_account_is_chosen():
    view = request_modal(CATALOG, DURATIONS, private_metadata='{"channel": "C1"}')
    assert_view_ok(view)
    assert view["title"]["text"] == "Request AWS access"
    assert view["submit"]["text"] == "Submit request"
    assert view["callback_id"] == ids.CALLBACK_REQUEST
    assert view["private_metadata"] == '{"channel": "C1"}'
    assert list(inputs(view)) == ["AWS account", "Duration", "Justification"]
    assert "Choose an account to see the permission sets" in blocks_to_text(view["blocks"])


def test_account_select_reloads_the_form_when_an_account_is_chosen():
    block = inputs(request_modal(CATALOG, DURATIONS))["AWS account"]
    assert block["dispatch_action"] is True
    assert block["element"]["type"] == "external_select"
    assert block["element"]["action_id"] == ids.ACTION_ACCOUNT


def test_request_modal_after_choosing_an_account_lists_only_its_permission_sets():
    view = request_modal(CATALOG, DURATIONS, account=SANDBOX)
    assert_view_ok(view)
    form = inputs(view)
    assert list(form) == ["AWS account", "Permission set", "Duration", "Justification"]
    assert option_labels(form["Permission set"]["element"]) == [
        "ReadOnlyAccess",
        "AdministratorAccess",
    ]
    chosen = form["AWS account"]["element"]["initial_option"]
    assert (chosen["value"], chosen["text"]["text"]) == ("111111111111", "Sandbox (111111111111)")
    assert "Choose an account to see" not in blocks_to_text(view["blocks"])


def test_other_account_offers_its_own_sets_only():
    form = inputs(request_modal(CATALOG, DURATIONS, account=PROD))
    assert option_labels(form["Permission set"]["element"]) == ["ReadOnlyAccess"]


def test_durations_are_listed_in_words_in_config_order():
    duration = inputs(request_modal(CATALOG, DURATIONS))["Duration"]["element"]
    assert option_labels(duration) == [
        "1 hour",
        "2 hours",
        "4 hours",
        "8 hours",
        "12 hours",
        "1 day",
        "2 days",
        "3 days",
        "1 week",
        "2 weeks",
        "1 month",
    ]


def test_every_offered_duration_and_permission_set_passes_validation():
    """What the form offers is exactly what submit accepts."""
    config = parse_config(
        'accounts:\n  - id: "111111111111"\n    permission_sets: [ReadOnlyAccess]\n'
        "durations: [1h, 90m, 1d, 1w, 1mo]\n"
    )
    form = inputs(request_modal(CATALOG, config.durations, account=SANDBOX))
    codes = [o["value"] for o in form["Duration"]["element"]["options"]]
    assert option_labels(form["Duration"]["element"]) == [
        "1 hour", "90 minutes", "1 day", "1 week", "1 month"
    ]  # fmt: skip
    for code in codes:
        for ps in (o["value"] for o in form["Permission set"]["element"]["options"]):
            valid = validate_form(config, CATALOG, RequestForm(SANDBOX.id, ps, code, JUSTIFICATION))
            assert valid.permission_set_name == ps


def test_justification_input_matches_the_validation_rules():
    block = inputs(request_modal(CATALOG, DURATIONS))["Justification"]
    assert block["element"]["multiline"] is True
    assert block["element"]["max_length"] == 2000
    assert "at least 10 characters" in block["hint"]["text"]


def test_request_modal_is_rendered_once_and_each_caller_gets_its_own_copy(monkeypatch):
    from slack_sdk.models.views import View

    renders = []
    to_dict = View.to_dict
    monkeypatch.setattr(View, "to_dict", lambda self, *a: renders.append(1) or to_dict(self, *a))
    durations = list(DURATIONS)  # a new object: not rendered before
    first = request_modal(CATALOG, durations, private_metadata='{"channel_id": "C1"}')
    first["blocks"].clear()
    first["title"]["text"] = "changed by a caller"
    second = request_modal(CATALOG, durations)
    assert len(renders) == 1, "the second form came from the first rendering"
    assert second["title"]["text"] == "Request AWS access"
    assert list(inputs(second)) == ["AWS account", "Duration", "Justification"]
    assert "private_metadata" not in second
    assert_view_ok(second)


def test_request_modal_follows_new_settings_and_accounts():
    shorter = [parse_duration("1h"), parse_duration("1d")]
    form = inputs(request_modal(CATALOG, shorter))
    assert option_labels(form["Duration"]["element"]) == ["1 hour", "1 day"]
    form = inputs(request_modal(CATALOG, shorter, account=PROD))
    assert option_labels(form["Permission set"]["element"]) == ["ReadOnlyAccess"]
    assert option_labels(form["Duration"]["element"]) == ["1 hour", "1 day"]


def test_request_modal_refuses_private_metadata_longer_than_slack_allows():
    from slack_sdk.errors import SlackObjectFormationError

    assert request_modal(CATALOG, DURATIONS, private_metadata="x" * 3000)["private_metadata"]
    with pytest.raises(SlackObjectFormationError, match="3000"):
        request_modal(CATALOG, DURATIONS, private_metadata="x" * 3001)


def test_no_accounts_explanation_is_a_valid_modal():
    view = message_modal("No accounts available to request", NO_ACCOUNTS_TEXT)
    assert_view_ok(view)
    assert "No accounts available" in blocks_to_text(view["blocks"])


# --------------------------------------------------------------------------- account options


def many_accounts(count: int) -> Catalog:
    return Catalog(
        tuple(
            CatalogAccount(f"{100000000000 + i:012d}", f"Team {i:03d}", {"ReadOnlyAccess": PS_ARN})
            for i in range(count)
        )
    )


def test_account_options_without_query_lists_every_account():
    options = account_options(CATALOG)
    assert [(o["value"], o["text"]["text"]) for o in options] == [
        ("111111111111", "Sandbox (111111111111)"),
        ("222222222222", "Production (222222222222)"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("prod", ["222222222222"]),
        ("PROD", ["222222222222"]),
        ("  sand ", ["111111111111"]),
        ("2222", ["222222222222"]),
        ("111111111111", ["111111111111"]),
        ("o", ["111111111111", "222222222222"]),
        ("nothing-like-it", []),
    ],
)
def test_account_options_filter_by_name_or_id(query, expected):
    assert [o["value"] for o in account_options(CATALOG, query)] == expected


def test_account_options_cap_at_100_of_250_accounts():
    catalog = many_accounts(250)
    options = account_options(catalog)
    assert len(options) == 100
    assert options[0]["text"]["text"] == "Team 000 (100000000000)"
    # Typing narrows it down to accounts beyond the first hundred.
    assert [o["text"]["text"] for o in account_options(catalog, "team 249")] == [
        "Team 249 (100000000249)"
    ]
    assert len(account_options(catalog, "team 1")) == 100  # Team 1, 10-19, 100-199


def test_account_options_with_organizations_length_names_fit():
    """AWS Organizations allows account names of up to 50 characters."""
    account = CatalogAccount("111111111111", "N" * 50, {"ReadOnlyAccess": PS_ARN})
    [option] = account_options(Catalog((account,)))
    assert option["text"]["text"] == "N" * 50 + " (111111111111)"


@pytest.mark.parametrize("length", [61, 75, 150])
def test_account_with_a_long_configured_name_can_still_be_chosen(length):
    account = CatalogAccount("111111111111", "N" * length, {"ReadOnlyAccess": PS_ARN})
    [option] = account_options(Catalog((account,)))
    assert len(option["text"]["text"]) <= 75
    assert option["text"]["text"].endswith("(111111111111)")
    assert_view_ok(request_modal(Catalog((account,)), DURATIONS, account=account))


def test_account_option_keeps_short_labels_as_they_are():
    assert account_option(SANDBOX).to_dict()["text"]["text"] == "Sandbox (111111111111)"


# --------------------------------------------------------------------------- details modal


def test_details_of_a_rejected_request_show_the_review_and_comment():
    view = details_modal(rejected())
    assert_view_ok(view)
    assert view["title"]["text"] == "Request details"
    assert view.get("submit") is None
    text = blocks_to_text(view["blocks"])
    assert "Request #7" in text
    assert "Reviewed by* Oscar Owner (oscar@example.com) — rejected" in text
    assert "Reviewer comment" in text and "> Not during the release freeze" in text
    assert "Granted" not in text


def test_details_of_an_active_request_show_the_session():
    text = blocks_to_text(details_modal(active())["blocks"])
    assert "— approved" in text
    assert f"*Granted* {date_shown(GRANTED)}" in text
    assert f"*Ends* {date_shown(ENDS)}" in text
    assert "Reviewer comment" not in text


def test_details_of_an_expired_request_show_when_it_ended():
    text = blocks_to_text(details_modal(expired())["blocks"])
    assert "*Ended*" in text and "(expired)" in text
    assert "*Ends*" not in text


def test_details_of_a_pending_request_have_no_review_or_session():
    text = blocks_to_text(details_modal(pending())["blocks"])
    assert "Reviewed by" not in text
    assert "Granted" not in text
    assert "Pending" in text
    assert "> " + JUSTIFICATION in text


def test_details_show_the_whole_long_justification():
    view = details_modal(pending(justification=LONG_JUSTIFICATION))
    assert_view_ok(view)
    assert LONG_JUSTIFICATION.strip() in blocks_to_text(view["blocks"])


def test_details_of_a_timed_out_request_read_expired():
    text = blocks_to_text(details_modal(timed_out())["blocks"])
    assert "Expired" in text


# --------------------------------------------------------------------------- reject modal


def test_reject_modal_names_the_request_and_asks_an_optional_reason():
    view = reject_modal(pending())
    assert_view_ok(view)
    assert view["private_metadata"] == '{"request_id": 7}'
    assert "Reject *Rita Requester*'s request for *ReadOnlyAccess* on *Sandbox (111111111111)*" in (
        blocks_to_text(view["blocks"])
    )
    reason = inputs(view)["Reason"]
    assert reason["optional"] is True


# --------------------------------------------------------------------------- home


# ------------------------------------------------- buttons come from the transition table

BUTTONS_CONFIG = Rules(
    parse_config("""
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - {id: "111111111111", name: Sandbox, owners: [oscar@example.com], permission_sets: [ReadOnly]}
"""),
    Roster.direct({"ada@example.com": "U_ADA", "oscar@example.com": "U_OSCAR"}),
)
ADA = Person("U_ADA", "ada@example.com", "Ada Admin")
EVENT_OF_BUTTON = {ACTION_IDS[action]: EVENT_OF[action] for action in Action}


def home_with(request: AccessRequest, viewer: Person) -> dict[str, Any]:
    """The App Home of ``viewer`` showing ``request`` in every list, buttons as
    :func:`workflows.actions.offered_actions` gives them."""
    page = Page((request,), 1)
    data = HomeData(
        viewer,
        HomeState(),
        GRANTED,
        {"active": 0, "pending": 0, "total": 1, "approvals": 1},
        mine=page,
        sessions=page if request.session is not None else Page((), 0),
        approvals=page,
        history=page,
        managed=page if request.session is not None else Page((), 0),
        accounts=Page((), 0),
        actions={request.id: offered_actions(BUTTONS_CONFIG, request, viewer)},
        portal_url=PORTAL,
    )
    return home_view(data)


def buttons_in(blocks: list[dict[str, Any]]) -> list[str]:
    """The action ids of every request button (those that trigger an event)."""
    found = []
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") in EVENT_OF_BUTTON:
                found.append(element["action_id"])
    return found


def custom_pending(status: Status = Status.PENDING_OWNER) -> AccessRequest:
    custom = CustomPermissionSet("JIT-S3Debug", timedelta(hours=2), ("ReadOnlyAccess",), None)
    return pending(status=status, custom=custom, permission_set_name="JIT-S3Debug")


@pytest.mark.parametrize("status", [Status.PENDING_OWNER, Status.PENDING_ADMIN])
def test_a_pending_custom_request_row_offers_cancel_to_its_requester_only(status: Status):
    request = custom_pending(status)
    assert ids.ACTION_CANCEL in buttons_in(home_with(request, RITA)["blocks"])
    for other in (OSCAR, ADA):
        assert ids.ACTION_CANCEL not in buttons_in(home_with(request, other)["blocks"])


def every_status() -> list[AccessRequest]:
    session = GrantedSession(GRANTED, ENDS)
    return [pending(status=s, session=session if s != Status.PENDING else None) for s in Status] + [
        custom_pending(s) for s in Status
    ]


@pytest.mark.parametrize("viewer", [RITA, OSCAR, ADA])
def test_no_view_offers_a_button_whose_event_the_table_does_not_allow(viewer: Person):
    for request in every_status():
        allowed = allowed_events(request.status)
        views = [home_with(request, viewer)["blocks"], requester_message(request)["blocks"]]
        views += [approval_message(request, role)["blocks"] for role in MessageRole]
        for blocks in views:
            for action_id in buttons_in(blocks):
                assert EVENT_OF_BUTTON[action_id] in allowed, (request.status, action_id)


def test_a_request_needing_two_approvals_shows_who_approved_so_far_escaped() -> None:
    odd = Person("U0ODD", "odd@example.com", "<!here> Odd")
    first = Review(Stage.SINGLE, Decision.APPROVED, odd, DECIDED)
    request = pending(
        approvals_needed=2, reviews=(first,), rule_name="prod-admin", ticket="<INC-1>"
    )
    fields = [f.text for f in request_fields(request)]
    assert (
        "*Status*\n:hourglass_flowing_sand: Pending · 1 of 2 approvals: &lt;!here&gt; Odd" in fields
    )
    assert "*Access rule*\nprod-admin" in fields and "*Ticket*\n&lt;INC-1&gt;" in fields
    told = notice_text(request, Notice(NoticeKind.APPROVAL_COUNTED), for_requester=True)
    assert told == ":ballot_box_with_check: 1 of 2 approvals: &lt;!here&gt; Odd."
    assert "approvals" not in status_text(pending())
