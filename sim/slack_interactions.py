"""What Slack does with an app's answers to interactions: the answer to a
``view_submission`` (close, ``errors``, ``update``, ``push``, ``clear``:
https://docs.slack.dev/surfaces/modals#updating_response) and messages posted to a
``response_url`` (ephemeral, ``in_channel``, ``replace_original``, ``delete_original``:
https://docs.slack.dev/interactivity/handling-user-interaction#message_responses).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sim.block_ids import with_ids
from sim.blockkit import block_kit_problems, view_problems
from sim.blocks_text import text_of
from sim.slack_chat import ChatMethods
from sim.slack_records import Ephemeral, SlackError
from sim.slack_views import MAX_VIEW_STACK, ViewStore

__all__ = ["InteractionAnswers"]


class InteractionAnswers(ViewStore, ChatMethods):
    """The fake's handling of view submission answers and ``response_url`` posts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._response_urls: dict[str, dict[str, Any]] = {}

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
                return self._show_errors(who, current, answer.get("errors"))
            if action == "clear":
                self._close(user_id, list(self._stacks.get(user_id, [])))
                self.log(f"{who} cleared")
                return []
            if action in ("update", "push"):
                return self._update_or_push(who, user_id, current, action, answer.get("view"))
            return self._log_problem(who, f"unknown response_action {action!r}")

    def apply_command_answer(self, user_id: str, channel: str, status: int, body: str) -> None:
        """Show an app's answer to a slash command as the Slack client would: a non-empty
        200 answer is a message to the person who typed it, ephemeral unless
        ``response_type`` is ``in_channel`` (plain text or JSON with ``text``/``blocks``,
        https://docs.slack.dev/interactivity/implementing-slash-commands)."""
        if status != 200 or not body.strip():
            return
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {"text": body}
        if not isinstance(answer, dict):
            answer = {"text": body}
        with self._lock:
            context = {"user_id": user_id, "channel": channel, "message_ts": None}
            try:
                self._respond(context, answer)
            except SlackError as exc:
                self.log(f"[slack] the command's answer is refused: {exc.error}")

    def _show_errors(self, who: str, current: dict[str, Any], errors: Any) -> list[str]:
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

    def _update_or_push(
        self, who: str, user_id: str, current: dict[str, Any], action: str, view: Any
    ) -> list[str]:
        problems = view_problems(view)
        if not problems and view.get("type") != "modal":
            problems = ["[ERROR] must be modal [json-pointer:/view/type]"]
        if problems:
            return self._log_problem(who, f"{action} refused: {'; '.join(problems)}")
        if action == "update":
            self._replace_view(current, view)
            self.log(f'{who} updated "{text_of(view.get("title"))}"')
            return []
        stack = self._stacks.setdefault(user_id, [])
        if len(stack) >= MAX_VIEW_STACK:
            return self._log_problem(who, "push refused: push_limit_reached")
        self._new_modal(view, user_id, stack)
        self.log(f'{who} pushed "{text_of(view.get("title"))}"')
        return []

    def _log_problem(self, who: str, problem: str) -> list[str]:
        self.log(f"{who} {problem}")
        return [problem]

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
        except SlackError as exc:
            self.log(f"[slack] response_url refused: {exc.error} ({exc.detail or ''})")
            result = exc.payload()
        self._finish("response_url", body, result, 200 if result.get("ok") else 400, {})
        return 200 if result.get("ok") else 400, {}, result

    def _respond(self, context: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        blocks = body.get("blocks")
        if blocks is not None:
            problems = block_kit_problems(blocks, surface="message")
            if problems:
                raise SlackError("invalid_blocks", "; ".join(problems), problems)
            blocks = with_ids(blocks)
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
