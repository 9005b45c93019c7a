"""Who a request goes to, who may decide it and who may see it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from textwrap import dedent

import pytest

from workflows.config import parse_config
from workflows.domain import AccessRequest, Decision, Person, Review, Stage
from workflows.errors import NoApprover, NotAuthorized
from workflows.people import Roster
from workflows.policy import (
    ApproverRouting,
    Roles,
    Rules,
    admin_stage_approvers,
    check_can_decide,
    decision_buttons_shown,
    may_decide,
    may_give_final_approval,
    may_view,
    roles_of,
    route_approvers,
)
from workflows.states import PENDING_STATUSES, Status

SANDBOX = "111111111111"
PROD = "222222222222"
ORPHAN = "333333333333"  # no owners

CONFIG = dedent(
    f"""\
    admins: [ada@example.com]
    sso_admins: [sam@example.com]
    accounts:
      - id: "{SANDBOX}"
        name: Sandbox
        owners: [oscar@example.com, Olga@Example.com]
        permission_sets: [ReadOnlyAccess]
      - id: "{PROD}"
        name: Production
        owners: [olga@example.com]
        permission_sets: [ReadOnlyAccess]
      - id: "{ORPHAN}"
        name: Orphan
        permission_sets: [ReadOnlyAccess]
    """
)

RITA = Person("U_RITA", "rita@example.com", "Rita Requester")
OSCAR = Person("U_OSCAR", "oscar@example.com", "Oscar Owner")
OLGA = Person("U_OLGA", "olga@example.com", "Olga Owner")
ADA = Person("U_ADA", "ada@example.com", "Ada Admin")
SAM = Person("U_SAM", "sam@example.com", "Sam SSO")
EVE = Person("U_EVE", "eve@example.com", "Eve Outsider")

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


#: who each configured email is bound to (as start-up found them in Slack)
ROSTER = Roster.direct({p.email: p.slack_id for p in (RITA, OSCAR, OLGA, ADA, SAM, EVE)})


def config(extra: str = "", text: str = CONFIG, roster: Roster = ROSTER) -> Rules:
    """The rules of ``text`` (and ``extra``), its people bound as ``roster`` says."""
    return Rules(parse_config(text + extra), roster)


def request(
    *,
    requester: Person = RITA,
    account_id: str = SANDBOX,
    account_name: str = "Sandbox",
    status: Status = Status.PENDING,
) -> AccessRequest:
    return AccessRequest(
        id=42,
        requester=requester,
        principal_id="idstore-user-rita",
        account_id=account_id,
        account_name=account_name,
        permission_set_name="ReadOnlyAccess",
        permission_set_arn="arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-1",
        duration=timedelta(hours=4),
        justification="Investigating failed deploys in OPS-123",
        status=status,
        requested_at=NOW,
        approval_deadline=NOW + timedelta(hours=24),
    )


# --------------------------------------------------------------------------- route_approvers


def test_request_goes_to_the_account_owners():
    routing = route_approvers(config(), SANDBOX, RITA)
    assert routing == ApproverRouting(("U_OSCAR", "U_OLGA"), fell_back=False)


def test_owners_of_another_account_do_not_get_it():
    routing = route_approvers(config(), PROD, RITA)
    assert routing.slack_ids == ("U_OLGA",)
    assert "U_OSCAR" not in routing.slack_ids


def test_requester_who_owns_the_account_is_not_an_approver():
    routing = route_approvers(config(), SANDBOX, OSCAR)
    assert routing == ApproverRouting(("U_OLGA",), fell_back=False)


def test_requester_is_excluded_by_user_id_whatever_email_they_have_now():
    routing = route_approvers(config(), SANDBOX, replace(OSCAR, email="oscar@elsewhere.org"))
    assert routing.slack_ids == ("U_OLGA",)


def test_an_owner_whose_email_resolves_to_nobody_is_not_an_approver():
    unbound = Roster.direct({"olga@example.com": "U_OLGA", "ada@example.com": "U_ADA"})
    assert route_approvers(config(roster=unbound), SANDBOX, RITA).slack_ids == ("U_OLGA",)
    routing = route_approvers(config(roster=unbound), PROD, OLGA)
    assert routing == ApproverRouting(("U_ADA",), fell_back=True)


def test_people_named_by_slack_user_id_need_no_binding():
    text = CONFIG.replace("admins: [ada@example.com]", "admins: [UADA00001]").replace(
        "owners: [olga@example.com]", "owners: [W0OLGA2]"
    )
    rules = config(text=text, roster=Roster({}))
    assert route_approvers(rules, PROD, RITA).slack_ids == ("W0OLGA2",)
    assert roles_of(rules, "UADA00001").admin is True
    assert may_decide(rules, request(), Person("UADA00001", "anything@example.com", "Ada")) is None


def test_account_without_owners_falls_back_to_admins_and_sso_admins():
    routing = route_approvers(config(), ORPHAN, RITA)
    assert routing == ApproverRouting(("U_ADA", "U_SAM"), fell_back=True)


def test_sole_owner_requesting_falls_back_to_admins():
    routing = route_approvers(config(), PROD, OLGA)
    assert routing.fell_back is True
    assert routing.slack_ids == ("U_ADA", "U_SAM")


def test_admin_requesting_on_an_ownerless_account_goes_to_the_other_admins():
    routing = route_approvers(config(), ORPHAN, ADA)
    assert routing == ApproverRouting(("U_SAM",), fell_back=True)


def test_someone_both_admin_and_sso_admin_is_listed_once():
    text = CONFIG.replace(
        "sso_admins: [sam@example.com]", "sso_admins: [sam@example.com, ada@example.com]"
    )
    routing = route_approvers(config(text=text), ORPHAN, RITA)
    assert routing.slack_ids == ("U_ADA", "U_SAM")


def test_unknown_account_falls_back_to_admins():
    routing = route_approvers(config(), "999999999999", RITA)
    assert routing.fell_back is True
    assert set(routing.slack_ids) == {"U_ADA", "U_SAM"}


def test_nobody_to_approve_raises_no_approver():
    lonely = parse_config(f'accounts:\n  - id: "{ORPHAN}"\n    permission_sets: [ReadOnlyAccess]\n')
    with pytest.raises(NoApprover, match="Nobody can approve requests for this account"):
        route_approvers(Rules(lonely, ROSTER), ORPHAN, RITA)


def test_only_admin_requesting_on_ownerless_account_leaves_nobody():
    text = dedent(
        f"""\
        admins: [ada@example.com]
        accounts:
          - id: "{ORPHAN}"
        """
    )
    with pytest.raises(NoApprover, match="add an owner"):
        route_approvers(Rules(parse_config(text), ROSTER), ORPHAN, ADA)


def test_allow_self_approval_keeps_the_requester_among_owners():
    cfg = config("allow_self_approval: true\n")
    routing = route_approvers(cfg, SANDBOX, OSCAR)
    assert routing == ApproverRouting(("U_OSCAR", "U_OLGA"), fell_back=False)


def test_allow_self_approval_keeps_a_sole_owner_requester_without_fallback():
    cfg = config("allow_self_approval: true\n")
    routing = route_approvers(cfg, PROD, OLGA)
    assert routing == ApproverRouting(("U_OLGA",), fell_back=False)


# --------------------------------------------------------------------------- may_decide


def test_owner_of_the_account_may_decide():
    assert may_decide(config(), request(), OSCAR) is None
    check_can_decide(config(), request(), OSCAR)


def test_owner_listed_with_capitals_in_config_may_decide():
    """``Olga@Example.com`` in the config is bound like ``olga@example.com``."""
    assert may_decide(config(), request(), OLGA) is None


def test_an_owner_is_known_by_user_id_not_by_the_email_slack_shows_now():
    renamed = Person("U_OSCAR", "oscar.new@example.com", "Oscar Owner")
    assert may_decide(config(), request(), renamed) is None


def test_someone_whose_email_becomes_an_owners_is_not_an_owner():
    impostor = Person("U_EVE", "oscar@example.com", "Eve Outsider")
    assert "not an owner" in (may_decide(config(), request(), impostor) or "")
    assert may_view(config(), request(), impostor) is False


def test_a_requester_whose_email_becomes_an_owners_cannot_approve_their_own_request():
    now_owner = Person("U_RITA", "oscar@example.com", "Rita Requester")
    assert may_decide(config(), request(), now_owner) == "you can't approve your own request"
    # even once an admin confirmed that oscar@example.com is now Rita
    rebound = Roster.direct({**ROSTER.bound, "oscar@example.com": "U_RITA"})
    reason = may_decide(config(roster=rebound), request(), now_owner)
    assert reason == "you can't approve your own request"


def test_an_approver_whose_identity_center_user_is_the_requesters_is_refused():
    """Another Slack account (Oscar's, say) whose email matches the requester's
    Identity Center user is the requester."""
    same_principal = request().principal_id
    reason = may_decide(config(), request(), OSCAR, actor_principal=same_principal)
    assert reason == "you can't approve your own request"
    assert may_decide(config(), request(), OSCAR, actor_principal="idstore-user-oscar") is None


def test_owner_of_another_account_may_not_decide():
    prod_only = request(account_id=PROD, account_name="Production")
    reason = may_decide(config(), prod_only, OSCAR)
    assert reason is not None
    with pytest.raises(NotAuthorized) as caught:
        check_can_decide(config(), prod_only, OSCAR)
    assert str(caught.value) == (
        "You can't approve this request: you are not an owner of "
        "Production (222222222222), an SSO admin or an admin."
    )


def test_outsider_may_not_decide():
    with pytest.raises(NotAuthorized, match="you are not an owner of Sandbox \\(111111111111\\)"):
        check_can_decide(config(), request(), EVE)


@pytest.mark.parametrize("actor", [SAM, ADA], ids=["sso_admin", "admin"])
def test_admins_may_decide_on_any_account(actor):
    for account_id, name in ((SANDBOX, "Sandbox"), (PROD, "Production"), (ORPHAN, "Orphan")):
        assert (
            may_decide(config(), request(account_id=account_id, account_name=name), actor) is None
        )


def test_admin_may_decide_whatever_email_slack_shows_now():
    assert may_decide(config(), request(), Person("U_ADA", "ada@new.example", "Ada")) is None


@pytest.mark.parametrize(
    "requester", [OSCAR, ADA, SAM, RITA], ids=["owner", "admin", "sso_admin", "plain"]
)
def test_requester_may_never_decide_their_own_request(requester):
    own = request(requester=requester)
    assert may_decide(config(), own, requester) == "you can't approve your own request"
    with pytest.raises(
        NotAuthorized, match="^You can't approve this request: you can't approve your own request.$"
    ):
        check_can_decide(config(), own, requester)


def test_requester_is_recognised_by_user_id_whatever_email_they_have_now():
    own = request(requester=OSCAR)
    renamed = Person("U_OSCAR", "oscar@elsewhere.org", "Oscar Owner")
    assert may_decide(config(), own, renamed) == "you can't approve your own request"


def test_allow_self_approval_lets_an_owner_approve_their_own_request():
    cfg = config("allow_self_approval: true\n")
    assert may_decide(cfg, request(requester=OSCAR), OSCAR) is None


def test_allow_self_approval_does_not_make_an_outsider_an_approver():
    cfg = config("allow_self_approval: true\n")
    reason = may_decide(cfg, request(requester=EVE), EVE)
    assert reason is not None and "not an owner" in reason


def test_authority_is_checked_before_status():
    """An outsider is told they lack authority, whatever state the request is in."""
    for status in (Status.APPROVED, Status.REJECTED, Status.TIMED_OUT):
        with pytest.raises(NotAuthorized, match="not an owner"):
            check_can_decide(config(), request(status=status), EVE)


def test_authority_follows_the_config_not_the_stored_approvers():
    stored = replace(request(), approvers=("U_EVE",))
    assert may_decide(config(), stored, EVE) is not None


# --------------------------------------------------------------------------- may_view


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (RITA, True),
        (OSCAR, True),
        (OLGA, True),
        (ADA, True),
        (SAM, True),
        (EVE, False),
    ],
    ids=["requester", "owner", "other owner", "admin", "sso_admin", "outsider"],
)
def test_who_may_view_a_sandbox_request(actor, allowed):
    assert may_view(config(), request(), actor) is allowed


def test_owner_of_another_account_may_not_view():
    prod = request(account_id=PROD, account_name="Production")
    assert may_view(config(), prod, OSCAR) is False
    assert may_view(config(), prod, OLGA) is True


def test_a_viewer_is_known_by_user_id_not_by_email():
    assert may_view(config(), request(), Person("U_OSCAR", "o@new.example", "Oscar")) is True
    assert may_view(config(), request(), Person("U_X", "oscar@example.com", "Oscar")) is False


def test_requester_may_view_in_every_status():
    for status in Status:
        assert may_view(config(), request(status=status), RITA) is True


# --------------------------------------------------------------------------- buttons


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
def test_decision_buttons_shown_only_while_pending(status):
    assert decision_buttons_shown(request(status=status)) is (status in PENDING_STATUSES)


# --------------------------------------------------------------------------- roles


def test_roles_of_reads_the_config_one_way_for_every_rule():
    c = config()
    assert roles_of(c, ADA) == Roles(admin=True, sso_admin=False, owner=False)
    assert roles_of(c, SAM) == Roles(admin=False, sso_admin=True, owner=False)
    assert roles_of(c, OSCAR, SANDBOX) == Roles(admin=False, sso_admin=False, owner=True)
    assert roles_of(c, OSCAR, PROD).owner is False
    assert roles_of(c, "U_OSCAR").owner is True  # of any account
    assert roles_of(c, "oscar@example.com").owner is False  # an email is nobody's id
    assert roles_of(c, EVE) == Roles(admin=False, sso_admin=False, owner=False)


def test_an_admin_or_sso_admin_oversees_every_account():
    c = config()
    assert roles_of(c, ADA).oversees_all and roles_of(c, SAM).oversees_all
    assert not roles_of(c, OLGA, SANDBOX).oversees_all


# --------------------------------------------------------------------------- the admin stage


def test_the_final_approval_is_for_an_sso_admin_or_admin_who_did_not_approve_the_owner_stage():
    c = config()
    assert may_give_final_approval(c, SAM, OSCAR) is None
    assert may_give_final_approval(c, ADA, OSCAR) is None
    assert may_give_final_approval(c, OLGA, OSCAR) == (
        "the final approval is for an SSO admin or an admin"
    )
    assert may_give_final_approval(c, ADA, ADA) == (
        "you approved the owner stage; another person must give the final approval"
    )


def test_the_admin_stage_goes_to_the_sso_admins_then_the_admins_but_not_the_owner_approver():
    c = config()
    pending = request(status=Status.PENDING_OWNER)
    assert admin_stage_approvers(c, pending, OSCAR) == ["U_SAM", "U_ADA"]
    assert admin_stage_approvers(c, pending, SAM) == ["U_ADA"]


def test_the_admin_stage_skips_a_requester_who_is_an_admin():
    c = config()
    own = request(requester=ADA, status=Status.PENDING_OWNER)
    assert admin_stage_approvers(c, own, OSCAR) == ["U_SAM"]
    assert admin_stage_approvers(config("allow_self_approval: true\n"), own, OSCAR) == [
        "U_SAM",
        "U_ADA",
    ]


def test_one_person_with_two_emails_cannot_give_both_approvals():
    """Olga approved the owner stage as olga@example.com; her Slack email is now Sam's
    and an admin confirmed that sam@example.com is her: still the same user id."""
    rebound = Roster.direct({**ROSTER.bound, "sam@example.com": "U_OLGA"})
    owner_approved = replace(
        request(status=Status.PENDING_ADMIN),
        reviews=(Review(Stage.OWNER, Decision.APPROVED, OLGA, NOW),),
    )
    as_sam = Person("U_OLGA", "sam@example.com", "Olga Owner")
    assert may_decide(config(roster=rebound), owner_approved, as_sam) == (
        "you approved the owner stage; another person must give the final approval"
    )
    assert "U_OLGA" not in admin_stage_approvers(config(roster=rebound), owner_approved, OLGA)
