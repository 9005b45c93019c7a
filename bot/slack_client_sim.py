"""A simulated person's Slack client, sending signed requests to a bot's request URL.

:class:`SlackUser` does what Slack's servers do when a person types a slash command,
clicks a button, picks from a select, submits a modal or opens the App Home: it builds
the documented payload (slash-command form, ``block_actions``/``view_submission``/
``block_suggestion`` interaction payloads, Events API ``event_callback``), signs it with
the v0 scheme (``X-Slack-Request-Timestamp`` + ``X-Slack-Signature``) and POSTs it to the
bot. The views and messages it acts on come from a :class:`~bot.fake_slack.FakeSlack`.

It refuses, with :class:`SlackClientError`, what a real Slack client would not let a
person do: click a message in someone else's DM, submit a modal that is closed or has an
empty required field, pick an option that is not offered, or fire a ``block_actions``
from an input block without ``dispatch_action``.
"""

from __future__ import annotations

import copy
import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

from bot.fake_slack import Ephemeral, FakeSlack, Message, blocks_to_text

__all__ = ["Response", "SlackClientError", "SlackUser"]

VERIFICATION_TOKEN = "fake-verification-token"
SLACK_TIMEOUT_SECONDS = 3.0
_FORM = "application/x-www-form-urlencoded"

# Element type -> the state/action key its selection goes under.
_SINGLE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MULTI_OPTION = {"multi_static_select", "multi_external_select", "checkboxes"}
_VALUE_KEY = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "rich_text_input": "rich_text_value",
}
_STATELESS = {"button", "overflow", "workflow_button", "image"}


class SlackClientError(Exception):
    """Something the Slack client would not let the person do."""


@dataclass
class Response:
    """The bot's HTTP answer to one request."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    #: For view submissions: what Slack would have shown instead of applying the answer.
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed as JSON (``{}`` for an empty body)."""
        return json.loads(self.body) if self.body.strip() else {}


def _options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _pick(element: dict[str, Any], value: str) -> dict[str, Any]:
    for option in _options_of(element):
        if option.get("value") == value:
            return copy.deepcopy(option)
    offered = [o.get("value") for o in _options_of(element)]
    raise SlackClientError(
        f"{element.get('action_id')}: no option with value {value!r} (offered: {offered})"
    )


def _selection(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The ``selected_*``/``value`` part of an element's state or action for ``value``."""
    kind = element.get("type")
    if kind in _SINGLE_OPTION:
        if value is None:
            return {"selected_option": None}
        if isinstance(value, dict):
            return {"selected_option": copy.deepcopy(value)}
        if kind == "external_select":
            text = {"type": "plain_text", "text": str(value), "emoji": True}
            return {"selected_option": {"text": text, "value": str(value)}}
        return {"selected_option": _pick(element, str(value))}
    if kind in _MULTI_OPTION:
        values = [] if value is None else [value] if isinstance(value, str) else list(value)
        if kind == "multi_external_select":
            return {
                "selected_options": [
                    {"text": {"type": "plain_text", "text": v}, "value": v} for v in values
                ]
            }
        return {"selected_options": [_pick(element, v) for v in values]}
    key = _VALUE_KEY.get(str(kind))
    if key is None:
        raise SlackClientError(f"cannot enter a value into a {kind} element")
    if key.endswith("s") and isinstance(value, str):
        value = [value]
    return {key: value}


def _initial(element: dict[str, Any]) -> dict[str, Any]:
    """An element's state before the person touches it (its initial value, if any)."""
    kind = element.get("type")
    if kind in _SINGLE_OPTION:
        return {"selected_option": copy.deepcopy(element.get("initial_option"))}
    if kind in _MULTI_OPTION:
        return {"selected_options": copy.deepcopy(element.get("initial_options") or [])}
    key = _VALUE_KEY.get(str(kind))
    if key is None:
        return {}
    initial = {
        "selected_user": "initial_user",
        "selected_users": "initial_users",
        "selected_conversation": "initial_conversation",
        "selected_conversations": "initial_conversations",
        "selected_channel": "initial_channel",
        "selected_channels": "initial_channels",
        "selected_date": "initial_date",
        "selected_time": "initial_time",
        "selected_date_time": "initial_date_time",
    }.get(key, "initial_value")
    default: Any = [] if key.endswith("s") else None
    return {key: copy.deepcopy(element.get(initial, default))}


def _is_empty(entry: dict[str, Any]) -> bool:
    return all(v in (None, "", []) for k, v in entry.items() if k != "type")


def _elements(blocks: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(block, element)`` for every interactive element in ``blocks``."""
    found = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "actions":
            found.extend((block, el) for el in block.get("elements") or [] if isinstance(el, dict))
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                found.append((block, block[key]))
    return [(b, e) for b, e in found if e.get("type") != "image"]


def _find(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    for block, element in _elements(blocks):
        if element.get("action_id") == action_id and block_id in (None, block.get("block_id")):
            return block, element
    available = sorted({str(e.get("action_id")) for _, e in _elements(blocks)})
    raise SlackClientError(f"no element with action_id {action_id!r} here (have: {available})")


class SlackUser:
    """A person in the fake workspace, using Slack against a bot at ``bot_url``."""

    def __init__(
        self,
        fake: FakeSlack,
        user_id: str,
        *,
        bot_url: str,
        signing_secret: str,
        team_id: str = "T0FAKE",
        timeout: float = 10.0,
    ) -> None:
        if user_id not in fake.users:
            raise ValueError(f"{user_id} is not in the fake's directory; call fake.add_user first")
        self.fake = fake
        self.user_id = user_id
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.timeout = timeout
        #: called with no arguments right before each request's bytes are sent, after
        #: its payload is built and signed (a benchmark starts its clock here: building
        #: the payload is Slack's work, not the bot's)
        self.on_send: Callable[[], None] | None = None

    @property
    def name(self) -> str:
        """The person's handle, e.g. ``alice``."""
        return self.fake.user_name(self.user_id)

    # ---- transport -----------------------------------------------------------------

    def post_raw(
        self,
        body: bytes,
        content_type: str,
        *,
        sign: bool = True,
        secret: str | None = None,
        timestamp: int | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """POST ``body`` to the bot, signed like Slack (unless ``sign=False``).

        ``secret`` and ``timestamp`` override the signing secret and request time, so tests
        can send bad or stale signatures. HTTP errors are returned, not raised.
        """
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": ts,
        }
        if sign:
            verifier = SignatureVerifier(secret if secret is not None else self.signing_secret)
            signature = verifier.generate_signature(timestamp=ts, body=body)
            all_headers["X-Slack-Signature"] = signature or ""
        all_headers.update(headers or {})
        url = urlsplit(self.bot_url)
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = kind(url.hostname or "", url.port, timeout=self.timeout)
        if self.on_send is not None:
            self.on_send()
        started = time.monotonic()
        try:
            connection.request("POST", path, body=body, headers=all_headers)
            answer = connection.getresponse()
            status, text = answer.status, answer.read().decode("utf-8", "replace")
            answer_headers = dict(answer.headers.items())
        finally:
            connection.close()
        elapsed = time.monotonic() - started
        if elapsed > SLACK_TIMEOUT_SECONDS:
            self.fake.log(
                f"[slack] the app took {elapsed:.1f}s to answer @{self.name} "
                "(Slack gives up after 3 s and shows an error)"
            )
        return Response(status, text, answer_headers, elapsed)

    def _interaction(self, payload: dict[str, Any]) -> Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post_raw(body, _FORM)

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "username": self.name,
            "name": self.name,
            "team_id": self.team_id,
        }

    def _envelope(self, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": self._user(),
            "api_app_id": self.fake.app_id,
            "token": VERIFICATION_TOKEN,
            "team": {"id": self.team_id, "domain": "fake-workspace"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # ---- slash commands --------------------------------------------------------------

    def slash(
        self, command: str = "/jit", text: str = "", channel_id: str | None = None
    ) -> Response:
        """Type ``command text`` (by default in the person's DM with the bot)."""
        channel = channel_id or self.fake.dm_channel(self.user_id)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": "fake-workspace",
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else channel,
            "user_id": self.user_id,
            "user_name": self.name,
            "command": command,
            "text": text,
            "api_app_id": self.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": self.fake.register_response_url(self.user_id, channel),
            "trigger_id": self.fake.new_trigger_id(self.user_id),
        }
        self.fake.log(f"[@{self.name}] {command} {text}".rstrip())
        return self.post_raw(urlencode(form).encode(), _FORM)

    # ---- views -----------------------------------------------------------------------

    def latest_view(self) -> dict[str, Any] | None:
        """The modal the fake last opened, pushed or updated for this person."""
        return self.fake.latest_view(self.user_id)

    def _current_view(self, view: dict[str, Any], *, must_be_open: bool = True) -> dict[str, Any]:
        current = self.fake.view(view.get("id", "")) if isinstance(view, dict) else None
        if current is None:
            raise SlackClientError(
                f"no such view {view.get('id') if isinstance(view, dict) else view!r}"
            )
        if current.get("user_id") != self.user_id:
            raise SlackClientError(f"view {current['id']} belongs to {current.get('user_id')}")
        open_ids = {v["id"] for v in self.fake.open_modals(self.user_id)}
        if must_be_open and current["type"] == "modal" and current["id"] not in open_ids:
            raise SlackClientError(f"modal {current['id']} is closed")
        return current

    @staticmethod
    def _view_payload(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(view)
        out.pop("user_id", None)
        out["state"] = {"values": copy.deepcopy(values)}
        return out

    def fill(self, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Build a view's ``state.values`` after entering ``values`` (action_id -> value).

        Starts from the elements' initial values and whatever was already selected in the
        view, then applies ``values``: a static select takes an option value (which must
        be offered), a text input its text, a multi-select or checkboxes a list.
        """
        blocks = view.get("blocks") or []
        state: dict[str, dict[str, Any]] = {}
        for block, element in _elements(blocks):
            if element.get("type") in _STATELESS:
                continue
            entry = {"type": element.get("type"), **_initial(element)}
            state.setdefault(block["block_id"], {})[element["action_id"]] = entry
        for block_id, entries in (view.get("state") or {}).get("values", {}).items():
            for action_id, entry in entries.items():
                if action_id in state.get(block_id, {}):
                    state[block_id][action_id] = copy.deepcopy(entry)
        for action_id, value in values.items():
            block, element = _find(blocks, action_id)
            if element.get("type") in _STATELESS:
                raise SlackClientError(f"{action_id} is a {element.get('type')}, not an input")
            state[block["block_id"]][action_id] = {
                "type": element["type"],
                **_selection(element, value),
            }
        return state

    def submit(self, view: dict[str, Any], values: dict[str, Any] | None = None) -> Response:
        """Fill in ``values`` and press the modal's submit button.

        The bot's answer is applied to the fake like Slack would (close, ``errors``,
        ``update``, ``push``, ``clear``); problems with it are in ``Response.problems``.
        """
        current = self._current_view(view)
        if current["type"] != "modal" or not current.get("submit"):
            raise SlackClientError(f"view {current['id']} has no submit button")
        state = self.fill(current, values or {})
        for block in current.get("blocks", []):
            if block.get("type") != "input" or block.get("optional"):
                continue
            element = block.get("element") or {}
            entry = state.get(block["block_id"], {}).get(element.get("action_id"), {})
            if _is_empty(entry):
                label = (block.get("label") or {}).get("text", block["block_id"])
                raise SlackClientError(f"required field {label!r} is empty; Slack won't submit")
        self.fake.set_view_state(current["id"], state)
        payload = {
            **self._envelope("view_submission"),
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "view": self._view_payload(current, state),
            "response_urls": [],
        }
        title = (current.get("title") or {}).get("text", "")
        self.fake.log(f'[@{self.name}] submitted "{title}"')
        response = self._interaction(payload)
        if response.elapsed > SLACK_TIMEOUT_SECONDS:
            response.problems = ["the app did not answer within 3 seconds"]
        else:
            response.problems = self.fake.apply_view_response(
                self.user_id, current["id"], response.status, response.body
            )
        return response

    def select_in_view(
        self, view: dict[str, Any], action_id: str, value: Any, *, block_id: str | None = None
    ) -> Response:
        """Pick ``value`` in a select (or other element) of a modal/home view.

        Sends ``block_actions`` like Slack does for selects outside input blocks or in an
        input block with ``dispatch_action: true``.
        """
        current = self._current_view(view)
        block, element = _find(current.get("blocks") or [], action_id, block_id)
        if block.get("type") == "input" and not block.get("dispatch_action"):
            raise SlackClientError(
                f"input block {block.get('block_id')!r} has no dispatch_action: true; "
                "Slack sends nothing until the modal is submitted"
            )
        selection = _selection(element, value)
        state = self.fill(current, {})
        state.setdefault(block["block_id"], {})[action_id] = {"type": element["type"], **selection}
        self.fake.set_view_state(current["id"], state)
        action = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block["block_id"],
            **selection,
            "action_ts": f"{time.time():.6f}",
        }
        if element.get("placeholder"):
            action["placeholder"] = element["placeholder"]
        payload = {
            **self._envelope("block_actions"),
            "container": {"type": "view", "view_id": current["id"]},
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "view": self._view_payload(current, state),
            "actions": [action],
            "state": {"values": copy.deepcopy(state)},
        }
        self.fake.log(f"[@{self.name}] picked {value!r} in {action_id}")
        return self._interaction(payload)

    def suggest(self, view: dict[str, Any], action_id: str, value: str) -> Any:
        """Type ``value`` into an external select; returns the bot's options JSON."""
        current = self._current_view(view)
        block, element = _find(current.get("blocks") or [], action_id)
        if element.get("type") not in ("external_select", "multi_external_select"):
            raise SlackClientError(
                f"{action_id} is a {element.get('type')}, not an external select"
            )
        min_length = int(element.get("min_query_length", 3))
        if len(value) < min_length:
            raise SlackClientError(f"Slack asks for options only after {min_length} characters")
        payload = {
            **self._envelope("block_suggestion"),
            "container": {"type": "view", "view_id": current["id"]},
            "action_id": action_id,
            "block_id": block["block_id"],
            "value": value,
            "view": self._view_payload(current, self.fill(current, {})),
        }
        return self._interaction(payload).json()

    # ---- messages ------------------------------------------------------------------

    def click(
        self,
        message_or_view: Message | Ephemeral | dict[str, Any],
        action_id: str,
        *,
        value: Any = None,
        block_id: str | None = None,
    ) -> Response:
        """Click a button (or choose ``value`` in a select) in a message or a view.

        A button's ``value`` is taken from the block unless ``value`` is given (to forge one).
        """
        if isinstance(message_or_view, dict):
            return self._click_in_view(message_or_view, action_id, value, block_id)
        target = message_or_view
        if isinstance(target, Ephemeral):
            if target.user != self.user_id:
                raise SlackClientError("that ephemeral message was shown to someone else")
        else:
            live = self.fake.message(target.channel, target.ts)
            if live is None or live.deleted:
                raise SlackClientError("that message no longer exists")
            if live.user_id_of_dm not in (None, self.user_id):
                raise SlackClientError(f"{self.user_id} cannot see {live.user_id_of_dm}'s DM")
            target = live
        block, element = _find(target.blocks, action_id, block_id)
        action = self._action(block, element, value)
        channel = target.channel
        is_ephemeral = isinstance(target, Ephemeral)
        ts = target.message_ts if isinstance(target, Ephemeral) else target.ts
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": is_ephemeral,
        }
        if target.thread_ts:
            container["thread_ts"] = target.thread_ts
        payload: dict[str, Any] = {
            **self._envelope("block_actions"),
            "container": container,
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "channel": {
                "id": channel,
                "name": "directmessage" if channel.startswith("D") else channel,
            },
            "state": {"values": {}},
            "response_url": self.fake.register_response_url(
                self.user_id, channel, None if is_ephemeral else ts, ephemeral=is_ephemeral
            ),
            "actions": [action],
        }
        if isinstance(target, Message):
            payload["message"] = self.fake.message_payload(target)
        self.fake.log(
            f"[@{self.name}] clicked {self._label(element, value)} in {self._place(channel)}"
        )
        return self._interaction(payload)

    def forge_click(self, action_id: str, value: str) -> Response:
        """Send a ``block_actions`` for a button this person was never shown (as a forger
        with a copied payload would), from their own DM with the bot."""
        channel = self.fake.dm_channel(self.user_id)
        payload: dict[str, Any] = {
            **self._envelope("block_actions"),
            "container": {
                "type": "message",
                "message_ts": "1.000000",
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "channel": {"id": channel, "name": "directmessage"},
            "state": {"values": {}},
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "forged",
                    "value": value,
                    "text": {"type": "plain_text", "text": "Approve"},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        self.fake.log(f"[@{self.name}] sent a forged {action_id} click for value {value!r}")
        return self._interaction(payload)

    def _click_in_view(
        self, view: dict[str, Any], action_id: str, value: Any, block_id: str | None
    ) -> Response:
        current = self._current_view(view)
        block, element = _find(current.get("blocks") or [], action_id, block_id)
        if block.get("type") == "input" and not block.get("dispatch_action"):
            raise SlackClientError(
                f"input block {block.get('block_id')!r} does not dispatch actions"
            )
        state = self.fill(current, {})
        if element.get("type") not in _STATELESS and value is not None:
            state[block["block_id"]][action_id] = {
                "type": element["type"],
                **_selection(element, value),
            }
            self.fake.set_view_state(current["id"], state)
        payload = {
            **self._envelope("block_actions"),
            "container": {"type": "view", "view_id": current["id"]},
            "trigger_id": self.fake.new_trigger_id(self.user_id),
            "view": self._view_payload(current, state),
            "actions": [self._action(block, element, value)],
            "state": {"values": copy.deepcopy(state)},
        }
        where = "App Home" if current["type"] == "home" else "a modal"
        self.fake.log(f"[@{self.name}] clicked {self._label(element, value)} in {where}")
        return self._interaction(payload)

    @staticmethod
    def _action(block: dict[str, Any], element: dict[str, Any], value: Any) -> dict[str, Any]:
        action: dict[str, Any] = {
            "type": element.get("type"),
            "action_id": element.get("action_id"),
            "block_id": block.get("block_id"),
            "action_ts": f"{time.time():.6f}",
        }
        if element.get("type") == "button":
            action["text"] = copy.deepcopy(element.get("text"))
            chosen = value if value is not None else element.get("value")
            if chosen is not None:
                action["value"] = chosen
            if element.get("style"):
                action["style"] = element["style"]
        elif element.get("type") == "workflow_button":
            action["text"] = copy.deepcopy(element.get("text"))
        else:
            if value is None:
                raise SlackClientError(
                    f"{element.get('action_id')} is a {element.get('type')}; pass value="
                )
            action.update(_selection(element, value))
        return action

    @staticmethod
    def _label(element: dict[str, Any], value: Any) -> str:
        if element.get("type") == "button":
            return blocks_to_text([{"type": "actions", "elements": [element]}]) or "a button"
        return f"{value!r} in {element.get('action_id')}"

    def _place(self, channel: str) -> str:
        owner = self.fake.dm_owner(channel)
        return f"DM @{self.fake.user_name(owner)}" if owner else f"#{channel}"

    # ---- events --------------------------------------------------------------------

    def open_home(self) -> Response:
        """Open the bot's App Home tab (an ``app_home_opened`` event)."""
        now = time.time()
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": self.user_id,
            "channel": self.fake.dm_channel(self.user_id),
            "tab": "home",
            "event_ts": f"{now:.6f}",
        }
        home = self.fake.home(self.user_id)
        if home is not None:
            home.pop("user_id", None)
            event["view"] = home
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.fake.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{int(now * 1000):X}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        self.fake.log(f"[@{self.name}] opened App Home")
        return self.post_raw(json.dumps(envelope).encode(), "application/json")
