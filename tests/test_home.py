"""App Home: what each role sees, paging, the history filter, the accounts search and
Block Kit limits on homes with thousands of rows (on a real store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot import ids
from bot.render.app_home import home_view, progress_bar
from sim.fake_slack import blocks_to_text, view_problems
from storage.models import RequestRow, SessionRow
from storage.store import SqlStore
from workflows.app_home import PAGE_SIZE, HomeState, build_home
from workflows.catalog import Catalog, CatalogAccount
from workflows.config import parse_config
from workflows.domain import AccessRequest, GrantedSession, NewRequest, Person
from workflows.states import Status

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SANDBOX, PROD = "111111111111", "222222222222"
PS = "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
ALICE = Person("U01ALICE", "alice@example.com", "Alice Archer")
OSCAR = Person("U02OSCAR", "oscar@example.com", "Oscar Owner")
OLGA = Person("U03OLGA", "olga@example.com", "Olga Owner")
SAM = Person("U04SAM", "sam@example.com", "Sam SsoAdmin")
ADA = Person("U05ADA", "ada@example.com", "Ada Admin")
CONFIG = parse_config(f"""
admins: [ada@example.com]
sso_admins: [sam@example.com]
accounts:
  - {{id: "{SANDBOX}", name: Sandbox, owners: [oscar@example.com], permission_sets: [ReadOnly]}}
  - {{id: "{PROD}", name: Production, owners: [olga@example.com], permission_sets: [ReadOnly]}}
""")
CATALOG = Catalog(
    (
        CatalogAccount(SANDBOX, "Sandbox", {"ReadOnly": PS}),
        CatalogAccount(PROD, "Production", {"ReadOnly": PS}),
    )
)
PORTAL = "https://d-0123456789.awsapps.com/start"


def add(
    store: SqlStore,
    who: Person,
    account: str,
    status: Status,
    *,
    at: datetime = NOW - timedelta(hours=1),
    hours: int = 4,
) -> AccessRequest:
    """A request driven through the real transitions to ``status``."""
    request = store.add_request(
        NewRequest(
            who,
            "principal-" + who.slack_id,
            account,
            "Sandbox" if account == SANDBOX else "Production",
            "ReadOnly",
            PS,
            timedelta(hours=hours),
            "Looking into OPS-1",
            at,
            at + timedelta(hours=24),
            ("oscar@example.com",),
        )
    )
    path = {
        Status.PENDING: [],
        Status.REJECTED: [Status.REJECTED],
        Status.CANCELLED: [Status.CANCELLED],
        Status.ACTIVE: [Status.APPROVED, Status.ACTIVE],
        Status.EXPIRED: [Status.APPROVED, Status.ACTIVE, Status.EXPIRED],
    }[status]
    current = Status.PENDING
    for step in path:
        session = None
        if step == Status.ACTIVE:
            session = GrantedSession(at, at + timedelta(hours=hours))
        assert store.transition(
            request.id, current, step, now=at, actor="t", action=step.value, session=session
        )
        current = step
    return store.get(request.id)


def home(store: SqlStore, viewer: Person, state: HomeState | None = None) -> dict:
    data = build_home(store, CONFIG, CATALOG, viewer, state or HomeState(), NOW, portal_url=PORTAL)
    view = home_view(data)
    assert view_problems(view) == []
    return view


def text_of(view: dict) -> str:
    return blocks_to_text(view["blocks"])


def buttons(view: dict) -> list[tuple[str, str, str | None]]:
    found = []
    for block in view["blocks"]:
        elements = (
            block.get("elements", [])
            if block["type"] == "actions"
            else [block.get("accessory") or {}]
        )
        for e in elements:
            if e.get("type") == "button":
                found.append((e["text"]["text"], e["action_id"], e.get("value")))
    return found


def test_a_requester_sees_stat_cards_their_requests_and_sessions_but_no_approver_tools(
    store: SqlStore,
):
    add(store, ALICE, SANDBOX, Status.PENDING, at=NOW - timedelta(minutes=5))
    active = add(store, ALICE, SANDBOX, Status.ACTIVE, at=NOW - timedelta(hours=2))
    add(store, ALICE, PROD, Status.REJECTED, at=NOW - timedelta(hours=3))
    view = home(store, ALICE)
    text = text_of(view)
    assert "*Active Sessions*\n1" in text and "*Pending Requests*\n1" in text
    assert "*Total Requests*\n3" in text
    assert "Pending Approvals" not in text and "Manage Sessions" not in text
    assert "Owned Accounts" not in text
    labels = [b[0] for b in buttons(view)]
    assert labels.count("Cancel request") == 1  # only on the pending one
    assert ("Release now", ids.ACTION_RELEASE, str(active.id)) in buttons(view)
    assert "`▓▓▓▓▓░░░░░` 2h left" in text
    assert any(b[0] == "Open in AWS" for b in buttons(view))
    assert text.index("Pending") < text.index("Rejected"), "newest first"


def test_an_owner_sees_their_queue_history_sessions_and_accounts_only(store: SqlStore):
    add(store, ALICE, SANDBOX, Status.PENDING)
    add(store, ALICE, PROD, Status.PENDING)
    add(store, OSCAR, SANDBOX, Status.PENDING)  # his own: not his to approve
    session = add(store, ALICE, SANDBOX, Status.ACTIVE)
    add(store, ALICE, PROD, Status.ACTIVE)
    view = home(store, OSCAR)
    text = text_of(view)
    assert "Pending Approvals (1)" in text
    approves = [b for b in buttons(view) if b[1] == ids.ACTION_APPROVE]
    assert len(approves) == 1
    assert ("Revoke", ids.ACTION_REVOKE, str(session.id)) in buttons(view)
    assert "Production" not in text.split("Request History")[1].split("Owned Accounts")[0]
    accounts = text.split("Owned Accounts")[1]
    assert "*Sandbox* `111111111111`" in accounts and "Production" not in accounts
    assert "Pending 2 · Active 1" in accounts


def test_an_sso_admin_sees_every_account_but_revokes_none_they_do_not_own(store: SqlStore):
    add(store, ALICE, SANDBOX, Status.ACTIVE)
    add(store, ALICE, PROD, Status.PENDING)
    view = home(store, SAM)
    text = text_of(view)
    assert "Pending Approvals (1)" in text
    assert "*Sandbox*" in text and "*Production*" in text
    assert not [b for b in buttons(view) if b[1] == ids.ACTION_REVOKE]


def test_an_admin_may_revoke_any_session(store: SqlStore):
    a = add(store, ALICE, SANDBOX, Status.ACTIVE)
    b = add(store, ALICE, PROD, Status.ACTIVE)
    revokes = {b_[2] for b_ in buttons(home(store, ADA)) if b_[1] == ids.ACTION_REVOKE}
    assert revokes == {str(a.id), str(b.id)}


def test_lists_page_with_newer_and_older_buttons(store: SqlStore):
    for i in range(12):
        add(store, ALICE, SANDBOX, Status.REJECTED, at=NOW - timedelta(minutes=i))
    first = home(store, ALICE)
    assert "1–5 of 12" in text_of(first)
    assert ("Older ›", ids.ACTION_HOME_OLDER, "mine:5") in buttons(first)
    assert not [b for b in buttons(first) if b[1] == ids.ACTION_HOME_NEWER]
    state = HomeState.from_json(first["private_metadata"]).paged("mine", 10)
    last = home(store, ALICE, state)
    assert "11–12 of 12" in text_of(last)
    assert ("‹ Newer", ids.ACTION_HOME_NEWER, "mine:5") in buttons(last)
    assert not [b for b in buttons(last) if b[1] == ids.ACTION_HOME_OLDER]


def test_history_filter_shows_only_that_status(store: SqlStore):
    add(store, ALICE, SANDBOX, Status.REJECTED)
    add(store, ALICE, SANDBOX, Status.EXPIRED)
    add(store, ALICE, SANDBOX, Status.PENDING)
    view = home(store, OSCAR, HomeState().filtered("rejected"))
    history = text_of(view).split("Request History")[1].split("Manage Sessions")[0]
    assert "Rejected" in history and "Expired" not in history and "Pending ·" not in history
    select = next(b for b in view["blocks"] if b.get("block_id") == "history-filter")
    assert select["elements"][0]["initial_option"]["value"] == "rejected"


@pytest.mark.parametrize(
    "query, shown",
    [
        ("prod", ["Production"]),
        (SANDBOX, ["Sandbox"]),
        ("olga", ["Production"]),
        ("nothing-like-it", []),
    ],
)
def test_owned_accounts_search_by_name_id_or_owner(store: SqlStore, query, shown):
    view = home(store, ADA, HomeState().searched(query))
    accounts = text_of(view).split("Owned Accounts")[1]
    assert [n for n in ("Sandbox", "Production") if f"*{n}*" in accounts] == shown


def test_a_home_with_ten_thousand_requests_and_six_hundred_accounts_stays_within_limits(
    store: SqlStore,
):
    accounts = "\n".join(
        f'  - {{id: "{i:012d}", name: Acct{i}, owners: [ada@example.com], '
        f"permission_sets: [ReadOnly]}}"
        for i in range(1, 601)
    )
    config = parse_config("admins: [ada@example.com]\naccounts:\n" + accounts)
    rows = [
        dict(
            requester_slack_id=ADA.slack_id,
            requester_email=ADA.email,
            requester_name=ADA.name,
            principal_id="p",
            account_id=f"{1 + i % 600:012d}",
            account_name=f"Acct{1 + i % 600}",
            permission_set_name="ReadOnly",
            permission_set_arn=PS,
            duration_seconds=3600,
            justification="x" * 200,
            status=(Status.ACTIVE if i % 3 else Status.PENDING).value,
            requested_at=NOW - timedelta(minutes=i),
            approval_deadline=NOW + timedelta(hours=1),
            approvers=[],
        )
        for i in range(10_000)
    ]
    with store._session() as s, s.begin():
        s.execute(insert(RequestRow), rows)
        ids_ = s.scalars(
            RequestRow.__table__.select()
            .with_only_columns(RequestRow.id)
            .where(RequestRow.status == Status.ACTIVE.value)
        ).all()
        s.execute(
            insert(SessionRow),
            [
                dict(
                    request_id=i,
                    granted_at=NOW - timedelta(hours=1),
                    expires_at=NOW + timedelta(hours=1),
                )
                for i in ids_
            ],
        )
    data = build_home(store, config, Catalog(()), ADA, HomeState(), NOW)
    view = home_view(data)
    assert view_problems(view) == []
    assert len(view["blocks"]) <= 100
    assert "*Total Requests*\n10000" in text_of(view)
    assert "1–5 of 600" in text_of(view)


def test_home_state_from_forged_metadata_falls_back_safely():
    assert HomeState.from_json("not json") == HomeState()
    state = HomeState.from_json('{"offsets": {"mine": -5, "evil": 3, "history": "x"}}')
    assert state == HomeState()
    state = HomeState.from_json('{"offsets": {"mine": 10}, "history_filter": "drop table"}')
    assert state.offset("mine") == 10 and state.history_filter == ""


def test_progress_bar_shows_the_share_left():
    request = AccessRequest(
        1,
        ALICE,
        "p",
        SANDBOX,
        "Sandbox",
        "ReadOnly",
        PS,
        timedelta(hours=4),
        "x" * 10,
        Status.ACTIVE,
        NOW,
        NOW,
        session=GrantedSession(NOW - timedelta(hours=1), NOW + timedelta(hours=1)),
    )
    assert progress_bar(request, NOW) == "`▓▓▓▓▓░░░░░` 1h left"
    assert progress_bar(request, NOW + timedelta(hours=2)).startswith("`░░░░░░░░░░` 0s")
    assert PAGE_SIZE == 5


def test_owned_accounts_show_the_access_rules_that_may_govern_each(store: SqlStore):
    config = parse_config(
        f"""
admins: [ada@example.com]
durations: [1h, 4h]
accounts:
  - {{id: "{SANDBOX}", name: Sandbox, owners: [oscar@example.com], permission_sets: [ReadOnly]}}
  - {{id: "{PROD}", name: Production, owners: [olga@example.com], permission_sets: [ReadOnly]}}
access_rules:
  - {{name: prod-read, accounts: ["{PROD}"], permission_sets: [ReadOnly], approvers: ["group:<Leads>"],
     approvals: 2, max_duration: 4h, ticket: {{pattern: "INC-[0-9]+"}}}}
  - {{name: all-read, accounts: ["*"], permission_sets: ["*"], auto_approve: true}}
"""
    )
    data = build_home(store, config, CATALOG, ADA, HomeState(), NOW, portal_url=PORTAL)
    view = home_view(data)
    assert view_problems(view) == []
    accounts = text_of(view).split("Owned Accounts")[1]
    sandbox, production = accounts.split("Production")
    assert "Rule all-read: every standard set · approved automatically" in sandbox
    assert "prod-read" not in sandbox
    assert (
        "Rule prod-read: ReadOnly · 2 approvals from group:<Leads> · at most 4 hours · ticket"
        in production
    )
    assert "group:&lt;Leads&gt;" in str(view["blocks"])  # escaped in the mrkdwn sent
