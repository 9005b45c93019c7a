"""What a person's App Home shows: the dashboard and each list, one page at a time.

Pure queries through the store, with who-sees-what from :mod:`workflows.policy`; the
Slack rendering is :mod:`bot.render.app_home`. Paging and filters come from
:class:`HomeState`, which the view carries in its ``private_metadata``: it only chooses
what to show among what the viewer may see, so it is not trusted for anything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from workflows.access_rules import rule_summary, rules_on
from workflows.actions import Action, offered_actions
from workflows.catalog import Catalog
from workflows.config import AccountConfig, Config
from workflows.domain import AccessRequest, Person
from workflows.people import Roster
from workflows.policy import Rules, approver_scope, is_approver
from workflows.ports import HomeQueries, Page
from workflows.states import Status

PAGE_SIZE = 5
LISTS = ("mine", "sessions", "approvals", "history", "managed", "accounts")
HISTORY_FILTERS: dict[str, tuple[Status, ...]] = {
    "pending": (Status.PENDING, Status.PENDING_OWNER, Status.PENDING_ADMIN),
    "approved": (Status.APPROVED,),
    "active": (Status.ACTIVE,),
    "expired": (Status.EXPIRED, Status.TIMED_OUT),
    "revoked": (Status.REVOKED,),
    "rejected": (Status.REJECTED,),
    "cancelled": (Status.CANCELLED,),
    "failed": (Status.FAILED,),
}


@dataclass(frozen=True)
class HomeState:
    """Offsets of each list, the history status filter and the accounts search."""

    offsets: dict[str, int] = field(default_factory=dict)
    history_filter: str = ""
    account_search: str = ""

    def offset(self, name: str) -> int:
        return self.offsets.get(name, 0)

    def paged(self, name: str, offset: int) -> HomeState:
        return replace(self, offsets={**self.offsets, name: max(0, offset)})

    def filtered(self, history_filter: str) -> HomeState:
        value = history_filter if history_filter in HISTORY_FILTERS else ""
        return replace(self, history_filter=value, offsets={**self.offsets, "history": 0})

    def searched(self, text: str) -> HomeState:
        return replace(
            self, account_search=text.strip()[:100], offsets={**self.offsets, "accounts": 0}
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> HomeState:
        """Parse the view's metadata; anything malformed gives the default state."""
        try:
            data = json.loads(text or "{}")
            offsets = {
                k: max(0, min(int(v), 10**7))
                for k, v in dict(data.get("offsets", {})).items()
                if k in LISTS
            }
            state = cls(offsets=offsets)
            return (
                state.filtered(str(data.get("history_filter", "")))
                .paged("history", offsets.get("history", 0))
                .searched(str(data.get("account_search", "")))
                .paged("accounts", offsets.get("accounts", 0))
            )
        except (ValueError, TypeError, AttributeError):
            return cls()


@dataclass(frozen=True)
class AccountRow:
    """One line of Owned Accounts."""

    id: str
    name: str
    owners: tuple[str, ...]  # display names (or emails)
    pending: int
    active: int
    rules: tuple[str, ...] = ()  # the access rules that may govern it, one line each


AccountsPage = Page[AccountRow]


@dataclass(frozen=True)
class HomeData:
    """Everything one App Home shows. Approver lists are None for a plain requester.

    ``actions`` maps the id of each request shown to the actions the viewer may take on
    it now (:func:`workflows.actions.offered_actions`); each list shows its own kinds."""

    viewer: Person
    state: HomeState
    now: datetime
    stats: dict[str, int]
    mine: Page[AccessRequest]
    sessions: Page[AccessRequest]
    approvals: Page[AccessRequest] | None = None
    history: Page[AccessRequest] | None = None
    managed: Page[AccessRequest] | None = None
    accounts: AccountsPage | None = None
    actions: Mapping[int, tuple[Action, ...]] = field(default_factory=dict)
    portal_url: str | None = None


def build_home(
    store: HomeQueries,
    config: Config,
    catalog: Catalog,
    viewer: Person,
    state: HomeState,
    now: datetime,
    *,
    name_of: Callable[[str], str] = lambda email: email,
    portal_url: str | None = None,
    decides: Callable[[AccessRequest], bool] | None = None,
) -> HomeData:
    """Query what ``viewer`` sees on their home (one page of each list); who they are
    in ``config`` is their Slack user id, read through the stored bindings.

    ``decides`` (under access rules: :meth:`~workflows.services.authority.Authority.decider`
    for ``viewer``) makes Pending Approvals exactly the requests it answers True for,
    among those their roles oversee or sent to them at submit (rule approvers too)."""
    s = store
    rules = Rules(config, Roster.of(store.bindings()))
    stats = s.requester_stats(viewer.slack_id)
    mine = s.my_requests(viewer.slack_id, limit=PAGE_SIZE, offset=state.offset("mine"))
    sessions = s.active_sessions(
        requester_slack_id=viewer.slack_id, limit=PAGE_SIZE, offset=state.offset("sessions")
    )
    approvals = _approvals(s, rules, viewer, state, decides)
    if approvals is None:
        actions = _actions(rules, viewer, mine.items, sessions.items)
        return HomeData(
            viewer, state, now, stats, mine, sessions, actions=actions, portal_url=portal_url
        )
    scope = approver_scope(rules, viewer)
    stats = {**stats, "approvals": approvals.total}
    history = s.history(
        account_ids=scope,
        statuses=HISTORY_FILTERS.get(state.history_filter),
        limit=PAGE_SIZE,
        offset=state.offset("history"),
    )
    managed = s.active_sessions(account_ids=scope, limit=PAGE_SIZE, offset=state.offset("managed"))
    actions = _actions(rules, viewer, mine.items, sessions.items, approvals.items, managed.items)
    if decides is not None:  # Approve/Reject as the click's authority answers
        decision = (Action.APPROVE, Action.REJECT)
        for r in approvals.items:
            others = tuple(a for a in actions.get(r.id, ()) if a not in decision)
            actions[r.id] = (*decision, *others)
    return HomeData(
        viewer,
        state,
        now,
        stats,
        mine,
        sessions,
        approvals,
        history,
        managed,
        _owned_accounts(s, rules, catalog, viewer, state, name_of),
        actions,
        portal_url,
    )


def _approvals(
    store: HomeQueries,
    rules: Rules,
    viewer: Person,
    state: HomeState,
    decides: Callable[[AccessRequest], bool] | None,
) -> Page[AccessRequest] | None:
    """One page of Pending Approvals, None when the viewer approves nothing. Without
    ``decides``, the queue of the viewer's roles (a page in SQL); with it, every
    request those roles oversee or that was sent to the viewer, kept where
    ``decides`` says yes, then paged (the pending queue is small; the checks read the
    cached lookups)."""
    scope = approver_scope(rules, viewer)
    owned = rules.owned_account_ids(viewer.slack_id)
    if decides is None:
        if not is_approver(rules, viewer):
            return None
        exclude = None if rules.allow_self_approval else viewer.slack_id
        return store.pending_for_approver(
            owned_account_ids=owned,
            all_accounts=scope is None,
            exclude_requester=exclude,
            limit=PAGE_SIZE,
            offset=state.offset("approvals"),
        )
    candidates = store.pending_for_approver(
        owned_account_ids=owned,
        all_accounts=scope is None,
        exclude_requester=None,
        limit=None,
        routed_to=viewer.slack_id,
    )
    kept = [r for r in candidates.items if decides(r)]
    if not kept and not is_approver(rules, viewer):
        return None
    offset = min(state.offset("approvals"), max(0, len(kept) - 1))
    return Page(tuple(kept[offset : offset + PAGE_SIZE]), len(kept), offset)


def _actions(
    rules: Rules, viewer: Person, *lists: Iterable[AccessRequest]
) -> dict[int, tuple[Action, ...]]:
    return {r.id: offered_actions(rules, r, viewer) for rows in lists for r in rows}


def _owned_accounts(
    store: HomeQueries,
    rules: Rules,
    catalog: Catalog,
    viewer: Person,
    state: HomeState,
    name_of: Callable[[str], str],
) -> AccountsPage:
    """The accounts the viewer owns (every account for SSO admins and admins), filtered
    by the search text (account name, id, owner entry or owner name)."""
    scope = approver_scope(rules, viewer)
    accounts = [a for a in rules.config.accounts if scope is None or a.id in scope]
    query = state.account_search.lower()

    def name(account_id: str, configured: str | None) -> str:
        found = catalog.account(account_id)
        return found.name if found else configured or account_id

    def matches(account: AccountConfig) -> bool:
        a = account
        if not query:
            return True
        haystack = [name(a.id, a.name).lower(), a.id, *a.owners]
        return any(query in text for text in haystack) or any(
            query in name_of(email).lower() for email in a.owners
        )

    found = [a for a in accounts if matches(a)]
    offset = min(state.offset("accounts"), max(0, len(found) - 1))
    page = found[offset : offset + PAGE_SIZE]
    counts = store.account_counts([a.id for a in page])
    every = rules.config.rules()
    rows = tuple(
        AccountRow(
            a.id,
            name(a.id, a.name),
            tuple(name_of(e) for e in a.owners),
            *counts.get(a.id, (0, 0)),
            rules=tuple(rule_summary(r) for r in rules_on(every, a.id)),
        )
        for a in page
    )
    return AccountsPage(rows, len(found), offset)
