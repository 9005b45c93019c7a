"""The HTTP edge refuses what Slack never sends before reading it: a body over
``bot.http.MAX_BODY_BYTES`` gets 413 whether or not it is signed, so unsigned junk costs
the bot no memory; and a signed body is taken once, by whichever replica gets it first."""

from __future__ import annotations

import contextlib
import io
import resource
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import ids
from bot.http import MAX_BODY_BYTES, make_wsgi_app
from sim.aws_world import DemoWorld
from storage.store import SqlStore
from tests.bot_harness import Bot, running_bot
from tests.conftest import world_config

FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def bot(moto_world: DemoWorld, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(moto_world, tmp_path, world_config(moto_world)) as running:
        yield running


def _post_raw(bot: Bot, length: int, body: bytes) -> bytes:
    """POST ``body`` to /slack/events over a bare socket, announcing ``length`` bytes;
    the server's answer as far as it came in 10 seconds."""
    port = int(bot.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
        )
        conn.sendall(head.encode())
        answer = b""
        # the server answers 413 after the headers and may close while we still send
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(body)
        try:
            while chunk := conn.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer:
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    return answer


def test_a_5_mb_unsigned_post_gets_413_before_its_body_is_sent(bot: Bot) -> None:
    # only the headers go out: a server that waited for the body would time out
    answer = _post_raw(bot, FIVE_MB, b"")
    assert answer.split(b"\r\n")[0].split(b" ")[1] == b"413", answer[:200]


def test_many_5_mb_posts_do_not_grow_the_bot(bot: Bot) -> None:
    junk = b"x" * FIVE_MB
    before = _resident_kib()
    for _ in range(5):
        answer = _post_raw(bot, len(junk), junk)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    grown_kib = _resident_kib() - before
    # 25 MB were sent; the resident memory of the process (the bot runs in it) grew by at
    # most a few MB: the bodies were neither read nor kept
    assert grown_kib < 8 * 1024, f"grew {grown_kib} KiB"


def _resident_kib() -> int:
    """The process's resident memory now, in KiB (Linux ``/proc/self/statm``), not the
    peak, which earlier tests in this worker may already have raised."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() // 1024


class _Unreadable(io.RawIOBase):
    def read(self, *_args: Any) -> bytes:
        raise AssertionError("the body was read")


def test_the_app_refuses_a_large_or_garbled_length_without_reading(bot: Bot) -> None:
    app = make_wsgi_app(bot.rt)
    seen: list[str] = []

    def start_response(status: str, _headers: Any) -> None:
        seen.append(status)

    for length in (str(MAX_BODY_BYTES + 1), "-1", "lots"):
        environ = {
            "PATH_INFO": "/slack/events",
            "REQUEST_METHOD": "POST",
            "CONTENT_LENGTH": length,
            "wsgi.input": _Unreadable(),
        }
        app(environ, start_response)
    assert seen == ["413 Content Too Large", "400 Bad Request", "400 Bad Request"]


def test_a_replayed_signed_submission_creates_no_second_request(bot: Bot) -> None:
    alice = bot.user("alice")
    sent: list[tuple[bytes, str, str]] = []
    post = alice.post_raw

    def recording(body: bytes, content_type: str, **kwargs: Any) -> Any:
        response = post(body, content_type, **kwargs)
        sent.append((body, content_type, str(int(time.time()))))
        return response

    alice.post_raw = recording  # type: ignore[method-assign]
    view = bot.choose_account(alice, bot.open_form(alice), bot.sandbox)
    values = {
        ids.ACTION_PERMISSION_SET: "ReadOnlyAccess",
        ids.ACTION_DURATION: "1h",
        ids.ACTION_JUSTIFICATION: "Investigating failed deploys in OPS-1",
    }
    assert alice.submit(view, values).body == ""
    [request] = bot.fake.wait_for(lambda: bot.requests(alice.user_id))
    body, content_type, ts = sent[-1]  # the form's view_submission, as captured
    assert b"view_submission" in body

    # replayed at once, with the captured signature's time, and again re-signed now
    first = post(body, content_type, timestamp=ts)
    second = post(body, content_type)
    assert first.status == second.status == 200
    bot.settle()
    assert [r.id for r in bot.requests(alice.user_id)] == [request.id]


def test_a_delivery_is_taken_once_across_replicas(store: SqlStore) -> None:
    other = SqlStore(store.engine)  # a second replica on the same database
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    later = now + timedelta(minutes=6)
    assert store.remember_delivery("ab" * 32, now, later) is True
    assert other.remember_delivery("ab" * 32, now, later) is False
    # once its window has passed the digest is forgotten
    assert other.remember_delivery(
        "ab" * 32, later + timedelta(seconds=1), later + timedelta(minutes=7)
    )
