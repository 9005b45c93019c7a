"""``GET /metrics`` in Prometheus's text format (with ``prometheus_client``).

Read from the database at each scrape, so every replica reports the same totals:

* ``jitbot_requests{status}``: requests by status (``pending``, ``active``...);
* ``jitbot_outbox_backlog``: Slack notices waiting to be delivered, and
  ``jitbot_outbox_oldest_age_seconds``: how long the oldest has waited;
* ``jitbot_oldest_overdue_session_seconds``: how far past its end the most overdue
  active session is (0 when none is): above a few seconds, access is not ending on time.

Measured in this replica:

* ``jitbot_grant_seconds`` / ``jitbot_revoke_seconds``: histograms of the AWS part of a
  grant (account assignment created and confirmed) and of a revoke (deleted and
  confirmed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from workflows.runtime_ports import OperationCounts
from workflows.states import Status

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRICS_PATH = "/metrics"
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)


class _StoreCollector(Collector):
    def __init__(self, store: OperationCounts, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        by_status = GaugeMetricFamily(
            "jitbot_requests", "Access requests by status.", labels=["status"]
        )
        counts = self._store.status_counts()
        for status in Status:
            by_status.add_metric([status.value], counts.get(status, 0))
        yield by_status
        backlog, oldest = self._store.outbox_backlog()
        yield GaugeMetricFamily(
            "jitbot_outbox_backlog", "Slack notices waiting in the outbox.", value=backlog
        )
        yield GaugeMetricFamily(
            "jitbot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered Slack notice (0 when none).",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        overdue = self._store.oldest_overdue_session(now)
        yield GaugeMetricFamily(
            "jitbot_oldest_overdue_session_seconds",
            "How far past its end the most overdue active session is (0 when none).",
            value=max(0.0, (now - overdue).total_seconds()) if overdue else 0.0,
        )


class Metrics:
    """This replica's metrics registry; :meth:`observe` is the services' timing hook."""

    def __init__(self, store: OperationCounts, clock: Callable[[], datetime]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_StoreCollector(store, clock))
        self._histograms = {
            "grant": Histogram(
                "jitbot_grant_seconds",
                "AWS time to create and confirm an account assignment.",
                buckets=_BUCKETS,
                registry=self.registry,
            ),
            "revoke": Histogram(
                "jitbot_revoke_seconds",
                "AWS time to delete and confirm an account assignment.",
                buckets=_BUCKETS,
                registry=self.registry,
            ),
        }

    def observe(self, what: str, seconds: float) -> None:
        """Record one ``grant`` or ``revoke`` taking ``seconds``."""
        histogram = self._histograms.get(what)
        if histogram is not None:
            histogram.observe(seconds)

    def render(self) -> bytes:
        """The metrics in Prometheus's text exposition format."""
        return generate_latest(self.registry)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def metrics_app(render: Callable[[], bytes]) -> WsgiApp:
    """A WSGI app answering ``GET``/``HEAD`` :data:`METRICS_PATH` with ``render()`` (the
    Prometheus text, :meth:`Metrics.render`), and 404 to anything else; mounted on the
    Slack port (:func:`bot.http.make_wsgi_app`) or on a port of its own
    (:func:`bot.http.make_metrics_server`)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == METRICS_PATH and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            payload = render()
            start_response(
                "200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(payload)))]
            )
            return [payload]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app
