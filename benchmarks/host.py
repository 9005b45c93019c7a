"""The bot under test, in a child process of its own.

The child builds the real runtime (:func:`bot.runtime.build_runtime`) on the settings it
is given, with a :class:`~benchmarks.awshooks.Probe` on its AWS clients from the start,
serves it with waitress (:func:`bot.http.make_server`) and, if asked, starts its
scheduler. The parent then runs functions inside the child by name
(``"benchmarks.expiry:make_sessions"``): each gets a :class:`Ctx` and keyword arguments
and returns something picklable. Log records of WARNING and above go to a file.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings
    from workflows.config import Config


@dataclass
class HostSpec:
    database_url: str
    config_text: str
    slack_url: str
    slack_token: str
    secret: str
    log_path: str
    http: bool = True
    scheduler: bool = False
    drop_tables: bool = False  # PostgreSQL: start from empty tables
    http_threads: int = 32  # as `jitbot serve --http` (bot.http.make_server)


@dataclass
class Ctx:
    """What a function run in the child gets."""

    rt: Any
    probe: Any
    url: str | None
    spec: HostSpec
    data: dict[str, Any] = field(default_factory=dict)


def _serve(conn: Any, spec: HostSpec) -> None:
    """In the child: build and serve the runtime ``spec`` describes, send ``("ready",
    info)`` (or ``("error", traceback)``), then answer the parent's calls."""
    logging.basicConfig(
        filename=spec.log_path,
        level=logging.WARNING,
        format="%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        from benchmarks.awshooks import Probe, install_on
        from benchmarks.common import rss_mb
        from bot.http import make_server
        from bot.runtime import build_runtime, make_identity_center, settle_heap

        if spec.drop_tables:
            _drop_tables(spec.database_url)
        config, settings = _configure(spec)
        probe = Probe()
        aws = make_identity_center(config)
        install_on(aws, probe)
        started = time.perf_counter()
        rt = build_runtime(settings, config, aws=aws)
        build_seconds = time.perf_counter() - started
        settle_heap()  # as `jitbot serve` does
        url = None
        if spec.http:
            server = make_server(rt, "127.0.0.1", 0, threads=spec.http_threads)
            threading.Thread(target=server.run, name="waitress", daemon=True).start()
            url = f"http://127.0.0.1:{server.effective_port}/slack/events"
        if spec.scheduler:
            rt.timekeeper.start()
        ctx = Ctx(rt=rt, probe=probe, url=url, spec=spec)
        conn.send(
            (
                "ready",
                {
                    "url": url,
                    "pid": os.getpid(),
                    "startup_calls": probe.counts(),
                    "build_seconds": build_seconds,
                    "rss_mb": rss_mb(),
                },
            )
        )
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    _answer_calls(conn, ctx)
    with contextlib.suppress(Exception):
        rt.timekeeper.shutdown(wait=False)


def _configure(spec: HostSpec) -> tuple[Config, Settings]:
    """The config (written next to the log as ``jitbot.yml``) and the settings."""
    from bot.settings import Settings
    from workflows.config import parse_config

    config_path = os.path.join(os.path.dirname(spec.log_path), "jitbot.yml")
    with open(config_path, "w") as f:
        f.write(spec.config_text)
    config = parse_config(spec.config_text, config_path)
    settings = Settings(
        slack_bot_token=spec.slack_token,
        slack_signing_secret=spec.secret,
        slack_api_url=spec.slack_url,
        database_url=spec.database_url,
        jitbot_config=config_path,
    )
    return config, settings


def _drop_tables(database_url: str) -> None:
    """Drop every jitbot table and Alembic's version table at ``database_url``."""
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.models import Base

    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    with engine.begin() as sql:  # or Alembic would think the schema is there
        sql.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _answer_calls(conn: Any, ctx: Ctx) -> None:
    """Run each ``(name, kwargs)`` the parent sends (``"module:function"``) with ``ctx``
    and send back ``("ok", result)`` or ``("error", traceback)``, until it sends None."""
    while True:
        message = conn.recv()
        if message is None:
            break
        name, kwargs = message
        try:
            module, _, func = name.partition(":")
            result = getattr(importlib.import_module(module), func)(ctx, **kwargs)
            conn.send(("ok", result))
        except BaseException:
            conn.send(("error", traceback.format_exc()))


class BotHost:
    """A running child process with the bot; ``call`` runs a function inside it."""

    def __init__(self, spec: HostSpec, timeout: float = 120.0) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.spec = spec
        self._process = context.Process(target=_serve, args=(child, spec), daemon=True)
        self._process.start()
        self._lock = threading.Lock()
        if not self._conn.poll(timeout):
            self.stop()
            raise TimeoutError("the bot process did not start")
        kind, info = self._conn.recv()
        if kind != "ready":
            self.stop()
            raise RuntimeError(f"the bot process failed to start:\n{info}")
        self.info: dict[str, Any] = info
        self.url: str | None = info["url"]
        self.pid: int = info["pid"]

    def call(self, name: str, timeout: float = 900.0, **kwargs: Any) -> Any:
        with self._lock:
            self._conn.send((name, kwargs))
            if not self._conn.poll(timeout):
                raise TimeoutError(f"{name} did not finish within {timeout:.0f}s")
            kind, result = self._conn.recv()
        if kind != "ok":
            raise RuntimeError(f"{name} failed in the bot process:\n{result}")
        return result

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self._conn.send(None)
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)

    def __enter__(self) -> BotHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spec_for(world: Any, name: str, **kwargs: Any) -> HostSpec:
    """A spec on ``world`` (its fake Slack and secret), SQLite in the work folder unless
    ``database_url`` is given."""
    from benchmarks.common import config_text

    folder = world.workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("database_url", f"sqlite:///{folder}/jitbot.db")
    kwargs.setdefault("config_text", config_text(world))
    return HostSpec(
        slack_url=world.fake.url,
        slack_token=world.fake.token,
        secret=world.secret,
        log_path=str(folder / "bot.log"),
        **kwargs,
    )


# ---- small functions to run in the child ---------------------------------------------


def rss(ctx: Ctx) -> dict[str, float]:
    from benchmarks.common import peak_rss_mb, rss_mb

    return {"rss_mb": rss_mb(), "peak_mb": peak_rss_mb()}


def counts(ctx: Ctx, reset: bool = False) -> dict[str, int]:
    found = ctx.probe.counts()
    if reset:
        ctx.probe.reset_counts()
    return found


def submit_pending(
    ctx: Ctx,
    people: list[tuple[str, str, str]],
    count: int,
    account: str,
    duration: str = "1h",
) -> list[int]:
    """``count`` pending requests for ReadOnlyAccess on ``account``, the requesters taken
    in turn from ``people`` (slack id, email, name), through ``Services.submit_request``
    (so the approvers get their DMs)."""
    from workflows.domain import Person
    from workflows.validation import RequestForm

    ids = []
    for i in range(count):
        slack_id, email, name = people[i % len(people)]
        form = RequestForm(account, "ReadOnlyAccess", duration, "Benchmarking jitbot: OPS-1234")
        request = ctx.rt.services.submit_request(
            Person(slack_id, email, name), form, ctx.rt.clock()
        )
        ids.append(request.id)
    return ids


def status_counts(ctx: Ctx) -> dict[str, int]:
    from workflows.states import Status

    return {s.value: len(ctx.rt.store.with_status(s)) for s in Status}
