"""A real HTTP fake of Slack's Web API, for end-to-end tests and ``jitbot demo``.

:class:`FakeSlack` runs a small threaded HTTP server on 127.0.0.1 that answers
``POST``/``GET /api/<method>`` the way ``https://slack.com/api/`` does, so a real
``slack_sdk.WebClient(base_url=fake.url)`` (and therefore a slack_bolt app) can talk to it.
It keeps a users directory, DM channels, messages and threads, ephemeral messages, modals
and App Home views, checks required arguments and Block Kit limits, and records every call
and a human-readable transcript. It also serves working ``response_url``s
(``/response/<key>``, issued by :meth:`FakeSlack.register_response_url`) so ``respond()``
from a bolt listener lands as an ephemeral, an in-channel message or an edit of the original.

Only the standard library is used, so this module ships with the package.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import html
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Call",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "SlackUserRecord",
    "Surface",
    "block_kit_problems",
    "blocks_to_text",
    "view_problems",
]

Surface = Literal["message", "modal", "home"]
T = TypeVar("T")

TRIGGER_TTL_SECONDS = 3.0
MAX_VIEW_STACK = 3
MAX_MESSAGE_TEXT = 40_000

# --------------------------------------------------------------------------------------
# Block Kit checking (pure functions)
# --------------------------------------------------------------------------------------

_BLOCK_TYPES = {
    "actions",
    "call",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "video",
}
_SELECTS = {
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
}
_MULTI_SELECTS = {f"multi_{s}" for s in _SELECTS}
_TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_ELEMENT_TYPES = (
    _SELECTS
    | _MULTI_SELECTS
    | _TEXT_INPUTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "file_input",
        "image",
        "overflow",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
        "workflow_button",
    }
)
_SECTION_ACCESSORIES = (
    _SELECTS
    | _MULTI_SELECTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "image",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
    }
)
_ACTIONS_ELEMENTS = (
    _SELECTS
    | _MULTI_SELECTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "overflow",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
        "workflow_button",
    }
)
_INPUT_ELEMENTS = (
    _SELECTS
    | _MULTI_SELECTS
    | _TEXT_INPUTS
    | {
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "file_input",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
    }
)


class _Checker:
    """Collects Block Kit problems as Slack-style ``[ERROR] ... [json-pointer:...]`` lines."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, msg: str) -> None:
        self.problems.append(f"[ERROR] {msg} [json-pointer:{path}]")

    def string(self, value: Any, path: str, limit: int, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.add(path, "is required")
            return
        if not isinstance(value, str):
            self.add(path, "must be a string")
        elif len(value) > limit:
            self.add(path, f"must be at most {limit} characters (got {len(value)})")

    def text(
        self, obj: Any, path: str, limit: int, *, plain: bool = False, required: bool = True
    ) -> None:
        if obj is None:
            if required:
                self.add(path, "is required")
            return
        if not isinstance(obj, dict):
            self.add(path, "must be a text object")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.add(f"{path}/type", "must be plain_text or mrkdwn")
            return
        if plain and kind != "plain_text":
            self.add(f"{path}/type", "must be plain_text")
        text = obj.get("text")
        if not isinstance(text, str):
            self.add(f"{path}/text", "must be a string")
        elif not text:
            self.add(f"{path}/text", "must be more than 0 characters")
        elif len(text) > limit:
            self.add(f"{path}/text", f"must be at most {limit} characters (got {len(text)})")

    def blocks(self, blocks: Any, path: str, surface: Surface) -> None:
        if not isinstance(blocks, list):
            self.add(path, "must be an array")
            return
        limit = 50 if surface == "message" else 100
        if len(blocks) > limit:
            self.add(
                path, f"must provide an array of no more than {limit} items (got {len(blocks)})"
            )
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"{path}/{i}", surface, seen)

    def block(self, block: Any, path: str, surface: Surface, seen: set[str]) -> None:
        if not isinstance(block, dict):
            self.add(path, "must be an object")
            return
        kind = block.get("type")
        if kind not in _BLOCK_TYPES:
            self.add(f"{path}/type", f"unknown block type {kind!r}")
            return
        if kind == "file" and surface != "message":
            self.add(f"{path}/type", f"file blocks are not allowed in a {surface}")
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, f"{path}/block_id", 255)
            if block_id in seen:
                self.add(f"{path}/block_id", f"duplicate block_id {block_id!r}")
            seen.add(block_id)
        check = getattr(self, f"_block_{kind}", None)
        if check is not None:
            check(block, path)

    def _block_section(self, block: dict, path: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            self.add(path, "must contain text or fields")
        self.text(text, f"{path}/text", 3000, required=False)
        if fields is not None:
            if not isinstance(fields, list):
                self.add(f"{path}/fields", "must be an array")
            else:
                if len(fields) > 10:
                    self.add(f"{path}/fields", "must provide an array of no more than 10 items")
                for i, f in enumerate(fields):
                    self.text(f, f"{path}/fields/{i}", 2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{path}/accessory", _SECTION_ACCESSORIES)

    def _block_actions(self, block: dict, path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{path}/elements", "must be a non-empty array")
            return
        if len(elements) > 25:
            self.add(f"{path}/elements", "must provide an array of no more than 25 items")
        seen: set[str] = set()
        for i, el in enumerate(elements):
            self.element(el, f"{path}/elements/{i}", _ACTIONS_ELEMENTS)
            action_id = el.get("action_id") if isinstance(el, dict) else None
            if action_id is not None:
                if action_id in seen:
                    self.add(f"{path}/elements/{i}/action_id", f"duplicate action_id {action_id!r}")
                seen.add(action_id)

    def _block_context(self, block: dict, path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{path}/elements", "must be a non-empty array")
            return
        if len(elements) > 10:
            self.add(f"{path}/elements", "must provide an array of no more than 10 items")
        for i, el in enumerate(elements):
            if isinstance(el, dict) and el.get("type") == "image":
                self.element(el, f"{path}/elements/{i}", {"image"})
            else:
                self.text(el, f"{path}/elements/{i}", 3000)

    def _block_header(self, block: dict, path: str) -> None:
        self.text(block.get("text"), f"{path}/text", 150, plain=True)

    def _block_input(self, block: dict, path: str) -> None:
        self.text(block.get("label"), f"{path}/label", 2000, plain=True)
        self.text(block.get("hint"), f"{path}/hint", 2000, plain=True, required=False)
        if block.get("element") is None:
            self.add(f"{path}/element", "is required")
        else:
            self.element(block["element"], f"{path}/element", _INPUT_ELEMENTS)

    def _block_image(self, block: dict, path: str) -> None:
        if block.get("image_url") is None and block.get("slack_file") is None:
            self.add(path, "must provide image_url or slack_file")
        self.string(block.get("image_url"), f"{path}/image_url", 3000)
        self.string(block.get("alt_text"), f"{path}/alt_text", 2000, required=True)
        self.text(block.get("title"), f"{path}/title", 2000, plain=True, required=False)

    def _block_markdown(self, block: dict, path: str) -> None:
        self.string(block.get("text"), f"{path}/text", 12000, required=True)

    def _block_rich_text(self, block: dict, path: str) -> None:
        if not isinstance(block.get("elements"), list):
            self.add(f"{path}/elements", "must be an array")

    def element(self, el: Any, path: str, allowed: set[str]) -> None:
        if not isinstance(el, dict):
            self.add(path, "must be an object")
            return
        kind = el.get("type")
        if kind not in _ELEMENT_TYPES:
            self.add(f"{path}/type", f"unknown element type {kind!r}")
            return
        if kind not in allowed:
            self.add(f"{path}/type", f"{kind} is not allowed here")
        self.string(el.get("action_id"), f"{path}/action_id", 255)
        self.text(el.get("placeholder"), f"{path}/placeholder", 150, plain=True, required=False)
        if el.get("confirm") is not None:
            self.confirm(el["confirm"], f"{path}/confirm")
        if kind == "button":
            self.text(el.get("text"), f"{path}/text", 75, plain=True)
            self.string(el.get("value"), f"{path}/value", 2000)
            self.string(el.get("url"), f"{path}/url", 3000)
            if el.get("style") not in (None, "primary", "danger"):
                self.add(f"{path}/style", "must be primary or danger")
        elif kind in ("static_select", "multi_static_select"):
            self.options(el, path, 100, groups_ok=True)
        elif kind == "overflow":
            self.options(el, path, 5)
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(el, path, 10, mrkdwn_ok=True)
        elif kind in _TEXT_INPUTS:
            max_length = el.get("max_length")
            if isinstance(max_length, int) and max_length > 3000:
                self.add(f"{path}/max_length", "must be at most 3000")
            initial = el.get("initial_value")
            if (
                isinstance(initial, str)
                and isinstance(max_length, int)
                and len(initial) > max_length
            ):
                self.add(f"{path}/initial_value", "must not be longer than max_length")
        elif kind == "image":
            if el.get("image_url") is None and el.get("slack_file") is None:
                self.add(path, "must provide image_url or slack_file")
            self.string(el.get("image_url"), f"{path}/image_url", 3000)
            self.string(el.get("alt_text"), f"{path}/alt_text", 2000, required=True)

    def confirm(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            self.add(path, "must be an object")
            return
        self.text(obj.get("title"), f"{path}/title", 100, plain=True)
        self.text(obj.get("text"), f"{path}/text", 300)
        self.text(obj.get("confirm"), f"{path}/confirm", 30, plain=True)
        self.text(obj.get("deny"), f"{path}/deny", 30, plain=True)

    def option(self, opt: Any, path: str, *, mrkdwn_ok: bool) -> None:
        if not isinstance(opt, dict):
            self.add(path, "must be an object")
            return
        self.text(opt.get("text"), f"{path}/text", 75, plain=not mrkdwn_ok)
        self.string(opt.get("value"), f"{path}/value", 150, required=True)
        self.text(opt.get("description"), f"{path}/description", 75, required=False)
        self.string(opt.get("url"), f"{path}/url", 3000)

    def options(
        self, el: dict, path: str, limit: int, *, groups_ok: bool = False, mrkdwn_ok: bool = False
    ) -> None:
        opts, groups = el.get("options"), el.get("option_groups") if groups_ok else None
        if opts is None and groups is None:
            self.add(f"{path}/options", "is required")
            return
        every: list[Any] = []
        if opts is not None:
            if not isinstance(opts, list):
                self.add(f"{path}/options", "must be an array")
            else:
                if len(opts) > limit:
                    self.add(
                        f"{path}/options",
                        f"must provide an array of no more than {limit} items (got {len(opts)})",
                    )
                for i, opt in enumerate(opts):
                    self.option(opt, f"{path}/options/{i}", mrkdwn_ok=mrkdwn_ok)
                every.extend(opts)
        if groups is not None:
            if not isinstance(groups, list):
                self.add(f"{path}/option_groups", "must be an array")
            else:
                if len(groups) > 100:
                    self.add(f"{path}/option_groups", "must provide no more than 100 items")
                for i, group in enumerate(groups):
                    gp = f"{path}/option_groups/{i}"
                    if not isinstance(group, dict):
                        self.add(gp, "must be an object")
                        continue
                    self.text(group.get("label"), f"{gp}/label", 75, plain=True)
                    gopts = group.get("options")
                    if not isinstance(gopts, list) or len(gopts) > 100:
                        self.add(f"{gp}/options", "must be an array of no more than 100 items")
                        continue
                    for j, opt in enumerate(gopts):
                        self.option(opt, f"{gp}/options/{j}", mrkdwn_ok=mrkdwn_ok)
                    every.extend(gopts)
        keys = {_option_key(o) for o in every if isinstance(o, dict)}
        initial = el.get("initial_option")
        if initial is not None and _option_key(initial) not in keys:
            self.add(f"{path}/initial_option", "must match one of the provided options")
        for i, opt in enumerate(el.get("initial_options") or []):
            if _option_key(opt) not in keys:
                self.add(f"{path}/initial_options/{i}", "must match one of the provided options")


def _option_key(opt: Any) -> tuple[Any, Any]:
    if not isinstance(opt, dict):
        return (None, None)
    text = opt.get("text")
    return (opt.get("value"), text.get("text") if isinstance(text, dict) else text)


def block_kit_problems(blocks: Any, *, surface: Surface = "message") -> list[str]:
    """Return the Block Kit problems Slack would refuse ``blocks`` for (empty if fine).

    ``surface`` is ``"message"`` (at most 50 blocks) or ``"modal"``/``"home"`` (at most 100).
    Each problem reads like Slack's ``response_metadata.messages``:
    ``"[ERROR] must be at most 75 characters (got 80) [json-pointer:/blocks/2/elements/0/text/text]"``.
    """
    checker = _Checker()
    checker.blocks(blocks, "/blocks", surface)
    return checker.problems


def view_problems(view: Any) -> list[str]:
    """Return the problems Slack would refuse a ``modal``/``home`` view payload for."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.add("/view", "must be an object")
        return checker.problems
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.add("/view/type", "must be modal or home")
        return checker.problems
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", 24, plain=True)
        for key in ("submit", "close"):
            checker.text(view.get(key), f"/view/{key}", 24, plain=True, required=False)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and not view.get("submit"):
            checker.add("/view/submit", "is required when the view contains input blocks")
    checker.string(view.get("private_metadata"), "/view/private_metadata", 3000)
    checker.string(view.get("callback_id"), "/view/callback_id", 255)
    checker.string(view.get("external_id"), "/view/external_id", 255)
    if view.get("blocks") is None:
        checker.add("/view/blocks", "is required")
    else:
        checker.blocks(view.get("blocks"), "/view/blocks", "home" if kind == "home" else "modal")
    return checker.problems


# --------------------------------------------------------------------------------------
# Text flattening
# --------------------------------------------------------------------------------------


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        return obj["text"]
    return ""


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") in ("text", "link") and isinstance(node.get("text"), str):
            return node["text"]
        if node.get("type") == "link":
            return str(node.get("url", ""))
        return "".join(_rich_text(child) for child in node.get("elements") or [])
    if isinstance(node, list):
        return "".join(_rich_text(child) for child in node)
    return ""


def _button_labels(elements: Iterable[Any]) -> str:
    return " ".join(
        f"[{_text_of(el.get('text'))}]"
        for el in elements
        if isinstance(el, dict) and el.get("type") == "button"
    )


def blocks_to_text(blocks: Any) -> str:
    """Flatten Block Kit blocks to readable text, one line per block.

    Sections (text, fields joined by `` | ``, a button accessory), headers, context,
    input labels, markdown and rich text are kept; buttons show as ``[Approve] [Reject]``.
    """
    lines: list[str] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        line = ""
        if kind == "section":
            parts = [_text_of(block.get("text"))]
            parts.append(" | ".join(_text_of(f) for f in block.get("fields") or []))
            parts.append(_button_labels([block.get("accessory")]))
            line = " ".join(p for p in parts if p)
        elif kind in ("header", "markdown"):
            line = _text_of(block.get("text")) if kind == "header" else str(block.get("text", ""))
        elif kind == "context":
            line = " ".join(_text_of(el) for el in block.get("elements") or [] if _text_of(el))
        elif kind == "actions":
            line = _button_labels(block.get("elements") or [])
        elif kind == "input":
            line = _text_of(block.get("label"))
        elif kind == "rich_text":
            line = _rich_text(block.get("elements") or [])
        if line:
            lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass
class Call:
    """One Web API call the fake answered (``at`` is ``time.time()``)."""

    method: str
    args: dict[str, Any]
    response: dict[str, Any]
    at: float


@dataclass
class Message:
    """A message the bot posted. Live: ``chat.update`` changes it in place.

    ``updates`` holds one entry per update, the content it replaced:
    ``{"text": ..., "blocks": ..., "at": time.time()}``.
    """

    channel: str
    ts: str
    user_id_of_dm: str | None
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Any] | None = None
    metadata: dict[str, Any] | None = None
    deleted: bool = False

    @property
    def is_reply(self) -> bool:
        """True for a reply in a thread."""
        return self.thread_ts is not None


@dataclass
class Ephemeral:
    """An ephemeral message shown only to ``user``."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    message_ts: str
    thread_ts: str | None = None


@dataclass
class SlackUserRecord:
    """One person (or bot) in the fake workspace's directory."""

    id: str
    email: str | None
    real_name: str
    tz: str = "UTC"
    is_bot: bool = False
    name: str = ""

    def api(self, team_id: str) -> dict[str, Any]:
        """This user as ``users.info`` returns it."""
        try:
            offset = ZoneInfo(self.tz).utcoffset(datetime.now(UTC))
        except (ZoneInfoNotFoundError, ValueError):
            offset = None
        profile: dict[str, Any] = {"real_name": self.real_name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "tz": self.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_bot": self.is_bot,
            "profile": profile,
        }


@dataclass
class _Trigger:
    issued_at: float
    user_id: str | None
    used: bool = False


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int


class _SlackError(Exception):
    def __init__(self, error: str, detail: str | None = None, messages: list[str] | None = None):
        super().__init__(error)
        self.error, self.detail, self.messages = error, detail, messages

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.error}
        if self.detail:
            out["detail"] = self.detail
        if self.messages:
            out["errors"] = list(self.messages)
            out["response_metadata"] = {"messages": list(self.messages)}
        return out


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # the listen backlog: socketserver's default of 5 drops connections under a burst
    # (the client's TCP then retries after a second), which Slack's servers never do
    request_queue_size = 128
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake = self.server.fake
        if parts.path.startswith("/api/"):
            status, headers, payload = fake._dispatch(
                parts.path[len("/api/") :], parts.query, raw, dict(self.headers.items())
            )
        elif parts.path.startswith("/response/"):
            status, headers, payload = fake._response_url(parts.path[len("/response/") :], raw)
        else:
            status, headers, payload = 404, {}, {"ok": False, "error": "not_found"}
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


_JSON_ARGS = ("blocks", "view", "attachments", "metadata")
_EXTRA_REQUIRED: dict[str, list[tuple[str, ...]]] = {
    # Each tuple: at least one of these arguments must be present.
    "users.info": [("user",)],
    "conversations.open": [("users", "channel")],
    "views.update": [("view",), ("view_id", "external_id")],
}
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(\w+)(?:\^[^|>]*)?(?:\|([^>]*))?>")
_LINK = re.compile(r"<([^@#!|>][^|>]*)(?:\|([^>]*))?>")


def _load_required_args() -> dict[str, list[str]]:
    text = resources.files("bot").joinpath("slack_required_args.json").read_text("utf-8")
    return {k: list(v) for k, v in json.loads(text).items()}


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------


class FakeSlack:
    """An in-process HTTP fake of Slack's Web API (see the module docstring).

    Use as a context manager, or call :meth:`start`/:meth:`stop`. Point a
    ``slack_sdk.WebClient(base_url=fake.url, token=fake.token)`` at it.
    """

    def __init__(
        self,
        token: str = "xoxb-fake",
        team_id: str = "T0FAKE",
        *,
        bot_name: str = "jitbot",
        bot_user_id: str = "U0JITBOT",
        bot_id: str = "B0JITBOT",
        app_id: str = "A0JITBOT",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.bot_name = bot_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        #: Monotonic clock used for trigger-id expiry; tests may replace it.
        self.clock = clock
        self._required = _load_required_args()
        self._lock = threading.RLock()
        #: notified whenever a user's latest modal changes (see :meth:`wait_for_modal`)
        self._modal_changed = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._users: dict[str, SlackUserRecord] = {}
        self._dm_of_user: dict[str, str] = {}
        self._user_of_dm: dict[str, str] = {}
        self._messages: list[Message] = []
        self._by_key: dict[tuple[str, str], Message] = {}
        self._ephemerals: list[Ephemeral] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._external_ids: dict[str, str] = {}
        self._stacks: dict[str, list[str]] = {}
        self._latest_modal: dict[str, str] = {}
        self._homes: dict[str, str] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._down: _Failure | None = None
        self._calls: list[Call] = []
        self._transcript: list[str] = []
        self._listeners: list[Callable[[str], None]] = []
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._last_ts_us = 0
        self._users[bot_user_id] = SlackUserRecord(
            bot_user_id, None, bot_name, is_bot=True, name=bot_name
        )
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Start serving on 127.0.0.1 and a free port (idempotent)."""
        if self._server is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.fake = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, args=(0.05,), name="FakeSlack", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>`` (the server must be started)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """Web API base URL, for ``WebClient(base_url=...)``."""
        return f"{self.base}/api/"

    # ---- directory ---------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        email: str | None,
        real_name: str,
        tz: str = "UTC",
        is_bot: bool = False,
    ) -> SlackUserRecord:
        """Add (or replace) a person in the workspace. ``name`` is the email's local part."""
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        name = (email.split("@", 1)[0] if email else real_name.replace(" ", ".")).lower()
        user = SlackUserRecord(user_id, email, real_name, tz, is_bot, name)
        with self._lock:
            self._users[user_id] = user
        return user

    @property
    def users(self) -> dict[str, SlackUserRecord]:
        """The directory (including the bot's own user), by user id."""
        with self._lock:
            return dict(self._users)

    def user_name(self, user_id: str) -> str:
        """A user's handle (``alice``), or the id itself when unknown."""
        user = self._users.get(user_id)
        return user.name if user else user_id

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel id with ``user_id`` (stable; opened on first use)."""
        with self._lock:
            if user_id not in self._users:
                raise KeyError(f"unknown user {user_id}")
            channel = self._dm_of_user.get(user_id)
            if channel is None:
                channel = "D" + (user_id[1:] if user_id[:1] in "UW" else user_id)
                while channel in self._user_of_dm:
                    channel += "X"
                self._dm_of_user[user_id] = channel
                self._user_of_dm[channel] = user_id
            return channel

    def dm_owner(self, channel: str) -> str | None:
        """The user whose DM with the bot ``channel`` is, or None."""
        with self._lock:
            return self._user_of_dm.get(channel)

    # ---- triggers and failure injection --------------------------------------------

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """Issue a trigger id (valid for 3 s of :attr:`clock`, usable once)."""
        with self._lock:
            trigger = (
                f"{next(self._ids)}.{abs(hash(self.team_id)) % 10**12}.{secrets.token_hex(16)}"
            )
            self._triggers[trigger] = _Trigger(self.clock(), user_id)
            return trigger

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail.

        With ``error``: HTTP 200 ``{"ok": false, "error": error}``. Otherwise HTTP ``status``:
        429 carries ``Retry-After: retry_after`` and ``error: ratelimited``; 5xx ``fatal_error``.
        """
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            for _ in range(times):
                queue.append(_Failure(status, error, retry_after))

    def go_down(self, *, status: int = 503, retry_after: int = 1) -> None:
        """Slack's API is down: every Web API call answers HTTP ``status`` (429 with
        ``Retry-After: retry_after``) until :meth:`come_back`."""
        with self._lock:
            self._down = _Failure(status, None, retry_after)
        self.log(f"[slack] the Web API is down (HTTP {status})")

    def come_back(self) -> None:
        """End an outage started by :meth:`go_down`."""
        with self._lock:
            self._down = None
        self.log("[slack] the Web API is back")

    # ---- recording and queries ---------------------------------------------------

    def on_event(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(line)`` for every new transcript line, as it happens."""
        with self._lock:
            self._listeners.append(callback)

    def log(self, line: str) -> None:
        """Append a line to the transcript (used by the simulated Slack client too)."""
        with self._lock:
            self._transcript.append(line)
            listeners = list(self._listeners)
        for callback in listeners:
            # A printing callback must not break the fake.
            with contextlib.suppress(Exception):
                callback(line)

    def transcript(self) -> list[str]:
        """Everything that happened, in order, one human-readable line each."""
        with self._lock:
            return list(self._transcript)

    @property
    def calls(self) -> list[Call]:
        """Every Web API call answered, in order."""
        with self._lock:
            return list(self._calls)

    def last_call_at(self) -> float | None:
        """``time.time()`` when the latest Web API call was answered (None: no call yet)."""
        with self._lock:
            return self._calls[-1].at if self._calls else None

    def calls_to(self, method: str) -> list[Call]:
        """The calls made to one method."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    @property
    def messages(self) -> list[Message]:
        """All messages the bot posted (live objects), in order."""
        with self._lock:
            return list(self._messages)

    def message(self, channel: str, ts: str) -> Message | None:
        """A message by channel (or user id, meaning their DM) and ts."""
        with self._lock:
            if channel in self._dm_of_user:
                channel = self._dm_of_user[channel]
            return self._by_key.get((channel, ts))

    def thread(self, channel: str, ts: str) -> list[Message]:
        """``[root, replies...]`` of the thread rooted at ``ts`` (empty if no such message)."""
        with self._lock:
            root = self.message(channel, ts)
            if root is None:
                return []
            replies = [
                m for m in self._messages if m.channel == root.channel and m.thread_ts == root.ts
            ]
            return [root, *replies]

    def dm_messages(self, user_id: str) -> list[Message]:
        """Root (non-reply) messages in the bot's DM with ``user_id``."""
        with self._lock:
            return [m for m in self._messages if m.user_id_of_dm == user_id and m.thread_ts is None]

    def ephemerals(self, user_id: str) -> list[Ephemeral]:
        """Ephemeral messages shown to ``user_id``."""
        with self._lock:
            return [e for e in self._ephemerals if e.user == user_id]

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Snapshot of every view by id (modals and homes), each with ``user_id``."""
        with self._lock:
            return copy.deepcopy(self._views)

    def view(self, view_id: str) -> dict[str, Any] | None:
        """Snapshot of one view, or None."""
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found else None

    def latest_view(self, user_id: str) -> dict[str, Any] | None:
        """The modal most recently opened, pushed or updated for ``user_id`` (even if closed)."""
        with self._lock:
            view_id = self._latest_modal.get(user_id)
            return self.view(view_id) if view_id else None

    def latest_view_id(self, user_id: str) -> str | None:
        """Id of the view :meth:`latest_view` would return (no copy), or None."""
        with self._lock:
            return self._latest_modal.get(user_id)

    def wait_for_modal(self, user_id: str, other_than: str | None, timeout: float) -> str | None:
        """Block until ``user_id``'s latest modal (opened, pushed or updated) is a view
        other than ``other_than``; its id, or None after ``timeout`` seconds. Woken by
        each change instead of polling, so many waiters cost the server nothing."""
        with self._modal_changed:
            found = self._modal_changed.wait_for(
                lambda: self._latest_modal.get(user_id) not in (None, other_than), timeout
            )
            return self._latest_modal.get(user_id) if found else None

    def open_modals(self, user_id: str) -> list[dict[str, Any]]:
        """The user's open modal stack, root first (empty when no modal is open)."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._stacks.get(user_id, [])]

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view published for ``user_id``, or None."""
        with self._lock:
            view_id = self._homes.get(user_id)
            return self.view(view_id) if view_id else None

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02
    ) -> T:
        """Poll ``predicate`` until it returns something truthy, and return that.

        Raises ``TimeoutError`` (with the transcript's tail) after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                tail = "\n  ".join(self.transcript()[-15:])
                raise TimeoutError(
                    f"condition not met within {timeout}s; transcript tail:\n  {tail}"
                )
            time.sleep(interval)

    # ---- hooks for the simulated Slack client ---------------------------------------

    def register_response_url(
        self, user_id: str, channel: str, message_ts: str | None = None, *, ephemeral: bool = False
    ) -> str:
        """Issue a working ``response_url`` for an interaction by ``user_id`` in ``channel``."""
        key = secrets.token_hex(12)
        with self._lock:
            self._response_urls[key] = {
                "user_id": user_id,
                "channel": channel,
                "message_ts": message_ts,
                "ephemeral": ephemeral,
            }
        return f"{self.base}/response/{key}"

    def set_view_state(self, view_id: str, values: dict[str, Any]) -> None:
        """Store a view's client-side ``state.values`` (what the person has entered)."""
        with self._lock:
            if view_id in self._views:
                self._views[view_id]["state"] = {"values": copy.deepcopy(values)}

    def apply_view_response(self, user_id: str, view_id: str, status: int, body: str) -> list[str]:
        """Apply an app's answer to a ``view_submission`` as the Slack client would.

        Empty 200 closes the view; ``response_action`` ``errors`` keeps it open,
        ``update`` replaces it, ``push`` pushes a new view, ``clear`` closes the stack.
        Returns the problems Slack would show instead (empty when it was fine).
        """
        who = f"[modal for @{self.user_name(user_id)}]"
        if status != 200:
            problem = f"the app answered HTTP {status}; Slack shows an error in the modal"
            self.log(f"{who} {problem}")
            return [problem]
        try:
            answer = json.loads(body) if body.strip() else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            problem = "the app's answer is not a JSON object; Slack shows an error"
            self.log(f"{who} {problem}")
            return [problem]
        action = answer.get("response_action")
        with self._lock:
            current = self._views.get(view_id)
            if current is None:
                return [f"unknown view {view_id}"]
            if action is None:
                self._close(user_id, [view_id])
                self.log(f"{who} closed")
                return []
            if action == "errors":
                errors = answer.get("errors")
                input_ids = {
                    b.get("block_id")
                    for b in current.get("blocks", [])
                    if isinstance(b, dict) and b.get("type") == "input"
                }
                if not isinstance(errors, dict) or not errors:
                    return self._log_problem(who, "response_action errors needs an errors object")
                unknown = sorted(k for k in errors if k not in input_ids)
                if unknown:
                    return self._log_problem(
                        who, f"errors name blocks that are not input blocks: {unknown}"
                    )
                shown = "; ".join(f"{k}: {v}" for k, v in errors.items())
                self.log(f"{who} errors: {shown}")
                return []
            if action == "clear":
                self._close(user_id, list(self._stacks.get(user_id, [])))
                self.log(f"{who} cleared")
                return []
            if action in ("update", "push"):
                view = answer.get("view")
                problems = view_problems(view)
                if not problems and view.get("type") != "modal":
                    problems = ["[ERROR] must be modal [json-pointer:/view/type]"]
                if problems:
                    return self._log_problem(who, f"{action} refused: {'; '.join(problems)}")
                if action == "update":
                    self._replace_view(current, view)
                    self.log(f'{who} updated "{_text_of(view.get("title"))}"')
                    return []
                stack = self._stacks.setdefault(user_id, [])
                if len(stack) >= MAX_VIEW_STACK:
                    return self._log_problem(who, "push refused: push_limit_reached")
                self._new_modal(view, user_id, stack)
                self.log(f'{who} pushed "{_text_of(view.get("title"))}"')
                return []
            return self._log_problem(who, f"unknown response_action {action!r}")

    def _log_problem(self, who: str, problem: str) -> list[str]:
        self.log(f"{who} {problem}")
        return [problem]

    # ---- dispatch ------------------------------------------------------------------

    def _dispatch(
        self, method: str, query: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        lower = {k.lower(): v for k, v in headers.items()}
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        status, extra_headers = 200, {}
        try:
            if raw:
                ctype = lower.get("content-type", "")
                if "json" in ctype:
                    body = json.loads(raw.decode("utf-8"))
                    if not isinstance(body, dict):
                        raise _SlackError("invalid_json")
                    args.update(body)
                else:
                    args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            response: dict[str, Any] = {"ok": False, "error": "invalid_json"}
            return self._finish(method, args, response, 200, {})
        except _SlackError as exc:
            return self._finish(method, args, exc.payload(), 200, {})
        auth = lower.get("authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else args.get("token")
        args.pop("token", None)
        with self._lock:
            queue = self._failures.get(method)
            failure = queue.popleft() if queue else None
            if failure is None and self._down is not None:
                failure = self._down
        if failure is not None:
            if failure.error:
                response = {"ok": False, "error": failure.error}
            elif failure.status == 429:
                status, extra_headers = 429, {"Retry-After": str(failure.retry_after)}
                response = {"ok": False, "error": "ratelimited"}
            else:
                status, response = failure.status, {"ok": False, "error": "fatal_error"}
            self.log(f"[slack] {method} failed (injected): HTTP {status} {response['error']}")
            return self._finish(method, args, response, status, extra_headers)
        try:
            handler = self._methods.get(method)
            if handler is None:
                raise _SlackError("unknown_method", f"the fake does not implement {method}")
            if token != self.token:
                raise _SlackError("invalid_auth")
            self._check_required(method, args)
            self._decode_json_args(method, args)
            with self._lock:
                response = {"ok": True, **handler(args)}
        except _SlackError as exc:
            response = exc.payload()
            detail = exc.detail or "; ".join(exc.messages or [])
            self.log(f"[slack] {method} refused: {exc.error}" + (f" ({detail})" if detail else ""))
        return self._finish(method, args, response, status, extra_headers)

    def _finish(
        self,
        method: str,
        args: dict[str, Any],
        response: dict[str, Any],
        status: int,
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self._calls.append(Call(method, args, response, time.time()))
        return status, headers, response

    def _check_required(self, method: str, args: dict[str, Any]) -> None:
        for name in self._required.get(method, []):
            if not _present(args.get(name)):
                raise _SlackError("missing_argument", f"{method} requires `{name}`")
        for group in _EXTRA_REQUIRED.get(method, []):
            if not any(_present(args.get(name)) for name in group):
                names = " or ".join(f"`{n}`" for n in group)
                raise _SlackError("missing_argument", f"{method} requires {names}")
        if method == "chat.postMessage" and not any(
            _present(args.get(n)) for n in ("text", "blocks", "attachments")
        ):
            raise _SlackError(
                "no_text", "chat.postMessage requires `text`, `blocks` or `attachments`"
            )

    def _decode_json_args(self, method: str, args: dict[str, Any]) -> None:
        for name in _JSON_ARGS:
            value = args.get(name)
            if isinstance(value, str):
                try:
                    args[name] = json.loads(value) if value else None
                except ValueError as exc:
                    error = "invalid_arguments" if name == "view" else f"invalid_{name}_format"
                    if name == "blocks":
                        error = "invalid_blocks_format"
                    raise _SlackError(error, f"`{name}` is not valid JSON") from exc

    # ---- helpers -------------------------------------------------------------------

    def _next_ts(self) -> str:
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 100)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _resolve_channel(self, channel: str, *, allow_user: bool) -> str:
        if channel[:1] in ("U", "W"):
            if allow_user and channel in self._users:
                return self.dm_channel(channel)
            raise _SlackError("channel_not_found", f"no channel {channel}")
        if channel.startswith("D"):
            if channel not in self._user_of_dm:
                raise _SlackError("channel_not_found", f"no DM channel {channel}")
            return channel
        if channel[:1] in ("C", "G"):
            return channel
        raise _SlackError("channel_not_found", f"no channel {channel}")

    def _where(self, channel: str, thread_ts: str | None = None) -> str:
        user = self._user_of_dm.get(channel)
        place = f"DM @{self.user_name(user)}" if user else f"#{channel}"
        return f"{place} › thread {thread_ts}" if thread_ts else place

    def _humanize(self, text: str) -> str:
        text = _MENTION.sub(lambda m: f"@{self.user_name(m.group(1))}", text)
        text = _CHANNEL_LINK.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
        text = _SPECIAL.sub(lambda m: m.group(2) or f"@{m.group(1)}", text)
        text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
        return html.unescape(text)

    def _shown(self, text: str, blocks: Any) -> str:
        flat = blocks_to_text(blocks)
        chosen = flat if len(flat) > len(text or "") else (text or "")
        return " / ".join(
            line.strip() for line in self._humanize(chosen).splitlines() if line.strip()
        )

    def _check_blocks(self, args: dict[str, Any], surface: Surface) -> list[dict[str, Any]] | None:
        blocks = args.get("blocks")
        if blocks is None:
            return None
        if not isinstance(blocks, list):
            raise _SlackError("invalid_blocks_format", "`blocks` must be an array")
        problems = block_kit_problems(blocks, surface=surface)
        if problems:
            raise _SlackError("invalid_blocks", "; ".join(problems), problems)
        return _with_ids(blocks)

    def _check_text(self, args: dict[str, Any]) -> str:
        text = args.get("text") or ""
        if not isinstance(text, str):
            text = str(text)
        if len(text) > MAX_MESSAGE_TEXT:
            raise _SlackError(
                "msg_too_long", f"`text` is {len(text)} characters; at most {MAX_MESSAGE_TEXT}"
            )
        return text

    def message_payload(self, msg: Message) -> dict[str, Any]:
        """``msg`` as Slack's API and interaction payloads show it."""
        out: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": msg.text,
            "ts": msg.ts,
            "blocks": copy.deepcopy(msg.blocks),
        }
        if msg.thread_ts:
            out["thread_ts"] = msg.thread_ts
        if msg.attachments:
            out["attachments"] = copy.deepcopy(msg.attachments)
        if msg.metadata:
            out["metadata"] = copy.deepcopy(msg.metadata)
        return out

    def _post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None,
        attachments: Any = None,
        metadata: Any = None,
    ) -> Message:
        if thread_ts:
            parent = self._by_key.get((channel, thread_ts))
            if parent is None:
                raise _SlackError("thread_not_found", f"no message {thread_ts} in {channel}")
            thread_ts = parent.thread_ts or parent.ts
        msg = Message(
            channel=channel,
            ts=self._next_ts(),
            user_id_of_dm=self._user_of_dm.get(channel),
            text=text,
            blocks=blocks or [],
            thread_ts=thread_ts or None,
            attachments=attachments if isinstance(attachments, list) else None,
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        self._messages.append(msg)
        self._by_key[(channel, msg.ts)] = msg
        self.log(
            f"[{self._where(channel, msg.thread_ts)}] {self.bot_name}: {self._shown(text, msg.blocks)}"
        )
        return msg

    def _update(self, msg: Message, text: str | None, blocks: list[dict[str, Any]] | None) -> None:
        msg.updates.append({"text": msg.text, "blocks": msg.blocks, "at": time.time()})
        if text is not None:
            msg.text = text
        if blocks is not None:
            msg.blocks = blocks
        self.log(
            f"[{self._where(msg.channel, msg.thread_ts)}] (updated) {self._shown(msg.text, msg.blocks)}"
        )

    # ---- Web API methods -------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake-workspace.slack.com/",
            "team": "Fake Workspace",
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(args["user"])
        if user is None:
            raise _SlackError("user_not_found", f"no user {args['user']}")
        return {"user": user.api(self.team_id)}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args["email"]).lower()
        for user in self._users.values():
            if user.email and user.email.lower() == email:
                return {"user": user.api(self.team_id)}
        raise _SlackError("users_not_found", f"no user with email {email}")

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if _present(args.get("channel")):
            channel = self._resolve_channel(str(args["channel"]), allow_user=False)
            return {"no_op": True, "already_open": True, "channel": {"id": channel}}
        users = [u.strip() for u in str(args["users"]).split(",") if u.strip()]
        for user_id in users:
            if user_id not in self._users:
                raise _SlackError("user_not_found", f"no user {user_id}")
        if len(users) == 1:
            existed = users[0] in self._dm_of_user
            channel = self.dm_channel(users[0])
            return {"no_op": existed, "already_open": existed, "channel": {"id": channel}}
        digest = hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:9].upper()
        return {"no_op": False, "already_open": False, "channel": {"id": f"G{digest}"}}

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args["channel"]), allow_user=True)
        text = self._check_text(args)
        blocks = self._check_blocks(args, "message")
        attachments = args.get("attachments")
        if attachments is not None and not isinstance(attachments, list):
            raise _SlackError("invalid_attachments", "`attachments` must be an array")
        msg = self._post(
            channel, text, blocks, args.get("thread_ts"), attachments, args.get("metadata")
        )
        return {"channel": channel, "ts": msg.ts, "message": self.message_payload(msg)}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args["channel"]), allow_user=False)
        msg = self._by_key.get((channel, str(args["ts"])))
        if msg is None or msg.deleted:
            raise _SlackError("message_not_found", f"no message {args['ts']} in {channel}")
        text = self._check_text(args) if args.get("text") is not None else None
        blocks = self._check_blocks(args, "message")
        self._update(msg, text, blocks)
        return {
            "channel": channel,
            "ts": msg.ts,
            "text": msg.text,
            "message": self.message_payload(msg),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args["channel"]), allow_user=True)
        user = str(args["user"])
        if user not in self._users:
            raise _SlackError("user_not_found", f"no user {user}")
        dm_user = self._user_of_dm.get(channel)
        if dm_user is not None and dm_user != user:
            raise _SlackError("user_not_in_channel", f"{user} is not in {channel}")
        text = self._check_text(args)
        blocks = self._check_blocks(args, "message") or []
        if not text and not blocks and not args.get("attachments"):
            raise _SlackError("no_text", "chat.postEphemeral requires `text` or `blocks`")
        eph = Ephemeral(channel, user, text, blocks, self._next_ts(), args.get("thread_ts"))
        self._ephemerals.append(eph)
        self.log(f"[ephemeral to @{self.user_name(user)}] {self._shown(text, blocks)}")
        return {"message_ts": eph.message_ts}

    # ---- views -------------------------------------------------------------------

    def _take_trigger(self, trigger_id: str) -> _Trigger:
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise _SlackError("invalid_trigger_id", "the fake never issued this trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise _SlackError("expired_trigger_id", "trigger_id is older than 3 seconds")
        if trigger.used:
            raise _SlackError("exchanged_trigger_id", "trigger_id was already used")
        trigger.used = True
        return trigger

    def _check_view(self, view: Any, kind: str) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise _SlackError("invalid_arguments", "`view` must be an object")
        if view.get("type") != kind:
            raise _SlackError(
                "invalid_arguments",
                f"view type must be {kind}",
                [f"[ERROR] must be {kind} [json-pointer:/view/type]"],
            )
        problems = view_problems(view)
        if problems:
            raise _SlackError("invalid_arguments", "; ".join(problems), problems)
        return view

    def _view_record(self, view: dict[str, Any], view_id: str, user_id: str | None) -> dict:
        record: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": _with_ids(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata") or "",
            "callback_id": view.get("callback_id") or "",
            "external_id": view.get("external_id") or "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            "user_id": user_id,
        }
        for key in ("title", "submit", "close"):
            if view.get(key) is not None:
                record[key] = copy.deepcopy(view[key])
        return record

    def _register_external_id(self, record: dict[str, Any]) -> None:
        external = record.get("external_id")
        if external:
            owner = self._external_ids.get(external)
            if owner is not None and owner != record["id"]:
                raise _SlackError("duplicate_external_id", f"external_id {external!r} is in use")
            self._external_ids[external] = record["id"]

    def _new_view_id(self) -> str:
        return f"V{next(self._ids):08X}"

    def _new_modal(self, view: dict[str, Any], user_id: str | None, stack: list[str]) -> dict:
        record = self._view_record(view, self._new_view_id(), user_id)
        self._register_external_id(record)
        if stack:
            record["previous_view_id"] = stack[-1]
            record["root_view_id"] = stack[0]
        stack.append(record["id"])
        self._views[record["id"]] = record
        if user_id:
            with self._modal_changed:
                self._latest_modal[user_id] = record["id"]
                self._modal_changed.notify_all()
        return record

    def _replace_view(self, current: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
        record = self._view_record(view, current["id"], current["user_id"])
        record["previous_view_id"] = current["previous_view_id"]
        record["root_view_id"] = current["root_view_id"]
        if current.get("external_id") and not record["external_id"]:
            record["external_id"] = current["external_id"]
        self._register_external_id(record)
        record["state"] = {"values": _prune_state(current.get("state"), record["blocks"])}
        self._views[current["id"]] = record
        if record["type"] == "modal" and record["user_id"]:
            with self._modal_changed:
                self._latest_modal[record["user_id"]] = record["id"]
                self._modal_changed.notify_all()
        return record

    def _close(self, user_id: str, view_ids: list[str]) -> None:
        stack = self._stacks.get(user_id, [])
        self._stacks[user_id] = [v for v in stack if v not in view_ids]

    @staticmethod
    def _view_api(record: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(record)
        out.pop("user_id", None)
        return out

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(args["view"], "modal")
        trigger = self._take_trigger(str(args["trigger_id"]))
        stack: list[str] = []
        record = self._new_modal(view, trigger.user_id, stack)
        if trigger.user_id:
            self._stacks[trigger.user_id] = stack
        who = f"@{self.user_name(trigger.user_id)}" if trigger.user_id else "someone"
        self.log(f'[modal for {who}] opened "{_text_of(view.get("title"))}"')
        return {"view": self._view_api(record)}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(args["view"], "modal")
        trigger = self._take_trigger(str(args["trigger_id"]))
        stack = self._stacks.setdefault(trigger.user_id or "", [])
        if len(stack) >= MAX_VIEW_STACK:
            raise _SlackError("push_limit_reached", f"at most {MAX_VIEW_STACK} views in a stack")
        record = self._new_modal(view, trigger.user_id, stack)
        who = f"@{self.user_name(trigger.user_id)}" if trigger.user_id else "someone"
        self.log(f'[modal for {who}] pushed "{_text_of(view.get("title"))}"')
        return {"view": self._view_api(record)}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id") or self._external_ids.get(str(args.get("external_id")))
        current = self._views.get(str(view_id)) if view_id else None
        if current is None:
            raise _SlackError("not_found", "no view with that view_id/external_id")
        expected = args.get("hash")
        if _present(expected) and expected != current["hash"]:
            raise _SlackError("hash_conflict", "the view changed since that hash")
        view = self._check_view(args["view"], current["type"])
        record = self._replace_view(current, view)
        owner = f"@{self.user_name(record['user_id'])}" if record["user_id"] else "someone"
        if record["type"] == "home":
            self.log(f"[home for {owner}] updated: {self._shown('', record['blocks'])}")
        else:
            self.log(f'[modal for {owner}] updated "{_text_of(view.get("title"))}"')
        return {"view": self._view_api(record)}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args["user_id"])
        if user_id not in self._users:
            raise _SlackError("user_not_found", f"no user {user_id}")
        view = self._check_view(args["view"], "home")
        current_id = self._homes.get(user_id)
        expected = args.get("hash")
        if current_id and _present(expected) and expected != self._views[current_id]["hash"]:
            raise _SlackError("hash_conflict", "the home view changed since that hash")
        if current_id:
            record = self._replace_view(self._views[current_id], view)
        else:
            record = self._view_record(view, self._new_view_id(), user_id)
            self._register_external_id(record)
            self._views[record["id"]] = record
            self._homes[user_id] = record["id"]
        self.log(
            f"[home for @{self.user_name(user_id)}] published: {self._shown('', record['blocks'])}"
        )
        return {"view": self._view_api(record)}

    # ---- response_url --------------------------------------------------------------

    def _response_url(self, key: str, raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            context = self._response_urls.get(key)
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except ValueError:
            body = None
        if context is None or not isinstance(body, dict):
            return 404 if context is None else 400, {}, {"ok": False, "error": "invalid_payload"}
        try:
            with self._lock:
                result = self._respond(context, body)
        except _SlackError as exc:
            self.log(f"[slack] response_url refused: {exc.error} ({exc.detail or ''})")
            result = exc.payload()
        self._finish("response_url", body, result, 200 if result.get("ok") else 400, {})
        return 200 if result.get("ok") else 400, {}, result

    def _respond(self, context: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        blocks = body.get("blocks")
        if blocks is not None:
            problems = block_kit_problems(blocks, surface="message")
            if problems:
                raise _SlackError("invalid_blocks", "; ".join(problems), problems)
            blocks = _with_ids(blocks)
        text = self._check_text(body)
        channel, ts = context["channel"], context.get("message_ts")
        msg = self._by_key.get((channel, ts)) if ts else None
        if body.get("delete_original") and msg is not None:
            msg.deleted = True
            self.log(
                f"[{self._where(channel, msg.thread_ts)}] (deleted) {self._shown(msg.text, msg.blocks)}"
            )
            return {"ok": True}
        if body.get("replace_original") and msg is not None:
            self._update(msg, text if body.get("text") is not None else None, blocks)
            return {"ok": True}
        if body.get("response_type") == "in_channel":
            self._post(channel, text, blocks, body.get("thread_ts"))
            return {"ok": True}
        user = context["user_id"]
        eph = Ephemeral(channel, user, text, blocks or [], self._next_ts(), body.get("thread_ts"))
        self._ephemerals.append(eph)
        self.log(f"[ephemeral to @{self.user_name(user)}] {self._shown(text, eph.blocks)}")
        return {"ok": True}


def _with_ids(blocks: list[Any]) -> list[dict[str, Any]]:
    """Copy ``blocks``, giving blocks and interactive elements ids as Slack does."""
    out = copy.deepcopy(blocks)
    for index, block in enumerate(out):
        if not isinstance(block, dict):
            continue
        if "block_id" not in block:
            digest = hashlib.sha1(json.dumps(block, sort_keys=True).encode()).hexdigest()
            block["block_id"] = f"{digest[:4]}{index}"
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        for position, el in enumerate(elements):
            if isinstance(el, dict) and el.get("type") != "image" and "action_id" not in el:
                digest = hashlib.sha1(json.dumps(el, sort_keys=True).encode()).hexdigest()
                el["action_id"] = f"{digest[:4]}{position}"
    return out


def _prune_state(state: Any, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep entered values whose block_id/action_id still exist after a view update."""
    values = state.get("values", {}) if isinstance(state, dict) else {}
    present: dict[str, set[str]] = {}
    for block in blocks:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        present[block.get("block_id", "")] = {
            e.get("action_id", "") for e in elements if isinstance(e, dict)
        }
    kept: dict[str, Any] = {}
    for block_id, entries in values.items():
        if block_id in present and isinstance(entries, dict):
            mine = {a: v for a, v in entries.items() if a in present[block_id]}
            if mine:
                kept[block_id] = copy.deepcopy(mine)
    return kept
