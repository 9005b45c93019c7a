"""Reloading the config while serving (``SIGHUP``, or ``jitbot reload`` through the
database for every replica), without dropping work in flight.

Every part of the runtime reads the config it was built with (frozen pydantic models,
the rule book's index, the people bound to it), so a reload builds a whole new
:class:`~bot.runtime.Runtime` from the new file, sharing the running one's store, AWS
adapter (one client-side rate limit for Identity Center) and metrics, then swaps it in
at once: the next Slack request goes to the new Bolt app. The old runtime then finishes
what it had started (a grant after an Approve, a sweep, an outbox round) and stops, as
on a clean exit, while the new one serves; the two claim work through leases, as two
replicas do. Nothing changes when the new config fails: a file that does not parse or
validate, access rules naming a group, user group or OU that does not exist
(:func:`bot.checks_rules.rule_problems`), a catalog AWS cannot build, or a changed
``identity_center`` (a different instance or rate limit: that needs a restart). Each
outcome is one log line and one audit event (:data:`RELOADED`, :data:`REFUSED`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.checks_rules import rule_problems
from bot.settings import Settings
from workflows.config import Config, ConfigError, parse_config

if TYPE_CHECKING:
    from bot.runtime import Runtime

__all__ = ["REFUSED", "RELOADED", "LiveRuntime", "Outcome", "Reloader"]

log = logging.getLogger("jitbot")

#: audit actions of a reload's outcome; ``detail``: ``replica``, ``trigger``, ``file``,
#: ``sha256`` of the file read, ``generation`` (for ``jitbot reload``), ``reason``
RELOADED = "config_reloaded"
REFUSED = "config_reload_refused"
#: seconds between looks at the database for a ``jitbot reload``
POLL_SECONDS = 2.0
#: seconds the old runtime is kept after the swap before it is closed: a Slack request
#: dispatched to its app just before the swap still hands its work to its pools
GRACE_SECONDS = 5.0


class LiveRuntime:
    """The runtime in force, for the servers to read at each request: attribute reads go
    to :attr:`current`, which :meth:`swap` replaces whole (one reference assignment, so a
    request sees the old runtime or the new one, never a mix)."""

    def __init__(self, runtime: Runtime) -> None:
        self.current = runtime

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)

    def swap(self, runtime: Runtime) -> Runtime:
        """Put ``runtime`` in force; returns the one it replaced."""
        old, self.current = self.current, runtime
        return old


@dataclass(frozen=True)
class Outcome:
    """What a reload came to: ``ok``, and the reason it was refused (``""`` when not)."""

    ok: bool
    reason: str = ""


class Reloader:
    """Reloads the config of ``settings.jitbot_config`` into ``live`` when asked
    (:meth:`request`, from the SIGHUP handler) or when the database has a newer
    ``jitbot reload`` than it has seen, in a thread of its own (:meth:`start`).

    ``build`` is :func:`bot.runtime.build_runtime`; ``on_swap`` is told each new runtime
    once it is in force (Socket Mode points its handler at the new app); ``on_closed``
    runs after a replaced runtime finished its work and stopped.
    """

    def __init__(
        self,
        settings: Settings,
        live: LiveRuntime,
        build: Callable[..., Runtime],
        *,
        on_swap: Callable[[Runtime], None] = lambda _rt: None,
        on_closed: Callable[[], None] = lambda: None,
        poll: float = POLL_SECONDS,
        grace: float = GRACE_SECONDS,
    ) -> None:
        self._settings = settings
        self._live = live
        self._build = build
        self._on_swap = on_swap
        self._on_closed = on_closed
        self._poll = poll
        self._grace = grace
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._seen = live.current.store.latest_reload()
        self._thread: threading.Thread | None = None
        self._closing: list[threading.Thread] = []

    def request(self) -> None:
        """Ask for a reload (safe in a signal handler: it only sets an event)."""
        self._wanted.set()

    def start(self) -> None:
        """Watch for :meth:`request` and for ``jitbot reload`` in a daemon thread."""
        self._thread = threading.Thread(target=self._watch, name="jitbot-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; wait for a reload in progress and for old runtimes closing."""
        self._stopped.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        for thread in self._closing:
            thread.join(timeout=60)

    def _watch(self) -> None:
        while not self._stopped.is_set():
            signalled = self._wanted.wait(self._poll)
            if self._stopped.is_set():
                return
            if signalled:
                self._wanted.clear()
                self.reload("SIGHUP")
            try:
                latest = self._live.current.store.latest_reload()
            except Exception:  # the database is away: the next look tries again
                log.warning("config reload: could not read the database", exc_info=True)
                continue
            if latest > self._seen:
                self._seen = latest
                self.reload("jitbot reload", generation=latest)

    def reload(self, trigger: str, generation: int | None = None) -> Outcome:
        """Re-read the config file and put a runtime built on it in force, or refuse and
        keep the old one; logged and audited either way. Never raises."""
        with self._lock:
            old = self._live.current
            path = self._settings.jitbot_config
            detail: dict[str, Any] = {"trigger": trigger, "file": str(path)}
            if generation is not None:
                detail["generation"] = generation
            try:
                data = path.read_bytes()
                detail["sha256"] = hashlib.sha256(data).hexdigest()
                new = self._built(old, parse_config(data.decode("utf-8"), str(path)))
            except _Refused as exc:
                return self._refused(old, detail, str(exc))
            except ConfigError as exc:
                return self._refused(old, detail, f"invalid config:\n{exc}")
            except (OSError, UnicodeDecodeError) as exc:
                return self._refused(old, detail, f"cannot read the config: {exc}")
            except Exception as exc:  # building it failed (AWS, Slack): the old stays
                log.exception("config reload: building the new runtime failed")
                return self._refused(old, detail, f"{type(exc).__name__}: {exc}")
            new.timekeeper.start()
            self._live.swap(new)
            self._on_swap(new)
            self._close_later(old)
            self._audit(old, RELOADED, detail)
            log.info(
                "config reloaded from %s (%s, sha256 %s)", path, trigger, detail["sha256"][:12]
            )
            return Outcome(True)

    def _built(self, old: Runtime, config: Config) -> Runtime:
        if config.identity_center != old.config.identity_center:
            raise _Refused("identity_center changed: restart jitbot to apply it")
        if config.access_rules:
            problems = rule_problems(config, old.aws, old.client)
            if problems:
                raise _Refused("access rules refer to what does not exist:\n" + "\n".join(problems))
        return self._build(
            self._settings, config, aws=old.aws, store=old.store, metrics=old.metrics
        )

    def _refused(self, old: Runtime, detail: dict[str, Any], reason: str) -> Outcome:
        log.error("config reload refused, the config in force stays: %s", reason)
        self._audit(old, REFUSED, {**detail, "reason": reason})
        return Outcome(False, reason)

    def _audit(self, old: Runtime, action: str, detail: dict[str, Any]) -> None:
        replica = old.services.holder
        try:
            old.store.audit(
                None, f"jitbot:{replica}", action, datetime.now(UTC), {**detail, "replica": replica}
            )
        except Exception:
            log.exception("config reload: could not audit %s", action)

    def _close_later(self, old: Runtime) -> None:
        def close() -> None:
            time.sleep(self._grace)
            log.info("config reload: finishing the old runtime's work in progress")
            old.close()
            self._on_closed()

        thread = threading.Thread(target=close, name="jitbot-reload-close", daemon=True)
        thread.start()
        self._closing.append(thread)


class _Refused(Exception):
    """A new config that must not be put in force (the message says why)."""
