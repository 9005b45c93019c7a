"""Publishing App Home views: on demand, and in the background whenever a request that a
person sees changes (coalesced per person, latest state wins); only for people the gate
lets in (:meth:`bot.gate.Gate.refused`): anyone else gets a home that only says why."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from slack_sdk import WebClient

from bot.directory import SlackDirectory
from bot.gate import Gate
from bot.gate_tell import TELLABLE, Reason, Teller
from bot.render.app_home import home_view
from workflows.app_home import HomeState, build_home
from workflows.catalog import Catalog
from workflows.config import Config
from workflows.domain import AccessRequest, Person
from workflows.people import Roster
from workflows.policy import Rules
from workflows.ports import HomeQueries

log = logging.getLogger("jitbot.home")


class HomePublisher:
    """Builds and publishes homes (``views.publish``). Remembers each person's paging
    state so a background refresh keeps what they were looking at."""

    def __init__(
        self,
        client: WebClient,
        store: HomeQueries,
        config: Config,
        catalog: Catalog,
        directory: SlackDirectory,
        gate: Gate,
        clock: Callable[[], datetime],
        portal_url: str | None = None,
        workers: int = 2,
        decider_of: Callable[[Person], Callable[[AccessRequest], bool]] | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._config = config
        self._catalog = catalog
        self._directory = directory
        self._gate = gate
        self._clock = clock
        self._portal_url = portal_url
        # under access rules: who may decide what, as the click's authority answers
        self._decider_of = decider_of
        self._states: dict[str, HomeState] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        # one publish at a time per person, so an older view never lands after a newer one
        self._user_locks: dict[str, threading.Lock] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="home")

    def state_of(self, user_id: str) -> HomeState:
        with self._lock:
            return self._states.get(user_id, HomeState())

    def publish(self, user_id: str, state: HomeState | None = None) -> None:
        """Build and publish ``user_id``'s home now (``state`` defaults to their last).
        Someone the gate refuses gets a home that only says why (nothing at all while
        Slack can't say who they are, or when they can't be written to) and is forgotten,
        so no background refresh publishes for them."""
        reason = self._gate.refused(user_id)
        if reason is not None:
            self._refuse(user_id, reason)
            return
        with self._lock:
            if state is not None:
                self._states[user_id] = state
            state = self._states.setdefault(user_id, HomeState())
        viewer = self._directory.person(user_id)
        data = build_home(
            self._store,
            self._config,
            self._catalog,
            viewer,
            state,
            self._clock(),
            name_of=self._directory.name_for,
            portal_url=self._portal_url,
            decides=self._decider_of(viewer) if self._decider_of else None,
        )
        self._client.views_publish(user_id=user_id, view=home_view(data))

    def _refuse(self, user_id: str, reason: Reason) -> None:
        log.info("no home for %s (%s)", user_id, reason.value)
        if reason == Reason.UNCHECKED:
            return
        with self._lock:
            self._states.pop(user_id, None)
        if reason in TELLABLE:
            self._client.views_publish(user_id=user_id, view=Teller.home(self._gate.text(reason)))

    def request_changed(self, request: AccessRequest) -> None:
        """Re-publish, in the background, the homes that show ``request``: the requester's
        and those of its approvers, SSO admins and admins (their Slack user ids as bound
        now) who have opened their home."""
        rules = Rules(self._config, Roster.of(self._store.bindings()))
        overseers = {*rules.owners_of(request.account_id), *rules.admins(), *rules.sso_admins()}
        overseers |= set(request.approvers)  # an access rule's approvers, as sent
        with self._lock:
            known = set(self._states)
        audience = ({request.requester.slack_id} | overseers) & known
        for user_id in audience:
            self.publish_soon(user_id)

    def publish_soon(self, user_id: str) -> None:
        with self._lock:
            if user_id in self._pending:
                return
            self._pending.add(user_id)
        self._pool.submit(self._publish_pending, user_id)

    def _publish_pending(self, user_id: str) -> None:
        with self._lock:
            self._pending.discard(user_id)
        try:
            self.publish(user_id)
        except Exception:  # a stale home is not worth failing anything for
            log.exception("publishing the home of %s failed", user_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
