"""The fake Slack's messaging Web API: ``auth.test``, ``users.info``,
``users.lookupByEmail``, ``conversations.open``, ``chat.postMessage``, ``chat.update`` and
``chat.postEphemeral``, answering like https://docs.slack.dev/reference/methods does.
"""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

from sim.block_ids import with_ids
from sim.blockkit import block_kit_problems
from sim.blockkit_types import Surface
from sim.slack_records import Ephemeral, Message, SlackError, present
from sim.slack_state import SlackState

__all__ = ["MAX_MESSAGE_TEXT", "ChatMethods"]

MAX_MESSAGE_TEXT = 40_000


class ChatMethods(SlackState):
    """Messages, users and conversations methods (each takes the call's arguments,
    returns the answer's fields or raises :class:`~sim.slack_records.SlackError`)."""

    def _check_blocks(self, args: dict[str, Any], surface: Surface) -> list[dict[str, Any]] | None:
        blocks = args.get("blocks")
        if blocks is None:
            return None
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format", "`blocks` must be an array")
        problems = block_kit_problems(blocks, surface=surface)
        if problems:
            raise SlackError("invalid_blocks", "; ".join(problems), problems)
        return with_ids(blocks)

    def _check_text(self, args: dict[str, Any]) -> str:
        text = args.get("text") or ""
        if not isinstance(text, str):
            text = str(text)
        if len(text) > MAX_MESSAGE_TEXT:
            raise SlackError(
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
                raise SlackError("thread_not_found", f"no message {thread_ts} in {channel}")
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
        answer = {
            "url": "https://fake-workspace.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if self.enterprise_id:
            answer["enterprise_id"] = self.enterprise_id
        return answer

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(args["user"])
        if user is None:
            raise SlackError("user_not_found", f"no user {args['user']}")
        return {"user": user.api(self.team_id, self.enterprise_id)}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args["email"]).lower()
        for user in self._users.values():
            if user.email and user.email.lower() == email:
                return {"user": user.api(self.team_id, self.enterprise_id)}
        raise SlackError("users_not_found", f"no user with email {email}")

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if present(args.get("channel")):
            channel = self._resolve_channel(str(args["channel"]), allow_user=False)
            return {"no_op": True, "already_open": True, "channel": {"id": channel}}
        users = [u.strip() for u in str(args["users"]).split(",") if u.strip()]
        for user_id in users:
            if user_id not in self._users:
                raise SlackError("user_not_found", f"no user {user_id}")
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
            raise SlackError("invalid_attachments", "`attachments` must be an array")
        msg = self._post(
            channel, text, blocks, args.get("thread_ts"), attachments, args.get("metadata")
        )
        return {"channel": channel, "ts": msg.ts, "message": self.message_payload(msg)}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(args["channel"]), allow_user=False)
        msg = self._by_key.get((channel, str(args["ts"])))
        if msg is None or msg.deleted:
            raise SlackError("message_not_found", f"no message {args['ts']} in {channel}")
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
            raise SlackError("user_not_found", f"no user {user}")
        dm_user = self._user_of_dm.get(channel)
        if dm_user is not None and dm_user != user:
            raise SlackError("user_not_in_channel", f"{user} is not in {channel}")
        text = self._check_text(args)
        blocks = self._check_blocks(args, "message") or []
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text", "chat.postEphemeral requires `text` or `blocks`")
        eph = Ephemeral(channel, user, text, blocks, self._next_ts(), args.get("thread_ts"))
        self._ephemerals.append(eph)
        self.log(f"[ephemeral to @{self.user_name(user)}] {self._shown(text, blocks)}")
        return {"message_ts": eph.message_ts}
