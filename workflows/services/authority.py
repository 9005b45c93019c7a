"""Who may act on a stored request: the checks every click goes through before a
service changes anything (the rules themselves are :mod:`workflows.policy`'s), with the
people of the config bound to Slack user ids as stored now (:mod:`workflows.people`)."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.config import Config
from workflows.domain import AccessRequest, Person
from workflows.errors import NotAuthorized, UnknownRequest
from workflows.people import Roster
from workflows.policy import Rules, check_can_decide, may_end_own, may_revoke, may_view
from workflows.ports import Store


@dataclass(frozen=True)
class Authority:
    """Reads a request from ``store`` and checks ``config``'s rules against it, its
    people as ``store``'s bindings say (read at each check, so a binding an admin
    confirmed on another replica counts here at once)."""

    config: Config
    store: Store

    def rules(self) -> Rules:
        """The config's rules with the bindings in effect now."""
        return Rules(self.config, Roster.of(self.store.bindings()))

    def get(self, request_id: int) -> AccessRequest:
        """The stored request (no authority check; for the bot's own work).

        Raises:
            UnknownRequest: no such request.
        """
        request = self.store.get(request_id)
        if request is None:
            raise UnknownRequest(f"There is no request #{request_id}.")
        return request

    def visible(self, request_id: int, actor: Person) -> AccessRequest:
        """The stored request ``request_id``, if ``actor`` may see it: its requester, an
        owner of its account, an SSO admin or an admin (:func:`~workflows.policy.may_view`).

        An unknown id and someone else's request read the same, so an id forged into a
        button or a form tells an outsider nothing: not whether the request exists, not
        its account. Those who may see it get the precise refusal of each action.

        Raises:
            UnknownRequest: no such request, or ``actor`` may not see it.
        """
        request = self.store.get(request_id)
        if request is None or not may_view(self.rules(), request, actor):
            raise UnknownRequest(f"There is no request #{request_id} that you can see.")
        return request

    def decidable(
        self, request_id: int, actor: Person, actor_principal: str | None = None
    ) -> AccessRequest:
        """:meth:`visible`, and ``actor`` (whose Identity Center user is
        ``actor_principal``, when known) may approve or reject it at its stage
        (:func:`~workflows.policy.check_can_decide`; the status is the decision's to
        check). Raises UnknownRequest, NotAuthorized."""
        request = self.visible(request_id, actor)
        check_can_decide(self.rules(), request, actor, actor_principal)
        return request

    def revocable(self, request_id: int, actor: Person) -> AccessRequest:
        """:meth:`visible`, and ``actor`` may revoke its session
        (:func:`~workflows.policy.may_revoke`; that it is Active is the revocation's to
        check). Raises UnknownRequest, NotAuthorized."""
        request = self.visible(request_id, actor)
        refusal = may_revoke(self.rules(), request, actor)
        if refusal:
            raise NotAuthorized(f"You can't revoke this session: {refusal}.")
        return request

    def own(self, request_id: int, actor: Person, what: str) -> AccessRequest:
        """:meth:`visible`, and ``actor`` is its requester (Cancel and Release are
        theirs; ``what`` is the refusal's object, e.g. ``"cancel this request"``).
        Raises UnknownRequest, NotAuthorized."""
        request = self.visible(request_id, actor)
        refusal = may_end_own(request, actor)
        if refusal:
            raise NotAuthorized(f"You can't {what}: {refusal}.")
        return request
