"""What ``jitbot demo`` shows and waits for: the printer of steps, of the Slack
conversation as it happens and of the AWS state, and the conditions the demo polls for
(a modal with a given block, an approval DM, a reply in a thread).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from bot import ids
from sim.aws_world import DemoWorld, assignments
from sim.fake_slack import FakeSlack, Message
from sim.people import SlackUser

__all__ = [
    "Printer",
    "callback_view",
    "fresh_modal",
    "request_id",
    "root_with_buttons",
    "thread_says",
    "wait_for",
    "with_block",
]

T = TypeVar("T")


class Printer:
    """Prints steps, the Slack conversation as it happens, and the AWS state."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def line(self, text: str = "") -> None:
        """Print one line (thread-safe, flushed)."""
        with self.lock:
            print(text, file=self.out, flush=True)

    def step(self, title: str) -> None:
        """Print a step's title as a rule across the page."""
        self.line(f"\n── {title} " + "─" * max(0, 70 - len(title)))

    def slack(self, text: str) -> None:
        """Print a transcript line, with the seconds since the demo started."""
        elapsed = time.monotonic() - self.started
        for i, part in enumerate(text.splitlines() or [""]):
            self.line(f"  {elapsed:5.1f}s │ {part}" if i == 0 else f"         │   {part}")

    def aws(self, world: DemoWorld) -> None:
        """Print the account assignments in ``world`` now."""
        current = assignments(world)
        if not current:
            self.line("  AWS    │ account assignments: none")
        for account, permission_set, email in current:
            self.line(f"  AWS    │ account assignment: {email} → {permission_set} on {account}")


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 15.0) -> T:
    """Poll ``check`` every 50 ms until it is truthy and return it.

    :raises TimeoutError: not within ``timeout`` seconds (``what`` names it).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError(f"demo: timed out waiting for {what}")


def request_id(message: Message) -> str:
    """The request id on the Approve button of ``message``.

    :raises LookupError: no Approve button.
    """
    for block in message.blocks or []:
        for element in block.get("elements", []):
            if element.get("action_id") == ids.ACTION_APPROVE:
                return str(element["value"])
    raise LookupError("no Approve button")


def with_block(view: dict[str, Any] | None, block_id: str) -> dict[str, Any] | None:
    """``view`` if it has a block ``block_id``, else None."""
    if view and any(b.get("block_id") == block_id for b in view.get("blocks", [])):
        return view
    return None


def callback_view(user: SlackUser, callback_id: str) -> dict[str, Any] | None:
    """``user``'s latest modal if its ``callback_id`` is ``callback_id``, else None."""
    view = user.latest_view()
    return view if view and view.get("callback_id") == callback_id else None


def fresh_modal(user: SlackUser, old: dict[str, Any]) -> dict[str, Any] | None:
    """``user``'s latest modal if it is not ``old``, else None."""
    view = user.latest_view()
    return view if view and view["id"] != old["id"] else None


def root_with_buttons(fake: FakeSlack, user: SlackUser) -> Message | None:
    """The latest DM to ``user`` with an Approve button, or None."""
    for message in reversed(fake.dm_messages(user.user_id)):
        for block in message.blocks or []:
            for element in block.get("elements", []):
                if element.get("action_id") == ids.ACTION_APPROVE:
                    return message
    return None


def thread_says(fake: FakeSlack, user: SlackUser, words: str) -> bool:
    """Whether a thread reply in ``user``'s DMs contains ``words``."""
    roots = fake.dm_messages(user.user_id)
    return any(
        words in reply.text for root in roots for reply in fake.thread(root.channel, root.ts)[1:]
    )
