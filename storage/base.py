"""What every per-port SQL class shares: the engine and its sessions."""

from __future__ import annotations

from sqlalchemy import Engine, Select
from sqlalchemy.orm import Session, sessionmaker

from storage import auditlog
from storage.convert import to_domain
from storage.models import RequestRow
from workflows.domain import AccessRequest


class SqlSessions:
    """The engine and a session factory whose sessions log committed audit events
    (:mod:`storage.auditlog`). Each public method of a subclass is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        auditlog.install(self._sessions)

    def _session(self) -> Session:
        return self._sessions()

    def _requests(self, query: Select[tuple[RequestRow]]) -> list[AccessRequest]:
        with self._session() as s:
            return [to_domain(row) for row in s.scalars(query)]
