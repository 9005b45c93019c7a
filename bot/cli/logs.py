"""Logging for the ``jitbot`` commands: plain text, or one JSON object a line
(``JITBOT_LOG_FORMAT=json``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.settings import Settings


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``ts`` (ISO 8601 UTC), ``level``, ``logger``, ``message``,
    and ``exc`` when there is a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_logging(verbose: bool = False) -> None:
    """Root logging at INFO (DEBUG when ``verbose``), in the format the settings ask for;
    the chatty libraries (botocore, urllib3, APScheduler, waitress) at WARNING."""
    handler = logging.StreamHandler()
    if Settings().jitbot_log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    for noisy in ("botocore", "urllib3", "apscheduler", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
