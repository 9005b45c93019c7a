"""Who may use jitbot at all: a Bolt global middleware that runs before every listener.

Only people of the installed workspace or Enterprise Grid org may use the bot: the team
and org ``auth.test`` reports (``team_id``, and ``enterprise_id`` "when working against
a team within an Enterprise organization", https://docs.slack.dev/reference/methods/auth.test),
asked once when the app is built. Every request that names a person is checked twice:

1. **The payload's claims.** Slash commands carry ``team_id`` / ``enterprise_id``
   (https://docs.slack.dev/interactivity/implementing-slash-commands); interaction
   payloads ``user.team_id`` (an ``E…`` org id in an Enterprise organization),
   ``team.id``, ``team.enterprise_id`` and ``enterprise.id``
   (https://docs.slack.dev/reference/interaction-payloads/block_suggestion-payload);
   events the envelope's ``team_id`` / ``enterprise_id``. A team that is neither ours
   nor our org's (unless the payload also names our org) marks a Slack Connect stranger.
2. **``users.info``** (https://docs.slack.dev/reference/methods/users.info, the user
   object https://api.slack.com/types/user): ``user_not_found`` (an id the workspace
   does not know), ``is_bot``, ``deleted`` (deactivated), ``team_id`` /
   ``enterprise_user.enterprise_id`` / ``is_stranger`` (another organization, met
   through Slack Connect), ``is_restricted`` / ``is_ultra_restricted`` (multi- and
   single-channel guests) and ``is_email_confirmed`` (jitbot matches people to AWS by
   email, so an unconfirmed one is refused; a missing field counts as unconfirmed).

The choice: **guests and Slack Connect strangers are refused unless the config says
``allow_guests: true``**, which lets both in (they still need an Identity Center user
with their email). Bots, deactivated accounts, unknown ids and unconfirmed emails are
refused always. The user object is kept :data:`MAX_AGE` seconds (``users.info`` is
Tier 4, 100+ a minute: https://docs.slack.dev/reference/methods/users.info), shared with
:class:`~bot.directory.SlackDirectory`, so the listener behind the gate needs no second
call. A look-up runs in the request's thread (an external select's options and a
modal's answer must be in the ack) through a client that gives up after
:data:`LOOKUP_TIMEOUT` seconds; when Slack fails, a user object up to
:data:`bot.directory.STALE_FOR` old answers, else the person is refused, never let
through. Requests that name no person (``url_verification`` and ``ssl_check`` are
answered by Bolt before any middleware; other events) pass unchanged.

A refusal says why in plain words (:data:`bot.gate_tell.WHY`), where the person is: a
slash command in its answer (ephemeral), an external select with no options, a modal
submission by turning the modal into the explanation, a click by an ephemeral message
(the ``response_url``; else in the modal, the App Home or a DM), the App Home by a home
that only says why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.directory import SlackDirectory, SlackMember
from bot.gate_tell import TELLABLE, WHY, Reason, Teller
from bot.render.escape import esc

log = logging.getLogger("jitbot.gate")

#: seconds a user object answers for the gate before ``users.info`` is asked again
MAX_AGE = 60.0
#: seconds the gate's ``users.info`` may take (Slack waits 3 s for the whole answer)
LOOKUP_TIMEOUT = 2.0
#: a Slack user id (``U…``, or ``W…`` in Enterprise Grid); anything else is refused as
#: unknown without asking Slack
USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
#: the interaction payload types that name the person acting in ``user``
INTERACTIONS = frozenset(
    {"block_actions", "block_suggestion", "view_submission", "view_closed", "shortcut",
     "message_action"}
)  # fmt: skip


@dataclass(frozen=True)
class Home:
    """The installation: ``auth.test``'s ``team_id``, ``enterprise_id`` (None outside
    Enterprise Grid) and ``team`` (the workspace's name)."""

    team_id: str
    enterprise_id: str | None
    name: str

    @classmethod
    def of(cls, auth: Any) -> Home:
        """From an ``auth.test`` answer."""
        return cls(
            str(auth.get("team_id") or ""),
            auth.get("enterprise_id") or None,
            str(auth.get("team") or "this workspace"),
        )

    def owns(self, team_id: str | None, enterprise_id: str | None = None) -> bool:
        """Whether a user of ``team_id`` (in org ``enterprise_id``) is one of ours."""
        ours = {self.team_id} | ({self.enterprise_id} if self.enterprise_id else set())
        return team_id in ours or bool(self.enterprise_id and enterprise_id == self.enterprise_id)


@dataclass(frozen=True)
class Actor:
    """The person a request names, and the teams and orgs its payload claims."""

    kind: str
    user_id: str | None
    teams: tuple[str, ...]
    enterprises: tuple[str, ...]


def _ids(*values: Any) -> tuple[str, ...]:
    return tuple(v for v in values if isinstance(v, str) and v)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def actor_of(body: dict[str, Any]) -> Actor | None:
    """The person ``body`` acts for, or None when it names no person (passed on)."""
    kind = body.get("type")
    if "command" in body:
        user_id = body.get("user_id")
        return Actor(
            "command",
            user_id if isinstance(user_id, str) else None,
            _ids(body.get("team_id")),
            _ids(body.get("enterprise_id")),
        )
    if kind in INTERACTIONS:
        user, team = _dict(body.get("user")), _dict(body.get("team"))
        user_id = user.get("id")
        return Actor(
            str(kind),
            user_id if isinstance(user_id, str) else None,
            _ids(user.get("team_id"), team.get("id")),
            _ids(team.get("enterprise_id"), _dict(body.get("enterprise")).get("id")),
        )
    event = _dict(body.get("event"))
    if kind == "event_callback" and isinstance(event.get("user"), str):
        return Actor(
            f"event:{event.get('type')}",
            event["user"],
            _ids(body.get("team_id"), event.get("user_team")),
            _ids(body.get("enterprise_id")),
        )
    return None


def claims_foreign(home: Home, actor: Actor) -> bool:
    """Whether the payload places the person outside the installation: an org that is
    not ours, or a team that is neither ours nor (with our org named) in our org."""
    if any(e != home.enterprise_id for e in actor.enterprises):
        return True
    in_our_org = bool(home.enterprise_id and actor.enterprises)
    return not in_our_org and any(not home.owns(t) for t in actor.teams)


def refusal(
    home: Home, actor: Actor, member: SlackMember | None, *, allow_guests: bool
) -> Reason | None:
    """Why ``actor`` (``member`` being what ``users.info`` said, None: not found) may
    not use jitbot, or None when they may."""
    if not actor.user_id or member is None:
        return Reason.UNKNOWN
    if member.is_bot:
        return Reason.BOT
    if member.deleted:
        return Reason.DEACTIVATED
    stranger = (
        claims_foreign(home, actor)
        or member.is_stranger
        or not home.owns(member.team_id, member.enterprise_id)
    )
    if stranger and not allow_guests:
        return Reason.STRANGER
    if (member.is_restricted or member.is_ultra_restricted) and not allow_guests:
        return Reason.GUEST
    if not member.is_email_confirmed:
        return Reason.UNCONFIRMED
    return None


class Gate:
    """The middleware (see the module docstring): ``app.use(Gate(...))``."""

    def __init__(
        self,
        home: Home,
        directory: SlackDirectory,
        lookups: WebClient,
        teller: Teller,
        *,
        allow_guests: bool,
        later: Callable[..., None],
    ) -> None:
        self.home = home
        self._directory = directory
        self._lookups = lookups
        self._teller = teller
        self._allow_guests = allow_guests
        self._later = later

    def __call__(self, body: dict[str, Any], next_: Callable[[], None]) -> BoltResponse | None:
        actor = actor_of(body)
        if actor is None:
            next_()
            return None
        try:
            reason = self.check(actor)
        except Exception:  # fail closed: nobody unchecked gets through
            log.exception("could not check %s", actor.user_id)
            reason = Reason.UNCHECKED
        if reason is None:
            next_()
            return None
        log.info("refused %s (%s) at %s", actor.user_id, reason.value, actor.kind)
        return self.refuse(actor, reason, body)

    def check(self, actor: Actor) -> Reason | None:
        """The reason ``actor`` is refused, or None; ``users.info`` when not cached."""
        if not actor.user_id or not USER_ID.fullmatch(actor.user_id):
            return Reason.UNKNOWN
        if claims_foreign(self.home, actor) and not self._allow_guests:
            return Reason.STRANGER  # the payload says so: no need to ask Slack
        try:
            member = self._directory.member(actor.user_id, max_age=MAX_AGE, client=self._lookups)
        except Exception as exc:
            log.warning("users.info %s failed (%s): refused for now", actor.user_id, exc)
            return Reason.UNCHECKED
        return refusal(self.home, actor, member, allow_guests=self._allow_guests)

    def refused(self, user_id: str) -> Reason | None:
        """Why jitbot may not show ``user_id`` anything (a DM, an App Home), or None:
        :meth:`check` of the person with no payload's claims (``users.info`` alone).
        ``Reason.UNCHECKED`` when Slack did not answer."""
        return self.check(Actor("reach", user_id, (), ()))

    def text(self, reason: Reason) -> str:
        """The refusal as the person reads it (mrkdwn)."""
        return ":no_entry: " + WHY[reason].format(workspace=esc(self.home.name))

    def refuse(self, actor: Actor, reason: Reason, body: dict[str, Any]) -> BoltResponse:
        """Slack's answer to a refused request; telling the person, when it is not in
        the answer, is left to the pool."""
        text = self.text(reason)
        if actor.kind == "command":
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        if actor.kind == "block_suggestion":
            return BoltResponse(status=200, body={"options": []})
        if actor.kind == "view_submission":
            return BoltResponse(
                status=200,
                body={"response_action": "update", "view": self._teller.modal(text)},
            )
        if actor.kind in ("block_actions", "event:app_home_opened") and actor.user_id:
            self._later(self._teller.tell, actor.user_id, reason in TELLABLE, text, body)
        return BoltResponse(status=200, body="")


def build(
    client: WebClient,
    directory: SlackDirectory,
    *,
    allow_guests: bool,
    later: Callable[..., None],
) -> Gate:
    """The gate of ``client``'s installation (asks ``auth.test`` once); refusals that
    are told after the answer run through ``later(task, *args)`` (the listener pool)."""
    lookups = WebClient(
        token=client.token, base_url=client.base_url, timeout=LOOKUP_TIMEOUT, retry_handlers=[]
    )
    home = Home.of(client.auth_test())
    return Gate(home, directory, lookups, Teller(client), allow_guests=allow_guests, later=later)


def register(app: App, gate: Gate) -> None:
    """Put ``gate`` in front of every listener of ``app`` (call before registering them)."""

    def gate_middleware(body: dict[str, Any], next_: Callable[[], None]) -> BoltResponse | None:
        return gate(body, next_)

    app.use(gate_middleware)
