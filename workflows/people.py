"""People as stable ids: which Slack user each person named in the config is.

The config names people (``admins``, ``sso_admins``, ``accounts[].owners``) by email or
by Slack user id (``U…``, or ``W…`` on Enterprise Grid). Emails change (an admin edits a
profile, a SAML push renames someone), user ids don't (design §3), so every authority
rule compares user ids: an email entry is *bound* to the user id it resolved to
(Slack ``users.lookupByEmail``), and the binding is stored (:class:`Binding`). When the
email later resolves to someone else, or the bound person's email changes, the binding
does not follow silently: the admins are alerted, and ``identity.rebind`` says whether
the new id takes effect at once (``follow``) or once an admin confirms (``alert``).

:class:`Roster` is the bindings as the rules read them: entry -> bound user id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

#: A Slack user id: ``U`` (a workspace's) or ``W`` (an Enterprise Grid org's), then
#: upper-case letters and digits (https://api.slack.com/changelog/2016-08-11-user-id-format-changes).
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def is_slack_id(entry: str) -> bool:
    """Whether a config entry names a person by Slack user id rather than email."""
    return bool(SLACK_USER_ID.fullmatch(entry))


@dataclass(frozen=True)
class Binding:
    """What one config entry (a lower-cased email, or a Slack user id) is bound to.

    ``slack_id`` is the user id the rules use (None: the email resolved to nobody, so
    the entry grants no role); ``email`` the person's email when bound (for the audit
    trail). ``pending_at`` (when set) says a change was seen then but is not in effect
    yet (``identity.rebind: alert``, until an admin confirms): to ``pending_slack_id``
    (None: to nobody) and ``pending_email``; ``noticed_at`` when the admins were last
    alerted about this entry. Times are aware UTC.
    """

    entry: str
    slack_id: str | None
    email: str | None
    bound_at: datetime
    pending_slack_id: str | None = None
    pending_email: str | None = None
    noticed_at: datetime | None = None
    pending_at: datetime | None = None

    def state(self) -> tuple[object, ...]:
        """What a compare-and-set of a binding compares: whom it binds, what waits."""
        return (
            self.slack_id,
            self.email,
            self.pending_slack_id,
            self.pending_email,
            self.pending_at,
        )

    @property
    def pending(self) -> bool:
        """A change waits for an admin's confirmation."""
        return self.pending_at is not None


@dataclass(frozen=True)
class Roster:
    """Config entry -> the Slack user id it is bound to now.

    An id entry is itself; an email entry is what its stored binding says, and nobody
    when it has none (never resolved, or resolved to nobody): an unbound entry grants
    no role. Entries are compared lower-cased (emails) or as written (ids).
    """

    bound: Mapping[str, str]

    @classmethod
    def of(cls, bindings: Iterable[Binding]) -> Roster:
        return cls({b.entry: b.slack_id for b in bindings if b.slack_id})

    @classmethod
    def direct(cls, people: Mapping[str, str]) -> Roster:
        """A roster from ``{email: slack_id}`` (tests, and what start-up resolved)."""
        return cls({email.lower(): slack_id for email, slack_id in people.items()})

    def id_of(self, entry: str) -> str | None:
        """The user id ``entry`` is bound to, or None."""
        if is_slack_id(entry):
            return entry
        return self.bound.get(entry.strip().lower())

    def ids_of(self, entries: Iterable[str]) -> tuple[str, ...]:
        """The bound user ids of ``entries``, in order, each once; unbound ones left out."""
        found: dict[str, None] = {}
        for entry in entries:
            slack_id = self.id_of(entry)
            if slack_id is not None:
                found.setdefault(slack_id, None)
        return tuple(found)

    def names(self, entries: Iterable[str], slack_id: str) -> bool:
        """Whether one of ``entries`` is bound to ``slack_id``."""
        return slack_id in self.ids_of(entries)
