"""``bot.listeners.common.guarded`` on its own: what Slack is answered and where the work
runs, with a real thread pool and a recording stand-in for Bolt's ``ack``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.listeners.common import guarded


class Ack:
    """Records each call, as Bolt's ``Ack`` records the answer it will send."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_first = fail_first

    def __call__(self, **options: Any) -> None:
        if self.fail_first:
            self.fail_first = False
            raise ValueError("bad options")
        self.calls.append(options)


def test_the_work_runs_in_the_pool_after_the_answer() -> None:
    pool = ThreadPoolExecutor(1)
    ran_in: list[str] = []
    done = threading.Event()

    @guarded(pool)
    def listener(ack: Any) -> Any:
        ack()
        return lambda: (ran_in.append(threading.current_thread().name), done.set())

    ack = Ack()
    listener(ack=ack)
    assert ack.calls == [{}]
    assert done.wait(5)
    assert ran_in != [threading.current_thread().name]
    pool.shutdown()


def test_a_listener_without_ack_or_whose_ack_raised_is_answered_plainly() -> None:
    pool = ThreadPoolExecutor(1)

    @guarded(pool)
    def forgets(ack: Any) -> None:
        return None

    @guarded(pool)
    def bad_options(ack: Any) -> None:
        ack(options=["not", "options"])

    for listener, ack in ((forgets, Ack()), (bad_options, Ack(fail_first=True))):
        listener(ack=ack)
        assert ack.calls == [{}]
    pool.shutdown()


def test_when_the_pool_is_shut_down_the_work_is_done_in_the_request_thread() -> None:
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    done: list[int] = []

    @guarded(pool)
    def listener(ack: Any, body: dict[str, Any]) -> Any:
        ack()
        return lambda: done.append(body["n"])

    ack = Ack()
    listener(ack=ack, body={"n": 7})
    assert ack.calls == [{}] and done == [7]
